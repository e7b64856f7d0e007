package peer

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clocktest"
)

func TestCacheReloadAndExpire(t *testing.T) {
	f := newTestFile(t, 3*testPiece, 9)
	o := newOrigin(t, f, 0)
	root := t.TempDir()
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	c, err := OpenCache(filepath.Join(root, "DOCache"), CacheOptions{MaxAge: time.Hour, Clock: clocktest.Func(clock)})
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(root, "a.bin")
	res, err := Download(context.Background(), DownloadConfig{Info: infoOf(f, o), Hashes: f.hashes, Path: target, Cache: c, Mode: imeapi.ModeHTTPOnly})
	if err != nil {
		t.Fatal(err)
	}
	if res.FileSizeInCache != int64(len(f.data)) || res.FileId != f.id {
		t.Fatalf("record %+v", res.Status)
	}
	ct, _ := c.Get(f.id)
	ct.addUploaded(ct2kind("LAN"), 1234)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// The download target may go (Incoming is cleaned): the cache keeps its link.
	if err := os.Remove(target); err != nil {
		t.Fatal(err)
	}
	sts, err := ReadStatus(c.Dir())
	if err != nil || len(sts) != 1 || sts[0].BytesToLanPeers != 1234 || sts[0].BytesFromHttp != int64(len(f.data)) {
		t.Fatalf("ReadStatus: %+v, %v", sts, err)
	}
	// A leftover of an interrupted download is dropped on open.
	if err := os.WriteFile(filepath.Join(c.Dir(), "other"+dataSuffix), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	c2, err := OpenCache(c.Dir(), CacheOptions{MaxAge: time.Hour, Clock: clocktest.Func(clock)})
	if err != nil {
		t.Fatal(err)
	}
	ct, ok := c2.Get(f.id)
	if !ok || ct.Missing() != 0 {
		t.Fatalf("reloaded: %v %v", ok, ct)
	}
	buf := make([]byte, testPiece)
	if b, err := ct.ReadPiece(2, buf); err != nil || len(b) != len(f.data)-2*testPiece {
		t.Fatalf("ReadPiece after reload: %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.Dir(), "other"+dataSuffix)); !os.IsNotExist(err) {
		t.Fatalf("leftover kept: %v", err)
	}
	if gone, _ := c2.Expire(); len(gone) != 0 {
		t.Fatalf("expired too early: %v", gone)
	}
	now = now.Add(2 * time.Hour)
	if gone, _ := c2.Expire(); len(gone) != 1 {
		t.Fatalf("not expired: %v", gone)
	}
	if ents, _ := os.ReadDir(c.Dir()); len(ents) != 0 {
		t.Fatalf("left %d files", len(ents))
	}
}

func TestCacheSizeCap(t *testing.T) {
	root := t.TempDir()
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	c, err := OpenCache(root, CacheOptions{MaxBytes: 5 * testPiece, Clock: clocktest.Func(func() time.Time { return now })})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 {
		f := newTestFile(t, 2*testPiece, uint64(20+i))
		f.id = "file" + string(rune('a'+i))
		o := newOrigin(t, f, 0)
		if _, err := Download(context.Background(), DownloadConfig{Info: infoOf(f, o), Hashes: f.hashes, Path: filepath.Join(t.TempDir(), "x.bin"), Cache: c}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, f.id)
		now = now.Add(time.Minute)
	}
	gone, err := c.Expire()
	if err != nil || len(gone) != 1 || gone[0] != ids[0] {
		t.Fatalf("expired %v, %v; want the oldest only", gone, err)
	}
}

// TestReinstallFromCache: content the DO cache holds complete is served
// from it (nothing downloaded); a cached copy that no longer verifies is
// dropped and downloaded again.
func TestReinstallFromCache(t *testing.T) {
	f := newTestFile(t, 6*testPiece+123, 9)
	o := newOrigin(t, f, 0)
	n := newNode(t, "again", "lan1", "", imeapi.ModeLAN, nil)
	ctx := context.Background()
	n.download(ctx, f, o, newFakeArray(), "")
	n.verify(t, f)
	first := o.sent.Load()

	must(t, os.Remove(n.path())) // the agent cleaned Incoming after the install
	n.download(ctx, f, o, newFakeArray(), "")
	n.verify(t, f)
	if o.sent.Load() != first || n.result.Status.TotalBytesDownloaded != 0 || n.result.Status.FileSizeInCache != int64(len(f.data)) {
		t.Fatalf("reinstall downloaded again: origin sent %d more bytes, record %+v", o.sent.Load()-first, n.result.Status)
	}

	must(t, os.Remove(n.path()))
	data := n.cache.dataPath(f.id)
	b, err := os.ReadFile(data)
	must(t, err)
	b[len(b)/2] ^= 1
	must(t, os.WriteFile(data, b, 0o644))
	n.download(ctx, f, o, newFakeArray(), "")
	n.verify(t, f)
	if o.sent.Load() == first {
		t.Fatal("a damaged cached copy was used instead of downloading again")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
