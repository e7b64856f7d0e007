package fetch

import (
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/imepipe/imepipe/imeapi"
)

// Every response is cut at a random offset (seeded); the job must still
// finish with the right bytes in one Run, refetching little.
func TestResumeRandomCuts(t *testing.T) {
	content := randomBytes(3, 4<<20)
	o := newOrigin(t, content)
	var cuts atomic.Int64
	o.inject = func(n int, w http.ResponseWriter, r *http.Request) bool {
		rng := rand.New(rand.NewPCG(42, uint64(n))) // seeded per request: handlers run concurrently
		if n == 1 || rng.IntN(3) == 0 {             // the Stat, and a third of requests, run clean
			return false
		}
		cuts.Add(1)
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(&cutWriter{ResponseWriter: w, limit: int64(rng.IntN(300 << 10))}, r, "", time.Unix(1700000000, 0), newReader(content))
		return true
	}
	var sl sleeps
	opt := testOptions(&sl)
	opt.Retry.Attempts = 50
	dst := filepath.Join(t.TempDir(), "out.bin")
	st := runJob(t, dst, o.url(), opt)
	checkFile(t, dst, content)
	checkCounters(t, st)
	if cuts.Load() < 5 {
		t.Fatalf("only %d streams were cut; the test proves nothing", cuts.Load())
	}
	// A cut loses at most the piece being written.
	if limit := int64(len(content)) + cuts.Load()*opt.PieceSize; st.TotalBytesDownloaded > limit {
		t.Errorf("downloaded %d bytes for %d with %d cuts (limit %d)", st.TotalBytesDownloaded, len(content), cuts.Load(), limit)
	}
}

// The job is stopped at random byte counts and started again, as a crash
// would; each restart fetches only what is missing, and the final file and
// the cumulative counters are right.
func TestResumeAfterStops(t *testing.T) {
	content := randomBytes(4, 6<<20+777)
	o := newOrigin(t, content)
	rng := rand.New(rand.NewPCG(99, 1))
	dst := filepath.Join(t.TempDir(), "out.bin")
	var sl sleeps
	opt := testOptions(&sl)
	for stop := 0; stop < 5; stop++ { // keep in step with stops below
		ctx, cancel := context.WithCancel(context.Background())
		limit := int64(rng.IntN(len(content) / 12))
		src := &stopAfter{Source: mustHTTP(t, o.url()), left: limit, cancel: cancel}
		job, err := New(dst, []Source{src}, opt)
		if err != nil {
			t.Fatal(err)
		}
		st, err := job.Run(ctx)
		cancel()
		if err == nil {
			t.Fatalf("stop %d: finished before the stop at %d bytes", stop, limit)
		}
		if st.Status != imeapi.DOPaused {
			t.Errorf("stop %d: Status %q, want %q", stop, st.Status, imeapi.DOPaused)
		}
		if _, err := os.Stat(journalPath(dst)); err != nil {
			t.Fatalf("stop %d: no journal: %v", stop, err)
		}
	}
	st := runJob(t, dst, o.url(), opt)
	checkFile(t, dst, content)
	checkCounters(t, st)
	// A stop loses at most the piece each connection was writing; the
	// origin may also have sent what was in flight (one request each).
	const stops = 5
	size, conns := int64(len(content)), int64(opt.Connections)
	if limit := size + stops*conns*opt.PieceSize; st.TotalBytesDownloaded > limit {
		t.Errorf("received %d bytes over all runs for %d (limit %d)", st.TotalBytesDownloaded, size, limit)
	}
	if limit := size + stops*conns*opt.MaxChunk; o.sent.Load() > limit {
		t.Errorf("origin sent %d bytes for %d (limit %d)", o.sent.Load(), size, limit)
	}
	if st.TotalBytesDownloaded < size {
		t.Errorf("TotalBytesDownloaded %d is less than the file: earlier runs not counted", st.TotalBytesDownloaded)
	}
}

// A recorded piece that was damaged on disk is found and fetched again;
// the others are not.
func TestResumeRehash(t *testing.T) {
	content, o, dst, opt, jr := stoppedDownload(t, 5, 2<<20)
	damageRecorded(t, dst, content, jr.pieces)
	before := o.sent.Load()
	runJob(t, dst, o.url(), opt)
	checkFile(t, dst, content)
	missing := int64(len(content)) - jr.pieces.completeBytes()
	if got := o.sent.Load() - before; got > missing+opt.PieceSize+1024 {
		t.Errorf("resume fetched %d bytes, want about %d missing + one damaged piece", got, missing)
	}
}

