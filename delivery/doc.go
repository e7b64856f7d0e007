// Package delivery gets one app version's content onto the device, the
// one way both the agent (orchestrate) and bench fleet do it: content
// info from the service (its DoFileId checked), the DecryptInfo opened
// into keys, the piece hashes when the download strategy asks for them
// (checked against the content info's DoFileId, size and piece size), a
// started download, and the HMAC check, decryption and extraction
// following the download while the file grows. With piece hashes (the
// peer modes) the download checks every piece against its hash, and that
// check stands in for the HMAC pass (one SHA-256 pass over the bytes,
// not two); the FileDigest is checked either way.
//
// Resolve does the first two steps and Start the rest; Start returns a
// Delivery holding the download's fetch.Job and a Wait. The download
// strategy is a Downloader (origin and cache host, or DO peers); this
// package has none of its own. It does not retry, keep state,
// reuse a cached file or log: the caller decides what to do when the
// overlapped unpack did not make it (unpack the finished file, which
// decides) and what a failure means.
package delivery
