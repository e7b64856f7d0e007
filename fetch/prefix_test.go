package fetch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"testing"
)

// readWhileRunning reads the job's file through a PrefixReader made before
// Run, in small reads, while Run goes on.
func readWhileRunning(t *testing.T, job *Job) ([]byte, error, error) {
	t.Helper()
	pr := job.NewPrefixReader(context.Background())
	defer pr.Close()
	got := make(chan []byte, 1)
	rerr := make(chan error, 1)
	go func() {
		var out bytes.Buffer
		buf := make([]byte, 7777)
		for {
			n, err := pr.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				got <- out.Bytes()
				rerr <- err
				return
			}
		}
	}()
	_, runErr := job.Run(context.Background())
	return <-got, <-rerr, runErr
}

func TestPrefixReaderReadsWhatIsDownloaded(t *testing.T) {
	content := randomBytes(21, 3<<20+123)
	o := newOrigin(t, content)
	var sl sleeps
	opt := testOptions(&sl)
	job, _ := New(filepath.Join(t.TempDir(), "out.bin"), []Source{mustHTTP(t, o.url())}, opt)
	got, rerr, err := readWhileRunning(t, job)
	if err != nil || rerr != nil {
		t.Fatalf("run %v, reader %v", err, rerr)
	}
	if !bytes.Equal(got, content) {
		t.Fatalf("reader got %d bytes, want the %d downloaded", len(got), len(content))
	}
}

func TestPrefixReaderRunFails(t *testing.T) {
	content := randomBytes(22, 2<<20)
	o := newOrigin(t, content)
	o.inject = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Range") != "" && r.Header.Get("Range") != "bytes=0-0" && n > 2 {
			http.Error(w, "gone", http.StatusNotFound)
			return true
		}
		return false
	}
	var sl sleeps
	job, _ := New(filepath.Join(t.TempDir(), "out.bin"), []Source{mustHTTP(t, o.url())}, testOptions(&sl))
	got, rerr, err := readWhileRunning(t, job)
	if err == nil {
		t.Fatal("the run did not fail")
	}
	if !errors.Is(rerr, ErrEnded) {
		t.Fatalf("reader: %v, want ErrEnded", rerr)
	}
	if !bytes.Equal(got, content[:len(got)]) {
		t.Fatal("the reader returned bytes that are not the content's")
	}
}

func TestPrefixReaderContextEnds(t *testing.T) {
	var sl sleeps
	job, _ := New(filepath.Join(t.TempDir(), "out.bin"), []Source{mustHTTP(t, "http://127.0.0.1:1/x")}, testOptions(&sl))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pr := job.NewPrefixReader(ctx) // the job never runs
	if _, err := pr.Read(make([]byte, 10)); !errors.Is(err, context.Canceled) {
		t.Fatalf("read: %v, want context.Canceled", err)
	}
}
