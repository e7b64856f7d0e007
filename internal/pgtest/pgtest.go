// Package pgtest runs a private PostgreSQL cluster on 127.0.0.1 for
// tests and benchmarks: initdb into a temp folder, postgres on a free loopback port
// (fsync off: the data are thrown away), stopped when the test ends. As
// root it runs both as the unprivileged `postgres` user that Debian's
// package creates. It is for tests and benchmarks only; it does not tune or secure the
// cluster (trust authentication, loopback only).
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvAddr names a running cluster (HOST:PORT; trust authentication for
// the user postgres) that Start and Launch use instead of starting one:
// how the Windows build's tests, under Wine, reach the cluster
// scripts/windows/test.sh runs on the Linux side. Stop leaves it running.
const EnvAddr = "IMEPIPE_PGTEST_ADDR"

// Bin returns the folder of initdb and postgres: the one on PATH, else
// the newest /usr/lib/postgresql/*/bin; "" when there is none.
func Bin() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(found, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[i]))))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[j]))))
		return a > b
	})
	if len(found) == 0 {
		return ""
	}
	return filepath.Dir(found[0])
}

// Need returns the PostgreSQL binaries' folder ("" with EnvAddr set). It
// skips the test in -short mode, off Linux without EnvAddr (the Windows
// tests run under Wine: make test-windows sets it) or when PostgreSQL is
// not installed, and fails instead under CI=true on Linux (`make deps`
// installs it).
func Need(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("postgres test: skipped in -short mode")
	}
	if os.Getenv(EnvAddr) != "" {
		return ""
	}
	if runtime.GOOS != "linux" {
		t.Skip("postgres test: starts its cluster on Linux only; set " + EnvAddr + " to a running one (make test-windows does)")
	}
	bin := Bin()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("postgres test: initdb not found (make deps installs postgresql)")
		}
		t.Skip("postgres test: initdb not found (make deps installs postgresql)")
	}
	return bin
}

// Server is one running cluster.
type Server struct {
	Addr string // 127.0.0.1:port
	Dir  string // the cluster's folder: data/, postgres.log
	cmd  *exec.Cmd
	logf *os.File
	dbs  atomic.Int64
}

// Start runs a new cluster; t's cleanup stops it and removes its folder.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Need(t)
	s, err := Launch(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Launch runs a new cluster with the binaries in bin (Bin), for
// benchmarks; Stop ends it and removes its folder.
func Launch(bin string) (*Server, error) {
	if addr := os.Getenv(EnvAddr); addr != "" {
		return &Server{Addr: addr}, nil
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s, err := launch(bin, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func launch(bin, dir string) (*Server, error) {
	runAs, err := unprivileged(dir)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	runAs(initdb)
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-h", "127.0.0.1", "-p", port, "-k", dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	runAs(cmd)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s := &Server{Addr: addr, Dir: dir, cmd: cmd, logf: logf}
	// Ready when a session opens; bounded at 30 s of 20 ms tries.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			c.Close(ctx)
			return s, nil
		}
		select {
		case <-ctx.Done():
			s.stop()
			return nil, fmt.Errorf("pgtest: postgres not ready on %s within 30 s: %w (see %s)", addr, err, logf.Name())
		case <-tick.C:
		}
	}
}

// URL is the connection URL of database db.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", s.Addr, db)
}

// NewDatabase creates an empty database and returns its URL; each call
// gives a new one, so tests sharing a cluster do not see each other.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	url, err := s.CreateDatabase()
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// External reports whether s is the cluster EnvAddr names (not started,
// not stopped here).
func (s *Server) External() bool { return s.cmd == nil }

// CreateDatabase is NewDatabase outside a test.
func (s *Server) CreateDatabase() (string, error) {
	// Unique across processes too: the test binaries of several packages
	// share an EnvAddr cluster.
	var r [4]byte
	_, _ = rand.Read(r[:])
	name := fmt.Sprintf("t%d_%x", s.dbs.Add(1), r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	return s.URL(name), nil
}

// Stop ends postgres with a fast shutdown (SIGINT), killing it after
// 10 s, and removes the cluster's folder; it is idempotent.
func (s *Server) Stop() {
	s.stop()
	os.RemoveAll(s.Dir)
}

func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.logf.Close()
}
