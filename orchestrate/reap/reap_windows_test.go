package reap

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// chainCmd is an installer that starts a second process and exits at once
// with 7, as chained installers (a bootstrapper starting the real setup) do.
const chainCmd = "@echo off\r\nstart \"\" /b \"%IMEPIPE_REAP_TEST_EXE%\"\r\nexit /b 7\r\n"

// ioBound bounds every wait on the second process.
const ioBound = 60 * time.Second

type runOutcome struct {
	res          Result
	err          error
	lateAtReturn bool // the second process had finished its work when Run returned
}

// startChain writes chain.cmd into a new content folder and runs it through
// Run (cmd.exe under the reaper's Job Object) in the background. It returns
// the connection of the second process, once that process is alive, and
// the channel of Run's outcome.
func startChain(t *testing.T, ctx context.Context) (dir string, conn net.Conn, done <-chan runOutcome) {
	t.Helper()
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "chain.cmd"), []byte(chainCmd), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	late := filepath.Join(dir, "late")
	env := append(os.Environ(), envChild+"="+ln.Addr().String(), envLate+"="+late, "IMEPIPE_REAP_TEST_EXE="+exe)
	ch := make(chan runOutcome, 1)
	go func() {
		res, err := Run(ctx, Spec{
			CommandLine: `cmd.exe /d /c chain.cmd`,
			Dir:         dir,
			Env:         env,
			ResultPath:  filepath.Join(dir, "result.json"),
		})
		_, serr := os.Stat(late)
		ch <- runOutcome{res, err, serr == nil}
	}()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(ioBound))
	conn, err = ln.Accept()
	if err != nil {
		select {
		case o := <-ch:
			t.Fatalf("the second process never called in; Run: %+v %v", o.res, o.err)
		default:
			t.Fatalf("the second process never called in: %v", err)
		}
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(ioBound))
	return dir, conn, ch
}

// TestChainedCmdKeptUntilSecondProcessEnds (issue #15, acceptance 3): a .cmd
// that starts a second process and exits is not done until that process
// ends: the Job Object holds the tree, so Run (and with it the agent, which
// removes the IMECache folder only after Run) returns after the second
// process, with the .cmd's exit code and the orphan counted.
func TestChainedCmdKeptUntilSecondProcessEnds(t *testing.T) {
	dir, conn, done := startChain(t, context.Background())
	select {
	case o := <-done:
		t.Fatalf("Run returned while the second process was alive: %+v %v", o.res, o.err)
	default:
	}
	if _, err := conn.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	var ack [1]byte
	if _, err := io.ReadFull(conn, ack[:]); err != nil {
		t.Fatalf("second process: %v", err)
	}
	var o runOutcome
	select {
	case o = <-done:
	case <-time.After(ioBound):
		t.Fatal("Run did not return after the second process ended")
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	if !o.lateAtReturn {
		t.Fatal("Run returned before the second process wrote its file")
	}
	if o.res.ExitCode != 7 || o.res.Reaped < 1 || o.res.Killed {
		t.Fatalf("result %+v, want the .cmd's exit code 7, the second process reaped, nothing killed", o.res)
	}
	if _, err := os.Stat(filepath.Join(dir, "late")); err != nil {
		t.Fatal(err)
	}
}

// TestCancelKillsChainedTree: cancelling Run kills the whole tree through
// the Job Object, the second process too, though its parent (.cmd) is gone.
func TestCancelKillsChainedTree(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, conn, done := startChain(t, ctx)
	cancel()
	var o runOutcome
	select {
	case o = <-done:
	case <-time.After(ioBound):
		t.Fatal("Run did not return after cancel")
	}
	if o.err == nil || !o.res.Killed {
		t.Fatalf("want a killed tree, got %+v %v", o.res, o.err)
	}
	// The second process is dead: its end of the connection is closed.
	var b [1]byte
	if _, err := conn.Read(b[:]); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second process still alive after the kill: read %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "late")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the killed second process wrote its file: %v", err)
	}
}

// TestCommandLineExitCode: a Windows command line runs through CreateProcess
// as given and its exit code comes back as the DWORD cmd.exe exited with.
func TestCommandLineExitCode(t *testing.T) {
	dir := t.TempDir()
	res, err := Run(context.Background(), Spec{
		CommandLine: `cmd.exe /d /c exit 1641`,
		Dir:         dir,
		Env:         os.Environ(),
		ResultPath:  filepath.Join(dir, "result.json"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 1641 || res.Killed {
		t.Fatalf("result %+v, want exit code 1641", res)
	}
}
