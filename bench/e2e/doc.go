// Package e2e is the end-to-end benchmark: one generated package served
// by the emulated service on loopback, fetched and installed the IME's
// way and imepipe's ways, timed side by side in one run, with the bytes
// of every run counted per source as Delivery Optimization reports them
// (BytesFromHttp, BytesFromCacheServer, BytesFromLanPeers, …).
//
// The runs:
//   - ime-sequential: what the IME does, one step after the other — one
//     HTTP stream into Content/Incoming, then the HMAC pass, the CBC
//     decryption into a staging file, the SHA-256 pass and a
//     single-threaded archive/zip extraction into IMECache (the
//     sequential-stdlib baseline of bench local, on the downloaded .bin).
//   - imepipe: an orchestrate.Agent, download mode 0, syncing the
//     required app: parallel download with verification, decryption and
//     extraction overlapping it, install, detection and report.
//   - imepipe-mcc: the same through a warm Connected Cache (peer.MCC).
//   - imepipe-lan: download mode 1 with a LAN peer that already holds the
//     content.
//
// The agent runs include the install, detection and reporting the
// baseline leaves out, so their times are upper bounds. The origin can
// be capped to emulate the internet link (Config.OriginRate); loopback
// is otherwise far faster than any WAN, which favours the baseline's
// single stream.
package e2e
