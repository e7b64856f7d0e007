package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

func TestStatusJSONNames(t *testing.T) {
	want := strings.Fields(`FileId FileSize FileSizeInCache TotalBytesDownloaded PercentPeerCaching
		BytesFromPeers BytesFromHttp BytesFromCacheServer BytesFromLanPeers BytesFromGroupPeers
		BytesFromInternetPeers BytesToLanPeers BytesToGroupPeers BytesToInternetPeers DownloadDuration
		DownloadMode Priority Status NumPeers SourceURL CacheHost HttpConnectionCount LanConnectionCount
		GroupConnectionCount InternetConnectionCount PredefinedCallerApplication ExpireOn IsPinned`)
	b, err := json.Marshal(Status{DownloadDuration: TimeSpan(90*time.Minute + 1500*time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("JSON fields\n got %v\nwant %v", got, want)
	}
	if m["DownloadDuration"] != "01:30:01.5000000" {
		t.Errorf("DownloadDuration %v", m["DownloadDuration"])
	}
	var back Status
	if err := json.Unmarshal(b, &back); err != nil || back.DownloadDuration != TimeSpan(90*time.Minute+1500*time.Millisecond) {
		t.Errorf("round trip: %v %v", back.DownloadDuration, err)
	}
}

// Not enough room: a clear ErrDiskFull before any byte is fetched.
func TestDiskFullBeforeStart(t *testing.T) {
	content := randomBytes(8, 1<<20)
	o := newOrigin(t, content)
	old := freeSpace
	freeSpace = func(string) (int64, int64, error) { return 1000, 0, nil }
	defer func() { freeSpace = old }()
	var sl sleeps
	job, _ := New(filepath.Join(t.TempDir(), "out.bin"), []Source{mustHTTP(t, o.url())}, testOptions(&sl))
	_, err := job.Run(context.Background())
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("err %v, want ErrDiskFull", err)
	}
	if o.requests.Load() != 1 {
		t.Errorf("%d requests; want only the Stat", o.requests.Load())
	}
}

// The disk fills up mid-download: the error says so, the journal keeps
// what was written, and a later run resumes.
func TestDiskFullMidway(t *testing.T) {
	content := randomBytes(9, 2<<20)
	o := newOrigin(t, content)
	dst := filepath.Join(t.TempDir(), "out.bin")
	old := openFile
	defer func() { openFile = old }()
	openFile = func(path string) (file, error) {
		f, err := old(path)
		return &fullFile{file: f, room: int64(len(content)) / 2}, err
	}
	var sl sleeps
	opt := testOptions(&sl)
	job, _ := New(dst, []Source{mustHTTP(t, o.url())}, opt)
	_, err := job.Run(context.Background())
	if !errors.Is(err, ErrDiskFull) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err %v, want one line with ErrDiskFull", err)
	}
	jr, err := loadJournal(dst)
	if err != nil || jr.pieces.ndone == 0 {
		t.Fatalf("journal after disk full: %v (%v)", jr, err)
	}
	openFile = old
	o.settle()
	before := o.sent.Load()
	runJob(t, dst, o.url(), opt)
	checkFile(t, dst, content)
	if again := o.sent.Load() - before; again >= int64(len(content)) {
		t.Errorf("resume after disk full fetched %d bytes, the whole file again", again)
	}
}

type fullFile struct {
	file
	mu   sync.Mutex
	room int64
}

func (f *fullFile) WriteAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if int64(len(p)) > f.room {
		return 0, &os.PathError{Op: "write", Path: "out.bin", Err: syscall.ENOSPC}
	}
	f.room -= int64(len(p))
	return f.file.WriteAt(p, off)
}

// The whole-file SHA-256: right passes, wrong fails and leaves nothing.
func TestWholeFileSHA256(t *testing.T) {
	content := randomBytes(10, 1<<20+5)
	o := newOrigin(t, content)
	sum := sha256.Sum256(content)
	var sl sleeps
	for _, good := range []bool{true, false} {
		opt := testOptions(&sl)
		opt.SHA256 = append([]byte(nil), sum[:]...)
		if !good {
			opt.SHA256[0] ^= 1
		}
		dst := filepath.Join(t.TempDir(), "out.bin")
		job, _ := New(dst, []Source{mustHTTP(t, o.url())}, opt)
		_, err := job.Run(context.Background())
		if good {
			if err != nil {
				t.Fatal(err)
			}
			checkFile(t, dst, content)
			continue
		}
		if !errors.Is(err, ErrChecksum) {
			t.Fatalf("err %v, want ErrChecksum", err)
		}
		for _, p := range []string{dst, journalPath(dst)} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s left after a checksum failure", p)
			}
		}
	}
}

