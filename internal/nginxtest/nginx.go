// Package nginxtest runs a private nginx on 127.0.0.1 for integration
// tests: its own prefix, config, logs and temp paths in a test folder,
// stopped when the test ends. It is for tests only.
package nginxtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Need returns the nginx binary. It skips the test unless integration or
// slow tests were asked for (IMEPIPE_INTEGRATION=1, IMEPIPE_SLOW=1), and
// fails under IMEPIPE_INTEGRATION=1 when nginx is missing (`make deps`).
func Need(t testing.TB) string {
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

// Server is one running nginx.
type Server struct {
	Addr string // 127.0.0.1:port
	URL  string // http://Addr
	Dir  string // prefix: nginx.conf, access.log, error.log, tmp/
	cmd  *exec.Cmd
}

// Start runs nginx with an http block holding httpExtra and one server
// on a free loopback port whose body is server. The access log format
// "sent" ('$bytes_sent $status $upstream_cache_status') is defined for
// the server to use.
func Start(t testing.TB, bin, httpExtra, server string) *Server {
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
  log_format sent '$bytes_sent $status $upstream_cache_status';
  access_log %[1]s/access.log sent;
  client_body_temp_path %[1]s/tmp; proxy_temp_path %[1]s/tmp; fastcgi_temp_path %[1]s/tmp;
  uwsgi_temp_path %[1]s/tmp; scgi_temp_path %[1]s/tmp;
  %[3]s
  server { listen %[2]s; %[4]s }
}
`, dir, addr, httpExtra, server)
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	global := "daemon off;"
	if os.Geteuid() == 0 {
		global += " user root;"
	}
	cmd := exec.Command(bin, "-p", dir, "-c", cf, "-g", global)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: addr, URL: "http://" + addr, Dir: dir, cmd: cmd}
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s within 10 s (see %s/error.log)", addr, dir)
		}
		<-tick.C
	}
}

// Stop ends nginx gracefully so its logs are complete; it is idempotent.
func (s *Server) Stop() {
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
