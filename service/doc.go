// Package service is the cloud side that imepipe's agents talk to: an
// emulation of the Intune endpoints the Intune Management Extension uses
// and of the Delivery Optimization peer-matching service. What goes over
// the wire (the Graph model, request and response bodies, codes) and the
// client are package imeapi's: agents import imeapi, never service.
//
// The Server loads an apps folder (one subfolder per app: a Graph
// win32LobApp app.json and one .intunewin), verifies every package (HMAC and
// FileDigest), extracts the encrypted inner file as a blob and computes its
// SHA-256 piece list once, caching both under the data folder. It then
// serves, as JSON over HTTP with bearer tokens: enrollment with a shared
// secret, policies, content info (a signed, expiring blob URL, the DO file
// id, the piece list, and DecryptInfo sealed to the device's X25519 key),
// the blobs themselves with HTTP Range, piece hash files, the DO "Array"
// (register what a peer holds, return LAN / Group / Internet peers), report
// ingestion and a status view. Enrollments, tokens, each device's last
// sync and sync properties, reports and console sessions persist in a
// store (Config.Store): bbolt in the data folder for one process, whose
// peer registrations live in memory, or PostgreSQL (migrated at start),
// which several Servers share along with the blob signing key and the
// peer registrations; registrations expire in either.
//
// Targeting follows Intune: exclusion groups beat inclusion, and an
// assignment's filter (FiltersFile, package service/filter) is evaluated
// against the device properties the agent reports at enrollment and with
// every sync. An app whose settings the agent does not implement yet
// (imeapi.Review's Unsupported) is refused unless Config.AllowUnsupported;
// CheckApps gives each app folder's verdict without serving or writing.
//
// Errors name the file, folder or store they are about and the reason in
// a few words ("apps folder X: no such folder", "store URL: cannot
// connect to H:P: connection refused"), without the package's name: they
// end up after a caller's own ("imepipe serve: ") or in the Server's log,
// whose lines are its own. AppError.Error, for Go callers, and ErrApp are
// the exceptions; a line uses AppError.Reason.
//
// The package does not download, decrypt or install anything for a device
// (that is fetch, decrypt, stage and orchestrate) and speaks no real Intune
// or Graph protocol on the wire. The Server is a plain http.Handler; for
// HTTPS the caller wraps its listener: ServerTLS generates (once, into the
// data folder) a CA and a server certificate, imeapi.ClientTLS trusts that CA,
// and generated URLs follow the connection's scheme. Peer-to-peer traffic
// (package peer) stays HTTP, as DO's own port 7680 protocol does.
package service
