// Package fleet is the Delivery Optimization fleet benchmark: one
// service, one origin whose egress is capped (the site's internet link),
// and N minimal agents on loopback, each with its own peer port and DO
// cache, all fetching the same package at once. It reports the bytes the
// origin sent, the completion time, whether every agent's file verified
// (HMAC and FileDigest), which peers were banned, each agent's DO record,
// and the same run in mode 0 as the baseline.
//
// The agents here only download, verify and serve; installing is the
// orchestrate package's job. The reusable part of an agent's download
// is package delivery (content info, keys, piece hashes checked against
// the content info, the download, verification while it grows), the
// same step the agent runs, over peer.Start; this package wires N of them.
package fleet
