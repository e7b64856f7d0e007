// Package peer is the Delivery Optimization peer layer of an agent: the
// DO cache keyed by DoFileId (Cache, DOCache/ on disk, hard-linked from
// Content/Incoming), the piece server that shares it with other peers
// over HTTP (Server), the fetch.Source over those peers (Swarm, Source),
// the download modes, and Download, which wires one DO download: peers
// of the kinds the mode allows, then a Connected Cache host, then the
// HTTP origin. It also has a minimal Connected Cache (MCC) for the
// ?cacheHostOrigin= scheme.
//
// Every piece taken from a peer is checked against its SHA-256 from the
// piece hash list before it is written; a peer that sends a bad piece is
// banned for good, one that stalls or fails for a while. The server only
// sends pieces that are complete and verified, only from the cache's own
// files, and refuses bad DoFileIds, unknown content and indexes out of
// range. Peers are found through the service's Array (package service);
// modes 0, 99 and 100 never talk to it or to a peer.
//
// Which peer fetches a piece from the origin: the one the Array assigns
// (coordinated back-to-source, coord.go): a worker that needs a piece no
// known peer holds lists it in the next Array request; the answer gives
// it to this device or names the device fetching it, and the others wait
// for it there (GET …/piece/i?wait=ms) and take it over the LAN, for DO's
// delay (Policy: DODelay…DownloadFromHttp by priority, DOMinBackgroundQos)
// before they go to the origin themselves. A site so downloads each piece
// from the internet about once. With an Array that does not coordinate,
// the owner is chosen by rendezvous hashing over the peers known.
//
// Overload: a full server answers a request 503 with Retry-After (never
// before a request); its upload slots go in turn to the peers asking
// (fair.go). A downloader keeps a busy peer as busy — not asked again
// before its Retry-After, never banned or counted against it — and asks
// the least loaded holder instead.
//
// The DO cache follows DO's cache policy (CacheOptions: DOMaxCacheAge,
// DOMaxCacheSize in percent of the disk, DOAbsoluteMaxCacheSize): files
// unused past the age, or over the size cap least recently used first,
// are removed unless pinned (SetPinned, <id>.pin). Each file's record
// (<id>.json, or <id>.record for downloads kept without content) has the
// 28 Get-DeliveryOptimizationStatus fields; Persist saves it while its
// counters change, at most once per SaveInterval, so ReadStatus in
// another process sees them live.
//
// What peer does not do: it does not verify whole files (the caller
// checks the HMAC with package decrypt), decrypt, install, or keep an
// agent's sync loop; it does not punch through NATs or encrypt peer
// traffic (peers are on a LAN and every piece is verified).
package peer
