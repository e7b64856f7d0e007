package peer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// DownloadConfig is one DO download on an agent. Info, Path and (for the
// peer modes) Hashes, Array and PeerID are required.
type DownloadConfig struct {
	// Info is the service's ContentInfo: UploadLocation (the signed
	// origin URL), DoFileId, Size, PieceSize.
	Info imeapi.ContentInfo
	// Hashes are the SHA-256 of every piece (the piece hash file).
	Hashes [][32]byte
	// Path is the download target, Content/Incoming/<appId>_<rev>.bin.
	Path string
	// Cache is the DO cache the content is linked into and served from
	// while and after it downloads; nil caches and serves nothing.
	Cache *Cache
	// Mode is DO's download mode.
	Mode imeapi.DownloadMode
	// PeerID, PeerAddr, LanID and GroupID are as in SwarmConfig.
	PeerID, PeerAddr, LanID, GroupID string
	// Array is the service's DO Array; unused by modes 0, 99 and 100.
	Array ArrayClient
	// CacheHost is a Connected Cache host (host[:port] or a URL); it is
	// tried before the origin, in every mode but 100.
	CacheHost string
	// HTTP is the client for the origin and the cache host (nil: fetch's);
	// PeerHTTP the client for peers (nil: the Swarm's).
	HTTP, PeerHTTP *http.Client
	// Options are the Job's options; FileID, DownloadMode, PieceSize and
	// PieceHashes are set from the above.
	Options fetch.Options
	// Swarm timings and limits (zero: the Swarm defaults).
	RefreshInterval, OwnerWait, StallTimeout, PeerBan time.Duration
	// Clock is the Swarm's and (unless Options has one) the Job's time
	// source (nil: the real clock).
	Clock Clock
	// Policy is DO's back-to-source policy; its Priority should match
	// Options.Priority (Download sets it from there when unset).
	Policy Policy
	Logf   func(format string, args ...any)
}

// Result is what a Download did.
type Result struct {
	fetch.Status
	// Banned are the peers banned for sending bad pieces.
	Banned []string `json:",omitempty"`
	// PeerRequests and ArrayCalls count the peer traffic (0 in modes 0,
	// 99, 100); PeerBusy the busy (503) answers among the requests.
	PeerRequests int64 `json:"-"`
	ArrayCalls   int64 `json:"-"`
	PeerBusy     int64 `json:"-"`
	// PeerDiscarded is the bytes of whole good pieces dropped after
	// another peer won an endgame race (received, not in BytesFrom…Peers).
	PeerDiscarded int64 `json:"-"`
}

// Download fetches the content of cfg.Info into cfg.Path the way
// Delivery Optimization does in cfg.Mode. Content the DO cache holds
// complete is served from it (every piece re-checked first; a copy that
// does not verify is dropped and downloaded again). Otherwise: from peers of the kinds the
// mode allows (each piece verified), then the cache host, then the
// origin, while serving the pieces it holds from the DO cache. It does
// not check the whole file; the caller verifies it (decrypt.Open).
func Download(ctx context.Context, cfg DownloadConfig) (Result, error) {
	t, err := Start(ctx, cfg)
	if err != nil {
		return Result{}, err
	}
	return t.Wait()
}

// Transfer is a started Download: its Job, readable while it grows
// (Job.NewPrefixReader), and Wait for what it did.
type Transfer struct {
	job  *fetch.Job
	ct   *Content // nil without piece hashes
	done chan struct{}
	res  Result
	err  error
}

// Job is the download's Job, or nil when nothing downloads (the content
// came whole from the DO cache).
func (t *Transfer) Job() *fetch.Job { return t.job }

// Hashed reports whether the download checks its pieces against the
// piece hashes (the peer modes): then CheckPieces can vouch for it.
func (t *Transfer) Hashed() bool { return t.ct != nil }

// CheckPieces is nil when every piece of the file has been verified here
// against its piece hash: each piece as it came (from a peer, or through
// an HTTP source, hashed as it passed), and those a resumed download
// found on disk. A piece not hashed whole on the way (received in two
// parts across a retry) is hashed from the file now. Call it once the
// Job is complete (every Fetch has returned); a piece that does not
// match is an error wrapping ErrCorrupt. Without piece hashes it always
// fails.
func (t *Transfer) CheckPieces() error {
	if t.ct == nil {
		return errors.New("peer: the download has no piece hashes")
	}
	if t.ct.Missing() > 0 {
		if err := rescan(t.ct, false); err != nil {
			return err
		}
	}
	if n := t.ct.Missing(); n > 0 {
		return fmt.Errorf("%w: %s: %d of %d pieces not verified", ErrCorrupt, t.ct.ID, n, t.ct.Pieces())
	}
	return nil
}

