package peer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// TestHostileDoFileIdStaysInCache: a DoFileId a lying service sends is
// used to name files in the DO cache; traversal, absolute, separator,
// dot, control-character and over-long ids are refused by Begin, Remove
// and Download before any path is built, and nothing appears beside the
// cache folder or in it.
func TestHostileDoFileIdStaysInCache(t *testing.T) {
	f := newTestFile(t, 2*testPiece, 3)
	o := newOrigin(t, f, 0)
	root := t.TempDir()
	c, err := OpenCache(filepath.Join(root, "DOCache"), CacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	target := filepath.Join(root, "in.bin")
	for _, id := range []string{"../../x", "../x", "/x", `..\x`, "a/b", ".x", "..", ".", "", "a\x00b", "a\nb", strings.Repeat("a", 201)} {
		if _, err := c.Begin(id, int64(len(f.data)), testPiece, f.hashes, target); !errors.Is(err, ErrBadID) {
			t.Errorf("Begin(%q): %v, want ErrBadID", id, err)
		}
		if err := c.Remove(id); !errors.Is(err, ErrBadID) {
			t.Errorf("Remove(%q): %v, want ErrBadID", id, err)
		}
		info := infoOf(f, o)
		info.DoFileID = id
		if _, err := Download(context.Background(), DownloadConfig{Info: info, Hashes: f.hashes, Path: target, Cache: c, Mode: imeapi.ModeHTTPOnly}); !errors.Is(err, ErrBadID) {
			t.Errorf("Download(DoFileId %q): %v, want ErrBadID", id, err)
		}
	}
	for dir, want := range map[string]int{root: 1, c.Dir(): 0} {
		ents, err := os.ReadDir(dir)
		if err != nil || len(ents) != want {
			t.Errorf("%s holds %v (%v), want %d entries", dir, ents, err, want)
		}
	}
}

// TestRecordSignatureRedacted: a DO record is written and read back
// (imepipe do status) with its SourceURL stripped of the blob's SAS
// query, also when the status handed to Finish still carries it.
func TestRecordSignatureRedacted(t *testing.T) {
	const secret = "c2VjcmV0LXNpZ25hdHVyZQ"
	f := newTestFile(t, 2*testPiece, 4)
	root := t.TempDir()
	c, err := OpenCache(filepath.Join(root, "DOCache"), CacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	target := filepath.Join(root, "in.bin")
	if err := os.WriteFile(target, f.data, 0o600); err != nil {
		t.Fatal(err)
	}
	ct, err := c.Begin(f.id, int64(len(f.data)), testPiece, f.hashes, target)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.hashes {
		ct.markHave(i)
	}
	if err := c.Finish(ct, fetch.Status{FileId: f.id, SourceURL: "http://h/blobs/a.bin?se=1&sig=" + secret}); err != nil {
		t.Fatal(err)
	}
	rec, err := os.ReadFile(c.recordPath(f.id))
	if err != nil || strings.Contains(string(rec), secret) || strings.Contains(string(rec), "se=1") {
		t.Fatalf("record %s (%v)", rec, err)
	}
	sts, err := ReadStatus(c.Dir())
	if err != nil || len(sts) != 1 || sts[0].SourceURL != "http://h/blobs/a.bin" {
		t.Fatalf("ReadStatus %+v (%v)", sts, err)
	}
}
