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
// Which peer fetches a piece from the origin: the piece's owner, chosen
// by rendezvous hashing over the peers that know each other; the others
// wait for the owner (GET …/piece/i?wait=ms) and take it over the LAN. A
// site so downloads each piece from the internet about once.
//
// What peer does not do: it does not verify whole files (the caller
// checks the HMAC with package decrypt), decrypt, install, or keep an
// agent's sync loop; it does not punch through NATs or encrypt peer
// traffic (peers are on a LAN and every piece is verified).
package peer