// stoppedDownload is a download of size random bytes (seed) stopped
// three quarters in, with the journal it left (some pieces recorded).
func stoppedDownload(t *testing.T, seed uint64, size int) ([]byte, *origin, string, Options, *journal) {
	t.Helper()
	content := randomBytes(seed, size)
	o := newOrigin(t, content)
	dst := filepath.Join(t.TempDir(), "out.bin")
	var sl sleeps
	opt := testOptions(&sl)
	ctx, cancel := context.WithCancel(context.Background())
	src := &stopAfter{Source: mustHTTP(t, o.url()), left: int64(len(content)) * 3 / 4, cancel: cancel}
	job, _ := New(dst, []Source{src}, opt)
	if _, err := job.Run(ctx); err == nil {
		t.Fatal("first run finished; want a stop")
	}
	jr, err := loadJournal(dst)
	if err != nil || jr.pieces.ndone == 0 {
		t.Fatalf("journal %v, err %v: want recorded pieces", jr, err)
	}
	o.settle() // what the stopped run's handlers still send is not the resume's
	return content, o, dst, opt, jr
}

// damageRecorded flips a byte of the first piece pc records as done (not
// always piece 0: on loopback its request now and then ends last) and
// returns that piece's index.
func damageRecorded(t *testing.T, dst string, content []byte, pc *pieces) int {
	t.Helper()
	i := slices.Index(pc.done, true)
	off, _ := pc.bounds(i)
	f, err := os.OpenFile(dst, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{content[off+10] ^ 0xff}, off+10); err != nil {
		t.Fatal(err)
	}
	return i
}

// stopAfter cancels the run once left bytes have been delivered.
type stopAfter struct {
	Source
	left   int64
	cancel func()
}