// Prefix only grows, and reaches the size.
func TestPrefixWatch(t *testing.T) {
	content := randomBytes(11, 3<<20)
	o := newOrigin(t, content)
	var sl sleeps
	job, _ := New(filepath.Join(t.TempDir(), "out.bin"), []Source{mustHTTP(t, o.url())}, testOptions(&sl))
	seen := make(chan []int64, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		var got []int64
		for {
			ch := job.PrefixChanged()
			p := job.Prefix()
			if len(got) == 0 || p != got[len(got)-1] {
				got = append(got, p)
			}
			if p == int64(len(content)) {
				seen <- got
				return
			}
			select {
			case <-ch:
			case <-ctx.Done():
				seen <- got
				return
			}
		}
	}()
	if _, err := job.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := <-seen
	if len(got) < 2 || got[len(got)-1] != int64(len(content)) {
		t.Fatalf("prefix values %v", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			t.Fatalf("prefix went back: %v", got)
		}
	}
}

func TestBackgroundUsesFewerConnections(t *testing.T) {
	content := randomBytes(12, 4<<20)
	o := newOrigin(t, content)
	var sl sleeps
	opt := testOptions(&sl)
	opt.Connections, opt.Priority = 8, Background
	job, _ := New(filepath.Join(t.TempDir(), "out.bin"), []Source{mustHTTP(t, o.url())}, opt)
	st, err := job.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.HttpConnectionCount > 2 || st.Priority != "Background" {
		t.Errorf("background: %d connections, priority %q", st.HttpConnectionCount, st.Priority)
	}
}

func TestRetry(t *testing.T) {
	errTemp := errors.New("temporary")
	cases := []struct {
		name      string
		errs      []error
		wantCalls int
		wantErr   error
	}{
		{"ok", []error{nil}, 1, nil},
		{"two failures", []error{errTemp, errTemp, nil}, 3, nil},
		{"permanent stops", []error{Permanent(errTemp), nil}, 1, errTemp},
		{"gives up", []error{errTemp, errTemp, errTemp, errTemp}, 3, errTemp},
	}
	for _, c := range cases {
		var sl sleeps
		r := Retry{Attempts: 3, Backoff: func(a int) time.Duration { return time.Duration(a) * time.Second }, Sleep: sl.sleep}
		calls := 0
		err := r.Do(context.Background(), func(context.Context) (bool, error) {
			calls++
			return false, c.errs[calls-1]
		})
		if calls != c.wantCalls || !errors.Is(err, c.wantErr) {
			t.Errorf("%s: %d calls, err %v; want %d, %v", c.name, calls, err, c.wantCalls, c.wantErr)
		}
		if len(sl.all()) != calls-1 && c.wantErr == nil {
			t.Errorf("%s: %d pauses for %d calls", c.name, len(sl.all()), calls)
		}
	}
	r := Retry{MaxRetryAfter: time.Minute}.withDefaults()
	if d := r.Pause(1, &RetryAfterError{Err: errTemp, After: time.Hour}); d != time.Minute {
		t.Errorf("Retry-After of an hour paused %v, want the 1m cap", d)
	}
}

func TestRateLimit(t *testing.T) {
	now := time.Unix(0, 0)
	var slept time.Duration
	l := NewPacer(1000, func() time.Time { return now }, func(_ context.Context, d time.Duration) error {
		slept += d
		now = now.Add(d)
		return nil
	})
	for range 50 {
		if err := l.Wait(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
	}
	// 5000 bytes at 1000 B/s, less the 0.1 s burst.
	if want := 4900 * time.Millisecond; slept < want-10*time.Millisecond || slept > want+10*time.Millisecond {
		t.Errorf("slept %v for 5000 bytes at 1000 B/s, want about %v", slept, want)
	}
}

func TestEmptyFile(t *testing.T) {
	o := newOrigin(t, nil)
	var sl sleeps
	opt := testOptions(&sl)
	opt.SHA256 = func() []byte { s := sha256.Sum256(nil); return s[:] }()
	dst := filepath.Join(t.TempDir(), "empty.bin")
	st := runJob(t, dst, o.url(), opt)
	if fi, err := os.Stat(dst); err != nil || fi.Size() != 0 || st.Status != imeapi.DOComplete {
		t.Fatalf("empty download: %v %v %+v", fi, err, st)
	}
}

// Requests grow on a long-haul link and stay near a piece on loopback.
func TestSizer(t *testing.T) {
	const piece, maxChunk = 1 << 20, 64 << 20
	cases := []struct {
		name     string
		ttfb     time.Duration
		rate     float64 // bytes/s
		min, max int64
	}{
		{"wan 50ms 25MB/s", 50 * time.Millisecond, 25e6, 12 << 20, 24 << 20},
		{"loopback 100us 400MB/s", 100 * time.Microsecond, 400e6, piece, 1 << 20},
		{"lan 1ms 100MB/s", time.Millisecond, 100e6, piece, 2 << 20},
	}
	for _, c := range cases {
		z := sizer{chunk: 2 << 20, max: maxChunk, piece: piece}
		for range 10 {
			got := z.chunk
			xfer := time.Duration(float64(got) / c.rate * float64(time.Second))
			z.adapt(got, c.ttfb, xfer)
		}
		if z.chunk < c.min || z.chunk > c.max {
			t.Errorf("%s: chunk %d MiB, want %d..%d MiB", c.name, z.chunk>>20, c.min>>20, c.max>>20)
		}
	}
}
