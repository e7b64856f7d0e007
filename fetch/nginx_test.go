package fetch

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// needNginx skips unless integration or slow tests are asked for, and
// fails under IMEPIPE_INTEGRATION=1 when nginx is missing.
func needNginx(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("nginx test: skipped in -short mode")
	}
	integration := os.Getenv("IMEPIPE_INTEGRATION") == "1"
	if !integration && os.Getenv("IMEPIPE_SLOW") != "1" {
		t.Skip("nginx test: set IMEPIPE_INTEGRATION=1 or IMEPIPE_SLOW=1 to run")
	}
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if integration {
			t.Fatal("nginx test: nginx not found (make deps installs nginx-light)")
		}
		t.Skip("nginx test: nginx not found (make deps installs nginx-light)")
	}
	return bin
}

// nginxServer is a private nginx serving root on a free loopback port,
// logging $bytes_sent of every request.
type nginxServer struct {
	cmd       *exec.Cmd
	url       string
	accessLog string
}

func startNginx(t *testing.T, bin, root, extra string) *nginxServer {
	t.Helper()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	conf := fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 1024; }
http {
  log_format sent '$bytes_sent $status';
  access_log %[1]s/access.log sent;
  client_body_temp_path %[1]s/tmp; proxy_temp_path %[1]s/tmp; fastcgi_temp_path %[1]s/tmp;
  uwsgi_temp_path %[1]s/tmp; scgi_temp_path %[1]s/tmp;
  sendfile on;
  keepalive_requests 100000;
  server { listen %[2]s; root %[3]s; %[4]s }
}
`, dir, addr, root, extra)
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-p", dir, "-c", cf, "-g", "daemon off;"}
	if os.Geteuid() == 0 {
		args[len(args)-1] = "daemon off; user root;"
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &nginxServer{cmd: cmd, url: "http://" + addr, accessLog: filepath.Join(dir, "access.log")}
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(10 * time.Second)
	for tick := time.NewTicker(10 * time.Millisecond); ; <-tick.C {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			tick.Stop()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s within 10 s", addr)
		}
	}
}

// stop ends nginx gracefully so the access log is complete.
func (s *nginxServer) stop() {
	if s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGQUIT)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// bytesSent sums $bytes_sent over the access log.
func (s *nginxServer) bytesSent(t *testing.T) (total int64, requests int) {
	t.Helper()
	f, err := os.Open(s.accessLog)
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
