package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/imepipe/imepipe/imeapi"
)

// Job downloads one file from its sources. Create it with New, run it
// once with Run; Status, Prefix and PrefixChanged may be called at any
// time from other goroutines.
type Job struct {
	path    string
	sources []*sourceState
	opt     Options
	limit   *Pacer
	cnt     counters

	mu       sync.Mutex
	pc       *pieces  // nil until Run has opened the file
	hdr      *journal // identity of what is being fetched
	f        file
	prefixCh chan struct{}
	dirty    chan struct{}
	state    imeapi.DOStatus
	started  time.Time
	elapsed  time.Duration // from earlier runs and finished parts of this one
	running  bool
	run      runState // what the latest Run itself did
	tap      *tap     // the PrefixReader's, nil when none reads
}

// sourceState is a Source with the Job's view of it.
type sourceState struct {
	src      Source
	kind     SourceKind
	maxConns int
	active   int       // guarded by Job.mu
	banned   time.Time // guarded by Job.mu; zero: not banned
	why      error     // what banned it last; guarded by Job.mu
	usable   bool      // Stat succeeded with the right size; guarded by Job.mu
}

func (s *sourceState) String() string {
	if st, ok := s.src.(fmt.Stringer); ok {
		return st.String()
	}
	return s.kind.String()
}

// New prepares a Job that writes path from sources, tried in the order
// given (list peers and the cache host before the origin).
func New(path string, sources []Source, opt Options) (*Job, error) {
	if len(sources) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoSource, path)
	}
	if opt.SHA256 != nil && len(opt.SHA256) != sha256.Size {
		return nil, fmt.Errorf("fetch: SHA-256 must be %d bytes, got %d", sha256.Size, len(opt.SHA256))
	}
	opt = opt.withDefaults()
	j := &Job{path: path, opt: opt, prefixCh: make(chan struct{}), dirty: make(chan struct{}, 1), state: imeapi.DOCaching}
	j.limit = NewPacer(opt.rate(), opt.Clock.Now, opt.Retry.Sleep)
	for _, s := range sources {
		st := &sourceState{src: s, kind: s.Kind(), maxConns: 1 << 30}
		if l, ok := s.(Limiter); ok && l.MaxConnections() > 0 {
			st.maxConns = l.MaxConnections()
		}
		j.sources = append(j.sources, st)
	}
	return j, nil
}

// Prefix is how many bytes from the start of the file are complete; it
// only grows during a run (callers may hash or decrypt up to it).
func (j *Job) Prefix() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.pc == nil {
		return 0
	}
	return j.pc.prefix()
}

// currentTap is the tap of the Job's PrefixReader, nil when none.
func (j *Job) currentTap() *tap {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.tap
}

// PrefixChanged returns a channel closed the next time Prefix grows (or
// the run ends); take it before reading Prefix to miss nothing.
func (j *Job) PrefixChanged() <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.prefixCh
}

// AddUploaded counts n bytes served to a peer of kind k (BytesTo…Peers);
// for the peer package.
func (j *Job) AddUploaded(k SourceKind, n int64) {
	if k >= 0 && k < numKinds {
		j.cnt.to[k].Add(n)
	}
}

// Status is the DO-style record of the job so far.
func (j *Job) Status() Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := Status{
		FileId:       j.opt.FileID,
		DownloadMode: j.opt.DownloadMode,
		Priority:     j.opt.Priority.String(),
		Status:       j.state,

		PredefinedCallerApplication: j.opt.Caller,
	}
	d := j.elapsed
	if j.running {
		d += j.opt.Clock.Now().Sub(j.started)
	}
	s.DownloadDuration = TimeSpan(d)
	if j.hdr != nil {
		s.FileSize = j.hdr.Size
		if s.FileId == "" {
			s.FileId = contentID(j.hdr)
		}
	}
	if j.pc != nil {
		s.FileSizeInCache = j.pc.completeBytes()
	}
	for _, st := range j.sources {
		switch {
		case st.kind.IsPeer():
			s.NumPeers++
		case st.kind == CacheServer && s.CacheHost == "":
			s.CacheHost = hostOf(st.src)
		case st.kind == HTTP && s.SourceURL == "":
			s.SourceURL = SourceURL(urlOf(st.src))
		}
	}
	j.cnt.fill(&s)
	return s
}

