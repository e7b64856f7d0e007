package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://h/blobs/a.bin?se=1700000000&sig=c2VjcmV0", "http://h/blobs/a.bin?se=1700000000&sig=REDACTED"},
		{"http://h/a?sig=x&se=1", "http://h/a?sig=REDACTED&se=1"},
		{"http://h/a?SIG=x&Sig=y&sigma=keep", "http://h/a?SIG=REDACTED&Sig=REDACTED&sigma=keep"},
		{"http://h/a?s%69g=x", "http://h/a?s%69g=REDACTED"},
		{"http://h/a?se=1&sig=x#frag", "http://h/a?se=1&sig=REDACTED#frag"},
		{"http://h/a?cacheHostOrigin=o&se=1&sig=x", "http://h/a?cacheHostOrigin=o&se=1&sig=REDACTED"},
		{"http://user:pw@h/a?sig=x", "http://user:xxxxx@h/a?sig=REDACTED"},
		{"http://h/a", "http://h/a"},
		{"http://h/a?", "http://h/a?"},
		{"", ""},
		{"not a url ?sig=x", "not a url ?sig=REDACTED"},
	} {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestSignatureNotInRecordOrErrors: after a download from a signed URL the
// DO record (SourceURL, its JSON) and the source's String carry no
// signature value; neither do the errors of a 403 and of a refused
// connection.
func TestSignatureNotInRecordOrErrors(t *testing.T) {
	const secret = "c2VjcmV0LXNpZ25hdHVyZQ"
	data := bytes.Repeat([]byte("imepipe "), 4096)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sig") != secret {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		http.ServeContent(w, r, "a.bin", time.Time{}, bytes.NewReader(data))
	}))
	defer srv.Close()
	noWait := Retry{Attempts: 1, Sleep: func(context.Context, time.Duration) error { return nil }}
	run := func(u string) (Status, error) {
		src, err := NewHTTP(u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(src.String(), secret) {
			t.Errorf("source String %q carries the signature", src.String())
		}
		job, err := New(filepath.Join(t.TempDir(), "a.bin"), []Source{src}, Options{Retry: noWait})
		if err != nil {
			t.Fatal(err)
		}
		return job.Run(context.Background())
	}
	st, err := run(srv.URL + "/blobs/a.bin?se=1&sig=" + secret)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(st)
	if st.TotalBytesDownloaded != int64(len(data)) || st.SourceURL != srv.URL+"/blobs/a.bin" || strings.Contains(string(rec), secret) {
		t.Fatalf("record %s", rec)
	}
	if _, err := run(srv.URL + "/blobs/a.bin?se=1&sig=" + secret + "x"); err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "403") {
		t.Fatalf("403 error %v", err)
	}
	srv.Close()
	if _, err := run(srv.URL + "/blobs/a.bin?se=1&sig=" + secret); err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("connection error %v", err)
	}
}

func TestSourceURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://h/blobs/a.bin?se=1&sp=r&sig=abc", "https://h/blobs/a.bin"},
		{"https://u:pw@h/a.bin?sig=x#frag", "https://u:xxxxx@h/a.bin"},
		{"https://h/a.bin#frag", "https://h/a.bin"},
		{"https://h/a.bin", "https://h/a.bin"},
		{"not a url?sig=secret", "not a url"},
	} {
		if got := SourceURL(c.in); got != c.want {
			t.Errorf("SourceURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
