package fetch

import (
	"bufio"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/internal/nginxtest"
)

// startNginx serves root with a private nginx on a free loopback port
// (package nginxtest), logging $bytes_sent of every request.
func startNginx(t *testing.T, bin, root, extra string) *nginxtest.Server {
	t.Helper()
	return nginxtest.Start(t, bin, "sendfile on; keepalive_requests 100000;", "root "+root+"; "+extra)
}

// bytesSent sums $bytes_sent over an nginxtest access log.
func bytesSent(t *testing.T, s *nginxtest.Server) (total int64, requests int) {
	t.Helper()
	f, err := os.Open(filepath.Join(s.Dir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n, err := strconv.ParseInt(strings.Fields(sc.Text())[0], 10, 64)
		if err != nil {
			t.Fatalf("access log line %q: %v", sc.Text(), err)
		}
		total += n
		requests++
	}
	return total, requests
}

// writeRandomFile writes size seeded random bytes and returns their SHA-256.
func writeRandomFile(t testing.TB, path string, size int64, seed uint64) [32]byte {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	r := rand.NewChaCha8([32]byte{byte(seed), 1, 2, 3})
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		b := buf[:min(int64(len(buf)), left)]
		_, _ = r.Read(b)
		h.Write(b)
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
		left -= int64(len(b))
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// buildImepipe builds the command into a temporary directory.
func buildImepipe(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "imepipe")
	cmd := exec.Command(filepath.Join(goroot(), "bin", "go"), "build", "-o", out, "github.com/imepipe/imepipe/cmd/imepipe")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func goroot() string {
	b, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "/usr/local/go"
	}
	return strings.TrimSpace(string(b))
}