// contentID names the content independently of its URL.
func contentID(h *journal) string {
	d := xxhash.New()
	_, _ = d.Write(binary.LittleEndian.AppendUint64(nil, uint64(h.Size)))
	_, _ = d.WriteString(h.ETag + "\x00" + h.LastModified + "\x00" + h.SHA256)
	return hex.EncodeToString(binary.BigEndian.AppendUint64(nil, d.Sum64()))
}

func hostOf(s Source) string {
	if h, ok := s.(interface{ Host() string }); ok {
		return h.Host()
	}
	return ""
}

func urlOf(s Source) string {
	if u, ok := s.(interface{ URL() string }); ok {
		return u.URL()
	}
	return ""
}

// maxRestarts bounds how often a run starts over because the content changed.
const maxRestarts = 2

// Run downloads until the file is complete, ctx is done, or a failure is
// final. On success the journal is gone and the file is complete (and
// matches Options.SHA256 when set). On failure the journal records every
// completed piece, so a later Run resumes.
func (j *Job) Run(ctx context.Context) (Status, error) {
	j.mu.Lock()
	if j.running {
		j.mu.Unlock()
		return Status{}, fmt.Errorf("fetch: %s: Run called twice at once", j.path)
	}
	j.running, j.started, j.state = true, j.opt.Clock.Now(), imeapi.DOCaching
	j.run = runState{begin: j.started}
	for k := range numKinds {
		j.run.before += j.cnt.from[k].Load()
	}
	j.mu.Unlock()

	err := j.runOnce(ctx, j.opt.Fresh)
	for restarts := 0; errors.Is(err, ErrChanged) && restarts < maxRestarts && ctx.Err() == nil; restarts++ {
		j.opt.Logf("fetch: %s: content changed, starting again from zero: %v", j.path, err)
		err = j.runOnce(ctx, true)
	}

	j.mu.Lock()
	j.running = false
	j.elapsed += j.opt.Clock.Now().Sub(j.started)
	j.run.end = j.opt.Clock.Now()
	switch {
	case err == nil:
		j.state = imeapi.DOComplete
	case ctx.Err() != nil:
		j.state = imeapi.DOPaused
	default:
		j.state = imeapi.DOError
	}
	if j.f != nil {
		_ = j.f.Close()
		j.f = nil
	}
	close(j.prefixCh) // wake watchers: the run is over
	j.prefixCh = make(chan struct{})
	j.mu.Unlock()
	return j.Status(), err
}

// runOnce is one pass: learn the content, open or resume the file, fetch
// what is missing, and finish. fresh discards any journal.
func (j *Job) runOnce(ctx context.Context, fresh bool) error {
	meta, err := j.statSources(ctx)
	if err != nil {
		return err
	}
	want := &journal{Size: meta.Size, PieceSize: j.opt.PieceSize, ETag: meta.ETag, LastModified: meta.LastModified}
	if j.opt.SHA256 != nil {
		want.SHA256 = hex.EncodeToString(j.opt.SHA256)
	}
	if j.opt.PieceHashes != nil {
		if n := int((meta.Size + j.opt.PieceSize - 1) / j.opt.PieceSize); n != len(j.opt.PieceHashes) {
			return Permanent(fmt.Errorf("fetch: %s: %d piece hashes for %d pieces of %d bytes", j.path, len(j.opt.PieceHashes), n, j.opt.PieceSize))
		}
	}
	if err := j.open(want, fresh); err != nil {
		return err
	}
	err = j.transfer(ctx, meta)
	switch {
	case errors.Is(err, ErrChanged):
		_ = os.Remove(journalPath(j.path))
		return err
	case errors.Is(err, ErrChecksum):
		return err // transfer removed the file and the journal
	}
	if ferr := j.flush(err != nil); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	return j.finish()
}

// finish makes the completed file durable and removes the journal, or
// with KeepJournal writes it durably as the completion record.
func (j *Job) finish() error {
	if j.opt.KeepJournal {
		// flush(true) syncs the file before the journal: every piece
		// recorded is the completion record.
		return j.flush(true)
	}
	if err := j.f.Sync(); err != nil {
		return diskErr(err, j.path)
	}
	if err := os.Remove(journalPath(j.path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("fetch: %s: %w", j.path, err)
	}
	return nil
}