func (s *stopAfter) Fetch(ctx context.Context, off, n int64, w io.Writer) (int64, error) {
	return s.Source.Fetch(ctx, off, n, writerFunc(func(p []byte) (int, error) {
		if atomic.AddInt64(&s.left, -int64(len(p))) < 0 {
			s.cancel()
		}
		return w.Write(p)
	}))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func mustHTTP(t *testing.T, u string) *HTTPSource {
	t.Helper()
	s, err := NewHTTP(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func runJob(t *testing.T, dst, u string, opt Options) Status {
	t.Helper()
	job, err := New(dst, []Source{mustHTTP(t, u)}, opt)
	if err != nil {
		t.Fatal(err)
	}
	st, err := job.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return st
}

// A journal of format 1 (xxhash64 per piece, from an earlier imepipe)
// still resumes: its sums are checked as they are, a damaged piece is
// fetched again, and the journal written from then on is format 2.
func TestResumeFormat1Journal(t *testing.T) {
	content, o, dst, opt, jr := stoppedDownload(t, 6, 3<<20)
	for i := range jr.pieces.count() {
		if jr.pieces.done[i] {
			off, n := jr.pieces.bounds(i)
			jr.pieces.sums[i] = xxhash.Sum64(content[off : off+n])
		}
	}
	data, err := jr.encode()
	if err != nil {
		t.Fatal(err)
	}
	copy(data, journalMagicV1)
	binary.LittleEndian.PutUint64(data[len(data)-8:], xxhash.Sum64(data[:len(data)-8]))
	if err := jr.save(dst, data, false); err != nil {
		t.Fatal(err)
	}
	if old, err := loadJournal(dst); err != nil || !old.pieces.legacy || old.pieces.ndone != jr.pieces.ndone {
		t.Fatalf("format 1 journal read back: %v (legacy %v)", err, old != nil && old.pieces.legacy)
	}
	damaged := damageRecorded(t, dst, content, jr.pieces)

	// What resume makes of it: the damaged piece forgotten, the others
	// recorded with pieceSum, and a format 2 journal from then on.
	rf, _ := os.Open(dst)
	pc := mustLoad(t, dst).pieces
	bad, err := rehash(rf, pc)
	rf.Close()
	if err != nil || bad != 1 || pc.done[damaged] || pc.legacy {
		t.Fatalf("rehash of a format 1 journal: %d bad, err %v, piece %d kept %v, legacy %v; want it alone forgotten", bad, err, damaged, pc.done[damaged], pc.legacy)
	}
	for i := range pc.count() {
		if pc.done[i] {
			off, n := pc.bounds(i)
			if pc.sums[i] != pieceSum(content[off:off+n]) {
				t.Fatalf("piece %d recorded with sum %x, want its pieceSum", i, pc.sums[i])
			}
		}
	}
	jr.pieces = pc
	if enc, err := jr.encode(); err != nil || string(enc[:8]) != journalMagic {
		t.Fatalf("journal written after resume: %q, %v; want format 2", enc[:8], err)
	}

	before := o.sent.Load()
	runJob(t, dst, o.url(), opt)
	checkFile(t, dst, content)
	missing := int64(len(content)) - pc.completeBytes()
	if got := o.sent.Load() - before; got > missing+1024 {
		t.Errorf("resume fetched %d bytes, want about the %d missing (the damaged piece among them)", got, missing)
	}
}

func mustLoad(t *testing.T, path string) *journal {
	t.Helper()
	j, err := loadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// A download that took bytes from two sources of another kind (two LAN
// peers, or two cache hosts) at once and was stopped, then resumed from
// the origin alone over one connection, reports the whole download: that
// kind's bytes and its two connections, and the HTTP connections of the
// first run, not only what the resumed run used.
func TestResumeKeepsConnectionCounts(t *testing.T) {
	for _, kind := range []SourceKind{LanPeer, CacheServer} {
		t.Run(kind.String(), func(t *testing.T) {
			content := randomBytes(40, 96<<16)
			o := newOrigin(t, content)
			var sl sleeps
			opt := testOptions(&sl)
			opt.PieceHashes = pieceHashes(content, opt.PieceSize)
			dst := filepath.Join(t.TempDir(), "out.bin")

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The first request of every connection waits for the others:
			// one on each of the kind's two sources (one connection each),
			// the rest on the origin, all open at once. The run stops once
			// the kind has delivered.
			meet := newMeeting(opt.Connections)
			var sources []Source
			for range 2 {
				p := &fakePeer{kind: kind, content: content, pieceSize: opt.PieceSize, has: func(int) bool { return true }}
				sources = append(sources, &metSource{Source: p, meet: meet, served: cancel})
			}
			job, err := New(dst, append(sources, &metSource{Source: mustHTTP(t, o.url()), meet: meet}), opt)
			if err != nil {
				t.Fatal(err)
			}
			st1, err := job.Run(ctx)
			if err == nil {
				t.Fatal("first run finished; want a stop")
			}
			o.settle()
			wantHTTP, wantLAN := 2, 2 // the origin's two; a cache host's count as HTTP too
			if kind == CacheServer {
				wantHTTP, wantLAN = 4, 0
			}
			if kindBytes(st1, kind) == 0 || st1.HttpConnectionCount != wantHTTP || st1.LanConnectionCount != wantLAN {
				t.Fatalf("first run: %d bytes from %s, %d HTTP and %d LAN connections; want bytes, %d, %d",
					kindBytes(st1, kind), kind, st1.HttpConnectionCount, st1.LanConnectionCount, wantHTTP, wantLAN)
			}

			opt.Connections = 1
			st2 := runJob(t, dst, o.url(), opt)
			checkFile(t, dst, content)
			checkCounters(t, st2)
			if kindBytes(st2, kind) != kindBytes(st1, kind) {
				t.Errorf("resumed: %d bytes from %s, want the first run's %d", kindBytes(st2, kind), kind, kindBytes(st1, kind))
			}
			if kindConns(st2, kind) != kindConns(st1, kind) {
				t.Errorf("resumed: %d connections of %s, want the first run's %d", kindConns(st2, kind), kind, kindConns(st1, kind))
			}
			if st2.HttpConnectionCount != st1.HttpConnectionCount || st2.LanConnectionCount != st1.LanConnectionCount {
				t.Errorf("resumed: HTTP %d, LAN %d connections; want the first run's %d, %d (the resumed run used 1 HTTP connection)",
					st2.HttpConnectionCount, st2.LanConnectionCount, st1.HttpConnectionCount, st1.LanConnectionCount)
			}
		})
	}
}

// kindBytes and kindConns are the Status figures of kind k alone.
func kindBytes(s Status, k SourceKind) int64 {
	switch k {
	case CacheServer:
		return s.BytesFromCacheServer
	case LanPeer:
		return s.BytesFromLanPeers
	case GroupPeer:
		return s.BytesFromGroupPeers
	case InternetPeer:
		return s.BytesFromInternetPeers
	}
	return s.BytesFromHttp - s.BytesFromCacheServer
}

// kindConns of HTTP or CacheServer is HttpConnectionCount, which counts
// both.
func kindConns(s Status, k SourceKind) int {
	switch k {
	case LanPeer:
		return s.LanConnectionCount
	case GroupPeer:
		return s.GroupConnectionCount
	case InternetPeer:
		return s.InternetConnectionCount
	}
	return s.HttpConnectionCount
}

// meeting holds each Fetch that arrives until n have, so that the Job has
// n requests open at once on the sources sharing it; later ones pass.
type meeting struct {
	n    int
	mu   sync.Mutex
	here int
	all  chan struct{}
}

func newMeeting(n int) *meeting { return &meeting{n: n, all: make(chan struct{})} }

func (m *meeting) wait(ctx context.Context) error {
	m.mu.Lock()
	if m.here++; m.here == m.n {
		close(m.all)
	}
	m.mu.Unlock()
	select {
	case <-m.all:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// metSource is a Source whose Fetches first wait at a meeting, and
// which calls served (when set) once a Fetch of it has delivered bytes.
type metSource struct {
	Source
	meet   *meeting
	served func()
}

// MaxConnections is the Source's Limiter's, 0 (none) without one.
func (s *metSource) MaxConnections() int {
	if l, ok := s.Source.(Limiter); ok {
		return l.MaxConnections()
	}
	return 0
}

func (s *metSource) Fetch(ctx context.Context, off, n int64, w io.Writer) (int64, error) {
	if err := s.meet.wait(ctx); err != nil {
		return 0, err
	}
	got, err := s.Source.Fetch(ctx, off, n, w)
	if got > 0 && s.served != nil {
		s.served()
	}
	return got, err
}

// A journal written before connection counts were journaled
// (testdata/journal/lan-bytes-no-conns.bin: three of six pieces, 128 KiB
// of them from LAN peers) resumes: only the missing pieces are fetched,
// the LAN bytes stay in the record with one connection beside them (the
// least they took), and the journal written from then on has the
// counts.
func TestResumeJournalWithoutConns(t *testing.T) {
	old, err := os.ReadFile("testdata/journal/lan-bytes-no-conns.bin")
	if err != nil {
		t.Fatal(err)
	}
	content := randomBytes(41, 5*64<<10+100) // what the journal was made for
	o := newOrigin(t, content)
	dst := filepath.Join(t.TempDir(), "out.bin")
	if err := os.WriteFile(dst, content[:3*64<<10], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journalPath(dst), old, 0o644); err != nil {
		t.Fatal(err)
	}
	var sl sleeps
	opt := testOptions(&sl)
	opt.KeepJournal = true
	st := runJob(t, dst, o.url(), opt)
	checkFile(t, dst, content)
	checkCounters(t, st)
	if missing := int64(len(content) - 3*64<<10); o.sent.Load() > missing+1024 {
		t.Errorf("origin sent %d bytes, want about the %d missing: the journal was not used", o.sent.Load(), missing)
	}
	if st.BytesFromLanPeers != 128<<10 || st.LanConnectionCount != 1 || st.HttpConnectionCount < 1 {
		t.Errorf("LAN %d bytes over %d connections, %d HTTP connections; want %d over 1, 1 or more",
			st.BytesFromLanPeers, st.LanConnectionCount, st.HttpConnectionCount, 128<<10)
	}
	if time.Duration(st.DownloadDuration) < 3*time.Second {
		t.Errorf("DownloadDuration %v, want the journal's 3s and more", st.DownloadDuration)
	}
	if jr := mustLoad(t, dst); jr.Conns[LanPeer] != 1 || jr.Conns[HTTP] != st.HttpConnectionCount {
		t.Errorf("journal written after the resume has connections %v, want LAN 1 and HTTP %d", jr.Conns, st.HttpConnectionCount)
	}
}
