package peer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clocktest"
)

// cacheFile puts a complete content with DoFileId id (size bytes) in c,
// as a finished download does.
func cacheFile(t *testing.T, c *Cache, id string, size int, seed uint64) *Content {
	t.Helper()
	f := newTestFile(t, size, seed)
	target := filepath.Join(t.TempDir(), id+".bin")
	if err := os.WriteFile(target, f.data, 0o600); err != nil {
		t.Fatal(err)
	}
	ct, err := c.Begin(id, int64(len(f.data)), testPiece, f.hashes, target)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.hashes {
		ct.markHave(i)
	}
	if err := c.Finish(ct, fetch.Status{FileId: id, FileSize: int64(size), Status: imeapi.DOComplete}); err != nil {
		t.Fatal(err)
	}
	return ct
}

func ids(c *Cache) []string {
	var out []string
	for _, ct := range c.List() {
		out = append(out, ct.ID)
	}
	return out
}

// TestCacheEvictsLRUKeepsPinned: over the size cap the least recently
// used file goes first, a pinned one never does (it is pinned through
// the folder, as `imepipe do pin` does from another process), and past
// MaxAge everything unpinned goes; ExpireOn is the last use plus MaxAge.
func TestCacheEvictsLRUKeepsPinned(t *testing.T) {
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	clk := clocktest.New(start)
	c, err := OpenCache(filepath.Join(t.TempDir(), "DOCache"), CacheOptions{MaxBytes: 3 * 2 * testPiece, MaxAge: 72 * time.Hour, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	size := 2 * testPiece
	a := cacheFile(t, c, "a", size, 1) // used first
	clk.Advance(time.Minute)
	b := cacheFile(t, c, "b", size, 2)
	clk.Advance(time.Minute)
	cc := cacheFile(t, c, "c", size, 3)
	clk.Advance(time.Minute)
	c.touch(a) // a is now the most recently used; b the least
	if got := a.Status().ExpireOn; time.Time(got) != start.Add(3*time.Minute+72*time.Hour) {
		t.Fatalf("ExpireOn %v, want last use + 72h", got)
	}
	if gone, err := c.Expire(); err != nil || len(gone) != 0 {
		t.Fatalf("under the cap: removed %v (%v)", gone, err)
	}
	if err := SetPinned(c.Dir(), "b", true); err != nil {
		t.Fatal(err)
	}
	cacheFile(t, c, "d", size, 4) // 4 files, cap 3: one must go
	gone, err := c.Expire()
	if err != nil || !slices.Equal(gone, []string{"c"}) {
		t.Fatalf("over the cap: removed %v (%v), want [c] (b, the LRU, is pinned)", gone, err)
	}
	if !b.Status().IsPinned || cc.Status().IsPinned {
		t.Fatal("IsPinned not as set")
	}
	clk.Advance(72 * time.Hour)
	gone, err = c.Expire()
	slices.Sort(gone)
	if err != nil || !slices.Equal(gone, []string{"a", "d"}) || !slices.Equal(ids(c), []string{"b"}) {
		t.Fatalf("past MaxAge: removed %v (%v), left %v; want a, d gone and pinned b kept", gone, err, ids(c))
	}
	sts, err := ReadStatus(c.Dir())
	if err != nil || len(sts) != 1 || !sts[0].IsPinned {
		t.Fatalf("ReadStatus %+v (%v)", sts, err)
	}
	if err := SetPinned(c.Dir(), "b", false); err != nil {
		t.Fatal(err)
	}
	if gone, _ := c.Expire(); !slices.Equal(gone, []string{"b"}) {
		t.Fatalf("unpinned and old: removed %v", gone)
	}
	if err := SetPinned(c.Dir(), "zz", true); !errors.Is(err, ErrUnknown) {
		t.Fatalf("pinning an unknown file: %v", err)
	}
	if err := SetPinned(c.Dir(), "../x", true); !errors.Is(err, ErrBadID) {
		t.Fatalf("pinning a bad id: %v", err)
	}
}

// TestCachePercentOfDisk: without an absolute cap the cap is
// DOMaxCacheSize percent (default 20) of the disk; an absolute cap wins.
func TestCachePercentOfDisk(t *testing.T) {
	disk := func(string) (int64, error) { return 1000 * testPiece, nil }
	for _, tc := range []struct {
		opt  CacheOptions
		want int64
	}{
		{CacheOptions{DiskSize: disk}, 200 * testPiece},
		{CacheOptions{DiskSize: disk, MaxPercent: 1}, 10 * testPiece},
		{CacheOptions{DiskSize: disk, MaxPercent: 1, MaxBytes: 3 * testPiece}, 3 * testPiece},
		{CacheOptions{DiskSize: disk, MaxPercent: -1}, 0},
		{CacheOptions{DiskSize: func(string) (int64, error) { return 0, errors.ErrUnsupported }}, 0},
	} {
		c, err := OpenCache(filepath.Join(t.TempDir(), "DOCache"), tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Policy(); got.MaxCacheSizeBytes != tc.want || got.DOMaxCacheAge != 259200 {
			t.Errorf("%+v: policy %+v, want cap %d and 259200 s", tc.opt, got, tc.want)
		}
		if err := c.WritePolicy(); err != nil {
			t.Fatal(err)
		}
		p, ok, err := ReadPolicy(c.Dir())
		if err != nil || !ok || p != c.Policy() {
			t.Errorf("ReadPolicy %+v %v %v", p, ok, err)
		}
		c.Close()
	}
	c, err := OpenCache(filepath.Join(t.TempDir(), "DOCache"), CacheOptions{MaxBytes: 2 * testPiece, DiskSize: disk})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cacheFile(t, c, "a", 2*testPiece, 1)
	cacheFile(t, c, "b", 2*testPiece, 2)
	if gone, _ := c.Expire(); len(gone) != 1 {
		t.Fatalf("absolute cap of one file: removed %v", gone)
	}
}

// TestFlushPersistsLiveCounters: uploads show in the record on disk at
// the next save (Status Caching while the file is served, Complete once
// CachingWindow passes without an upload), a record whose figures did
// not change is not written again, and Persist saves every SaveInterval
// of the injected clock.
func TestFlushPersistsLiveCounters(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	c, err := OpenCache(filepath.Join(t.TempDir(), "DOCache"), CacheOptions{Clock: clk, CachingWindow: 5 * time.Second, SaveInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ct := cacheFile(t, c, "a", 3*testPiece, 1)
	read := func() fetch.Status {
		t.Helper()
		sts, err := ReadStatus(c.Dir())
		if err != nil || len(sts) != 1 {
			t.Fatalf("ReadStatus %+v (%v)", sts, err)
		}
		return sts[0]
	}
	if s := read(); s.Status != imeapi.DOComplete || s.BytesToLanPeers != 0 {
		t.Fatalf("before any upload: %+v", s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Persist(ctx) }()
	waitWaiters := func() {
		t.Helper()
		for i := 0; clk.Waiters() == 0; i++ {
			if i > 1e6 {
				t.Fatal("Persist does not wait on the clock")
			}
			runtime.Gosched() // bounded
		}
	}
	waitWaiters()
	c.touch(ct) // a peer is being served
	ct.addUploaded(fetch.LanPeer, 4096)
	ct.addUploaded(fetch.GroupPeer, 100)
	// Not yet saved: the next save is a SaveInterval away.
	if s := read(); s.BytesToLanPeers != 0 {
		t.Fatalf("saved before the interval: %+v", s)
	}
	clk.Advance(time.Second)
	waitWaiters()
	s := read()
	if s.Status != imeapi.DOCaching || s.BytesToLanPeers != 4096 || s.BytesToGroupPeers != 100 {
		t.Fatalf("while serving: %+v, want Caching with the uploads", s)
	}
	// Unchanged figures are not written again.
	if err := os.Remove(c.recordPath("a")); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	waitWaiters()
	if _, err := os.Stat(c.recordPath("a")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an unchanged record was written again: %v", err)
	}
	clk.Advance(5 * time.Second) // no upload for CachingWindow
	waitWaiters()
	if s := read(); s.Status != imeapi.DOComplete || s.BytesToLanPeers != 4096 {
		t.Fatalf("after serving: %+v, want Complete, counters kept", s)
	}
	cancel()
	<-done
	c.touch(ct)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if s := read(); s.Status != imeapi.DOComplete {
		t.Fatalf("after Close: %+v, want Complete (nothing serves it)", s)
	}
}

// TestRecordWithoutContent: a download the cache keeps no content of
// (modes 0, 99, 100) has a record all the same, without its SAS query,
// with ExpireOn, pinnable, and expired by age unless pinned.
func TestRecordWithoutContent(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	c, err := OpenCache(filepath.Join(t.TempDir(), "DOCache"), CacheOptions{Clock: clk, MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range []imeapi.DownloadMode{imeapi.ModeHTTPOnly, imeapi.ModeSimple, imeapi.ModeBypass} {
		id := "m" + m.String()
		if err := c.Record(fetch.Status{FileId: id, DownloadMode: m, SourceURL: "https://h/blobs/x.bin?se=1&sig=s3cret", Status: imeapi.DOComplete}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Record(fetch.Status{FileId: "../x"}); !errors.Is(err, ErrBadID) {
		t.Fatalf("bad id: %v", err)
	}
	sts, err := ReadStatus(c.Dir())
	if err != nil || len(sts) != 3 {
		t.Fatalf("ReadStatus %+v (%v)", sts, err)
	}
	for _, s := range sts {
		if s.SourceURL != "https://h/blobs/x.bin" || time.Time(s.ExpireOn) != clk.Now().Add(time.Hour) || s.IsPinned {
			t.Errorf("record %+v", s)
		}
	}
	if err := SetPinned(c.Dir(), sts[0].FileId, true); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	gone, err := c.Expire()
	if err != nil || len(gone) != 2 || slices.Contains(gone, sts[0].FileId) {
		t.Fatalf("removed %v (%v), want the two unpinned", gone, err)
	}
	if left, _ := ReadStatus(c.Dir()); len(left) != 1 || !left[0].IsPinned {
		t.Fatalf("left %+v", left)
	}
}
