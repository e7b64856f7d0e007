// Package fetch downloads one file by pieces from one or more sources into
// a local path, resumably and with byte-exact accounting per source.
//
// A Job fills the file with WriteAt from Sources (an HTTP origin, a
// Connected-Cache-style cache host, and later peers, which implement
// Source in their own package). The file is split into fixed pieces
// (1 MiB by default, the Delivery Optimization piece size); workers take
// adaptive chunks of missing pieces, one ranged request each, over
// keep-alive connections. A journal next to the file (<file>.journal,
// written atomically) records each completed piece with its CRC-32 and
// the origin's size, ETag and Last-Modified; after a crash the recorded
// pieces are re-hashed and only missing or damaged ones are fetched. If
// the validators change the download restarts from zero rather than mix
// two versions. Pieces from peers are checked against a per-piece SHA-256
// list before they are written; a whole-file SHA-256 can be checked while
// the file grows (Job.Prefix is the contiguous completed prefix). A
// PrefixReader reads that prefix as it grows, taking each piece from the
// download's own buffer rather than from the file, and while it reads the
// download keeps within a window of it.
// Counters follow Get-DeliveryOptimizationStatus (Status).
//
// What fetch does not do: it knows nothing of .intunewin files, the
// service, or how peers are found or served; it does not decrypt or
// verify HMACs (callers follow Job.Prefix for that).
//
// Why not grab/v3: grab writes a file front to back from one response and
// resumes by appending; it never checks that a 206 carries the
// Content-Range it asked for, cannot take pieces from several sources or
// connections at once, and has no per-piece journal. Those are the
// properties this package exists for, so the transfer path is our own;
// only net/http is used underneath.
package fetch
