// Package imeapi is the wire contract between imepipe's service and its
// agents: what both sides of the HTTP API import, as tailscale's tailcfg
// sits apart from its control server.
//
// It holds the Microsoft Graph model an app.json carries (Win32LobApp, its
// rules, return codes, install experience and assignments, with unknown
// fields kept), read the way Graph writes it (odata.go), its schema check
// (Validate), what loading leaves out or decides (Review: ignored and
// unsupported fields, warnings; loaded.go: the id of a body without one,
// a safe content version), the script installers (script.go), the effective architectures (EffectiveArchitectures), the
// relationships, install-time settings and assignment-filter references
// it models for the service to act on, the request and response
// bodies of the service API (enrollment, Policy, ContentInfo, the sealed
// DecryptInfo Envelope, PieceHashes, the DO Array, Report, Status), the
// IME and Delivery Optimization codes as types (EnforcementState,
// ComplianceState, Intent, DownloadMode, DOStatus, ReturnCodeType) that
// marshal as the IME's numbers, the identifier checks (CheckAppID,
// CheckVersion), and the typed HTTP Client with the client half of TLS
// (ClientTLS, TrustError).
//
// It does not serve anything (that is package service), download, decrypt
// or install (fetch, decrypt, stage, orchestrate), and imports nothing of
// imepipe: a peer can depend on it without pulling in the server or the
// package format.
package imeapi
