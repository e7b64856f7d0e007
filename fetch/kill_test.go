package fetch

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/nginxtest"
)

// TestKillResume: imepipe fetch of a 512 MiB file from nginx is SIGKILLed
// at 5 random byte counts and restarted each time; the final file is
// right and nginx sent at most 1.15 × the file in total.
//
// nginx sends each request at 16 MiB/s (128 MiB/s over the 8
// connections), as an origin across a WAN would: the client is not the
// bottleneck, so what a kill loses is what imepipe had not journaled
// (the pieces in progress, at most a piece per connection). Unbounded on
// loopback, a client slowed by a loaded machine lets nginx fill both
// socket buffers of every connection (up to about 10 MiB each), which
// nginx counts as sent; that is the kernel's, not the journal's, and it
// made the bound fail on a busy CI host (1.20×, against 1.08× idle).
func TestKillResume(t *testing.T) {
	bin := nginxtest.Need(t)
	const size = 512 << 20
	root := t.TempDir()
	want := writeRandomFile(t, filepath.Join(root, "big.bin"), size, 1)
	srv := startNginx(t, bin, root, "limit_rate 16m;")
	imepipe := buildImepipe(t)
	dst := filepath.Join(t.TempDir(), "big.bin")
	url := srv.URL + "/big.bin"

	rng := rand.New(rand.NewPCG(2024, 5))
	var have int64
	for i := range 5 {
		// A random point in the next part of what is still missing.
		at := have + int64(rng.Float64()*0.4*float64(size-have))
		cmd := exec.Command(imepipe, "fetch", "-o", dst, "--connections", "8", "--json", url)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var exited bool
		have, exited = pollUntil(t, dst, at, done)
		if exited {
			t.Fatalf("kill %d: imepipe finished before %d bytes (had %d)", i, at, have)
		}
		_ = cmd.Process.Kill()
		<-done
		t.Logf("kill %d: SIGKILL with %d MiB journaled (target %d MiB)", i, have>>20, at>>20)
	}
	out, err := exec.Command(imepipe, "fetch", "-o", dst, "--connections", "8", "--json", url).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("final run: %v: %s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var st Status
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("final --json: %v\n%s", err, out)
	}
	checkCounters(t, st)
	if st.Status != imeapi.DOComplete || st.FileSize != size {
		t.Errorf("final status %+v", st)
	}
	got := fileSHA256(t, dst)
	if !bytes.Equal(got[:], want[:]) {
		t.Fatalf("SHA-256 %x, want %x", got, want)
	}
	// The CLI keeps the journal after success as the file's completion
	// record (a later fetch of the same content downloads nothing).
	if _, err := os.Stat(journalPath(dst)); err != nil {
		t.Errorf("completion record after success: %v", err)
	}
	srv.Stop()
	sent, reqs := bytesSent(t, srv)
	ratio := float64(sent) / size
	t.Logf("nginx sent %d bytes in %d requests for a %d-byte file: %.3f×", sent, reqs, int64(size), ratio)
	if ratio > 1.15 {
		t.Errorf("nginx sent %.3f × the file size over 5 kills; want ≤ 1.15", ratio)
	}
}

// pollUntil waits until the journal next to dst records at least at
// bytes, or the process exits. A small ticker with an overall deadline.
func pollUntil(t *testing.T, dst string, at int64, exited <-chan error) (have int64, done bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case <-exited:
			return have, true
		case <-deadline:
			t.Fatalf("no progress to %d bytes within 2 minutes (have %d)", at, have)
		case <-tick.C:
		}
		if b, err := os.ReadFile(journalPath(dst)); err == nil {
			if jr, err := decodeJournal(b); err == nil {
				have = jr.pieces.completeBytes()
			}
		}
		if have >= at {
			return have, false
		}
	}
}

func fileSHA256(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := f.WriteTo(h); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}
