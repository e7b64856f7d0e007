package fetch

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExpireOnWithoutCache: a record nothing caches (imepipe fetch
// --json) has "ExpireOn": null, not year 1; a cached file's is RFC 3339,
// and both read back.
func TestExpireOnWithoutCache(t *testing.T) {
	b, err := json.Marshal(Status{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"ExpireOn":null`) {
		t.Errorf("zero ExpireOn: %s, want \"ExpireOn\":null", b)
	}
	var back Status
	if err := json.Unmarshal(b, &back); err != nil || !time.Time(back.ExpireOn).IsZero() {
		t.Errorf("null read back as %v (%v), want the zero time", back.ExpireOn, err)
	}
	at := time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)
	b, _ = json.Marshal(Status{ExpireOn: DateTime(at)})
	if !strings.Contains(string(b), `"ExpireOn":"2026-03-04T08:00:00Z"`) {
		t.Errorf("ExpireOn %v: %s", at, b)
	}
	if err := json.Unmarshal(b, &back); err != nil || !time.Time(back.ExpireOn).Equal(at) {
		t.Errorf("read back %v (%v), want %v", back.ExpireOn, err, at)
	}
}

// TestAlreadyCompleteRecordHasConnection: the record of a file found
// complete keeps the first run's BytesFromHttp (the file's, as DO's
// record is) and so names at least one HTTP connection beside them: the
// one request the re-check made. The Stat's one byte is not counted.
func TestAlreadyCompleteRecordHasConnection(t *testing.T) {
	content := randomBytes(21, 960)
	o := newOrigin(t, content)
	var sl sleeps
	opt := testOptions(&sl)
	opt.KeepJournal = true
	dst := filepath.Join(t.TempDir(), "f.bin")
	st1, _ := runFor(t, dst, o.url(), opt)
	st2, run2 := runFor(t, dst, o.url(), opt)
	if !run2.AlreadyComplete || run2.Bytes != 0 {
		t.Fatalf("second run: %+v, want already complete, nothing counted", run2)
	}
	if st1.BytesFromHttp != 960 || st1.HttpConnectionCount != 1 {
		t.Errorf("first run: BytesFromHttp %d, HttpConnectionCount %d; want 960, 1", st1.BytesFromHttp, st1.HttpConnectionCount)
	}
	if st2.BytesFromHttp != 960 || st2.HttpConnectionCount != 1 || st2.TotalBytesDownloaded != 960 {
		t.Errorf("already complete: BytesFromHttp %d, HttpConnectionCount %d, TotalBytesDownloaded %d; want 960, 1, 960",
			st2.BytesFromHttp, st2.HttpConnectionCount, st2.TotalBytesDownloaded)
	}
	if st2.LanConnectionCount != 0 || st2.BytesFromLanPeers != 0 {
		t.Errorf("already complete: LAN peers %d bytes over %d, want none", st2.BytesFromLanPeers, st2.LanConnectionCount)
	}
}

// TestBadURLError: a URL or cache host the sources cannot use is a
// *BadURLError, before any request, so a CLI can call it a usage error.
func TestBadURLError(t *testing.T) {
	var bad *BadURLError
	for _, u := range []string{"notaurl", "ftp://h/x", "http:///x", "http://[::1/x"} {
		_, err := NewHTTP(u, nil)
		if !errors.As(err, &bad) || bad.What != "URL" || bad.Value != u || strings.Count(err.Error(), "fetch:") != 1 {
			t.Errorf("NewHTTP(%q): %v, want one *BadURLError for the URL", u, err)
		}
	}
	if _, err := NewCache("http://h/x", "a/b", nil); !errors.As(err, &bad) || bad.What != "cache host" || bad.Value != "a/b" {
		t.Errorf("NewCache with host a/b: %v, want a *BadURLError for the cache host", err)
	}
	if _, err := NewCache("notaurl", "h:80", nil); !errors.As(err, &bad) || bad.What != "URL" {
		t.Errorf("NewCache of notaurl: %v, want a *BadURLError for the URL", err)
	}
}
