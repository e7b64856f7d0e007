package reap

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// launchBound bounds a launch test's run: a report that never comes ends
// in a killed tree and a failed test, not a hung one.
const launchBound = 60 * time.Second

// TestInstallerStartedWhileRunning: Spec.InstallerStarted names the
// installer (the pid Result.PID names), not the reaper (Started), once,
// and comes while the installer runs, not with the Result. The installer
// is this test binary as the test's second process (testChild), which
// runs until the test writes it a byte.
func TestInstallerStartedWhileRunning(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), launchBound)
	defer cancel()
	reaper, installer := make(chan int, 1), make(chan int, 2)
	type ran struct {
		res Result
		err error
	}
	done := make(chan ran, 1)
	go func() {
		res, err := Run(ctx, Spec{
			Argv:             []string{exe},
			Dir:              dir,
			Env:              append(os.Environ(), envChild+"="+ln.Addr().String()),
			ResultPath:       filepath.Join(dir, "result.json"),
			Started:          func(pid int) { reaper <- pid },
			InstallerStarted: func(pid int) { installer <- pid },
		})
		done <- ran{res, err}
	}()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(launchBound))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatalf("the installer never called in: %v", err)
	}
	defer conn.Close()
	var pid int
	select {
	case pid = <-installer:
	case r := <-done:
		t.Fatalf("Run ended (%+v, %v) and InstallerStarted was not called while the installer ran", r.res, r.err)
	}
	if _, err := conn.Write([]byte{1}); err != nil {
		t.Fatalf("the installer is gone when InstallerStarted is called: %v", err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if rp := <-reaper; pid != r.res.PID || pid == rp {
		t.Fatalf("InstallerStarted(%d); the installer is %d, the reaper %d", pid, r.res.PID, rp)
	}
	if len(installer) != 0 {
		t.Fatalf("InstallerStarted called again, with %d", <-installer)
	}
}

// TestInstallerStartedNotForFailedStart: an installer that cannot start
// is no installer pid; Run fails as before (the reaper wrote no Result).
func TestInstallerStartedNotForFailedStart(t *testing.T) {
	dir := t.TempDir()
	called := false
	_, err := Run(context.Background(), Spec{
		Argv:             []string{filepath.Join(dir, "no-such-installer")},
		Dir:              dir,
		Env:              os.Environ(),
		ResultPath:       filepath.Join(dir, "result.json"),
		InstallerStarted: func(int) { called = true },
	})
	if !errors.Is(err, ErrNoResult) || called {
		t.Fatalf("Run: %v, InstallerStarted called: %v; want ErrNoResult and no call", err, called)
	}
}

// TestReadLaunch: the report is one positive decimal line; anything else
// is no pid.
func TestReadLaunch(t *testing.T) {
	for _, tc := range []struct {
		in   string
		pid  int
		want bool
	}{
		{"4242\n", 4242, true},
		{"1\nrest", 1, true},
		{"", 0, false},
		{"4242", 0, false}, // cut short: the reaper died mid-write
		{"0\n", 0, false},
		{"-7\n", 0, false},
		{"pid 7\n", 0, false},
		{strings.Repeat("9", 2*maxLaunchLine) + "\n", 0, false},
	} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			w.WriteString(tc.in)
			w.Close()
		}()
		pid, ok := readLaunch(r)
		if pid != tc.pid || ok != tc.want {
			t.Errorf("readLaunch(%q) = %d, %v; want %d, %v", tc.in, pid, ok, tc.pid, tc.want)
		}
	}
}