// Wait blocks until the download, its DO cache bookkeeping and its last
// announcement are done, and returns what it did. It may be called more
// than once.
func (t *Transfer) Wait() (Result, error) {
	<-t.done
	return t.res, t.err
}

// Start begins Download's work and returns once the Job exists and runs
// (or, for content the DO cache holds, once it is in place); ctx governs
// the whole download. An error before the Job starts is returned here.
func Start(ctx context.Context, cfg DownloadConfig) (*Transfer, error) {
	t := &Transfer{done: make(chan struct{})}
	res, run, err := start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if run == nil {
		t.res = res
		close(t.done)
		return t, nil
	}
	t.job, t.ct = run.job, run.ct
	go func() {
		defer close(t.done)
		t.res, t.err = run.wait(ctx)
	}()
	return t, nil
}

// running is a prepared Job with what its run needs afterwards.
type running struct {
	cfg DownloadConfig
	job *fetch.Job
	ct  *Content
	sw  *Swarm
}

// start prepares the Job (or serves the content from the DO cache: run nil).
func start(ctx context.Context, cfg DownloadConfig) (Result, *running, error) {
	var res Result
	if err := checkMode(cfg.Mode); err != nil {
		return res, nil, err
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	info := cfg.Info
	peering := usesArray(cfg.Mode) && cfg.Array != nil
	if peering && (cfg.Hashes == nil || cfg.PeerID == "") {
		return res, nil, fmt.Errorf("peer: download mode %d needs piece hashes and a peer id", cfg.Mode)
	}
	var ct *Content
	var err error
	if cfg.Hashes != nil {
		if err := CheckID(info.DoFileID); err != nil {
			return res, nil, err
		}
		if cfg.Cache != nil {
			var hit bool
			if hit, err = cfg.Cache.fromCache(info.DoFileID, info.Size, info.PieceSize, cfg.Hashes, cfg.Path); err != nil {
				return res, nil, err
			}
			if hit {
				cfg.Logf("peer: %s served from the DO cache", info.DoFileID)
				res.Status = cachedStatus(info.DoFileID, info.Size, cfg.Mode)
				res.Status.PredefinedCallerApplication = cfg.Options.Caller
				return res, nil, nil
			}
			ct, err = cfg.Cache.Begin(info.DoFileID, info.Size, info.PieceSize, cfg.Hashes, cfg.Path)
		} else {
			ct, err = newContent(info.DoFileID, info.Size, info.PieceSize, cfg.Hashes)
			if ct != nil {
				ct.path = cfg.Path
			}
		}
		if err != nil {
			return res, nil, err
		}
		if _, err := os.Stat(cfg.Path + ".journal"); err == nil {
			if err := rescan(ct, false); err != nil {
				return res, nil, err
			}
		}
	}

	var sources []fetch.Source
	var sw *Swarm
	if peering {
		pol := cfg.Policy
		if pol.Priority == fetch.Foreground {
			pol.Priority = cfg.Options.Priority
		}
		sw, err = NewSwarm(SwarmConfig{Content: ct, Mode: cfg.Mode, PeerID: cfg.PeerID, Addr: cfg.PeerAddr,
			LanID: cfg.LanID, GroupID: cfg.GroupID, Array: cfg.Array, RefreshInterval: cfg.RefreshInterval,
			OwnerWait: cfg.OwnerWait, StallTimeout: cfg.StallTimeout, BanDuration: cfg.PeerBan, Clock: cfg.Clock, Logf: cfg.Logf,
			Policy: pol, MaxOrigin: max(cfg.Options.Connections, 0), HTTP: cfg.PeerHTTP})
		if err != nil {
			return res, nil, err
		}
		sources = append(sources, sw.Sources()...)
	}
	if cfg.CacheHost != "" && UsesCacheHost(cfg.Mode) {
		mcc, err := fetch.NewCache(info.UploadLocation, cfg.CacheHost, cfg.HTTP)
		if err != nil {
			return res, nil, err
		}
		sources = append(sources, track(mcc, ct))
	}
	origin, err := fetch.NewHTTP(info.UploadLocation, cfg.HTTP)
	if err != nil {
		return res, nil, err
	}
	sources = append(sources, track(origin, ct))

	opt := cfg.Options
	opt.FileID, opt.DownloadMode = info.DoFileID, cfg.Mode
	if info.PieceSize > 0 {
		opt.PieceSize = info.PieceSize
	}
	// Peer pieces are verified by the Swarm before they reach the Job, so
	// the Job is not given the list again (one SHA-256 pass per byte, not two).
	opt.PieceHashes = nil
	if opt.Logf == nil {
		opt.Logf = cfg.Logf
	}
	if opt.Clock == nil && cfg.Clock != nil {
		opt.Clock = cfg.Clock
	}
	if sw != nil {
		// One piece per request, so that pieces spread over peers, and a
		// watchdog longer than the longest wait for a piece on the LAN
		// (twice the delay while its holders are busy, then a request).
		opt.MaxChunk, opt.ChunkSize = opt.PieceSize, opt.PieceSize
		d := sw.cfg.Policy.delay(sw.cfg.OwnerWait)
		opt.NoProgress = max(opt.NoProgress, 2*(sw.cfg.OwnerWait+sw.cfg.StallTimeout), 3*d+2*sw.cfg.StallTimeout)
	}
	job, err := fetch.New(cfg.Path, sources, opt)
	if err != nil {
		return res, nil, err
	}

	if sw != nil {
		if err := sw.Refresh(ctx); err != nil {
			cfg.Logf("peer: %v (starting without peers)", err)
		}
	}
	return res, &running{cfg: cfg, job: job, ct: ct, sw: sw}, nil
}

// wait runs the Job (and the Swarm beside it), then marks the content
// complete in the DO cache and announces it.
func (r *running) wait(ctx context.Context) (Result, error) {
	var res Result
	cfg, job, ct, sw := r.cfg, r.job, r.ct, r.sw
	info := cfg.Info
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if sw != nil {
		go sw.Run(runCtx)
	}
	st, err := job.Run(ctx)
	stop()
	res.Status = st
	if sw != nil {
		res.Banned, res.PeerRequests, res.ArrayCalls, res.PeerBusy = sw.Banned(), sw.Requests(), sw.ArrayCalls(), sw.Busy()
		res.PeerDiscarded = sw.Discarded()
		// DO's NumPeers: the peers the service returned for the download
		// (the Job alone counts peer sources, one per kind).
		res.Status.NumPeers = sw.NumPeers()
	}
	if err != nil {
		if ct != nil && cfg.Cache != nil {
			ct.setStatus(res.Status)
		}
		return res, err
	}
	if ct == nil {
		return res, nil
	}
	if err := rescan(ct, true); err != nil {
		return res, err
	}
	if cfg.Cache != nil {
		// The DO cache's record and the result are one record: the same
		// NumPeers, and the cache's ExpireOn and IsPinned in both.
		if err := cfg.Cache.Finish(ct, res.Status); err != nil {
			return res, err
		}
		cs := ct.Status()
		res.Status.ExpireOn, res.Status.IsPinned = cs.ExpireOn, cs.IsPinned
	}
	if sw != nil {
		// Announcing the complete content; the peers it learns of now
		// served nothing of this download, so NumPeers stays as it was.
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := sw.Refresh(actx); err != nil {
			cfg.Logf("peer: announcing %s: %v", info.DoFileID, err)
		}
		cancel()
		res.ArrayCalls = sw.ArrayCalls()
	}
	return res, nil
}

func track(s fetch.Source, ct *Content) fetch.Source {
	if ct == nil {
		return s
	}
	return &tracked{Source: s, ct: ct}
}

// rescan hashes the pieces of ct's file not yet marked held and marks
// those that match. With strict, a piece that does not match is an
// error (a finished download whose bytes disagree with the piece list).
func rescan(ct *Content, strict bool) error {
	f, err := os.Open(ct.path)
	if err != nil {
		if !strict && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("peer: %w", err)
	}
	defer f.Close()
	buf := make([]byte, ct.PieceSize)
	for i := range ct.Pieces() {
		if ct.Has(i) {
			continue
		}
		off, n := ct.bounds(i)
		if _, err := io.ReadFull(io.NewSectionReader(f, off, n), buf[:n]); err != nil {
			if strict {
				return fmt.Errorf("peer: %s piece %d: %w", ct.ID, i, err)
			}
			continue
		}
		if sha256.Sum256(buf[:n]) == ct.Hash(i) {
			ct.markHave(i)
		} else if strict {
			return fmt.Errorf("%w: %s piece %d after download", ErrCorrupt, ct.ID, i)
		}
	}
	return nil
}

// ParseHashes converts a piece hash file's hex list.
func ParseHashes(ph imeapi.PieceHashes) ([][32]byte, error) {
	hs, err := decodeHashes(ph.Pieces)
	if err != nil {
		return nil, err
	}
	if ph.PieceSize <= 0 || int64(len(hs)) != (ph.Size+ph.PieceSize-1)/ph.PieceSize {
		return nil, fmt.Errorf("%w: %d hashes for %d bytes in pieces of %d", ErrHashes, len(hs), ph.Size, ph.PieceSize)
	}
	return hs, nil
}
