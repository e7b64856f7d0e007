//go:build unix

package orchestrate

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// chainedInstaller is an installer that starts a detached grandchild
// (setsid, its own session) and exits at once with success. The
// grandchild waits on a FIFO whose only writer is the installer, so it
// wakes exactly when the installer has exited; it then reads payload.txt
// from its working folder (IMECache/<app>) and reports through a second
// FIFO whether it could.
func chainedInstaller(tmp string) string { return chained(tmp, false) }

// chained is chainedInstaller; with ready, the grandchild also says, through
// the FIFO tmp/ready, that it holds the gate open for reading, so a test
// can order its own steps against it without timing.
func chained(tmp string, ready bool) string {
	signal := ""
	if ready {
		signal = `echo ready > "$2/ready"
  `
	}
	return `gate="` + tmp + `/gate"
[ -p "$gate" ] || mkfifo "$gate"
setsid sh -c '
  exec 4<"$1"
  ` + signal + `cat <&4 >/dev/null
  if cp payload.txt "$2/copied.txt" 2>/dev/null; then r=ok; else r=missing; fi
  mkdir -p "$ProgramFiles/Chain" && touch "$ProgramFiles/Chain/app.txt"
  echo $r > "$2/result"
' chained "$gate" "` + tmp + `" </dev/null >/dev/null 2>&1 &
exec 3>"$gate"
exit 0`
}

// readResult reads the grandchild's verdict from the result FIFO.
func readResult(t *testing.T, fifo string) <-chan string {
	t.Helper()
	must(t, syscall.Mkfifo(fifo, 0o600))
	ch := make(chan string, 1)
	go func() {
		b, err := os.ReadFile(fifo) // blocks until the grandchild writes
		if err != nil {
			ch <- "error: " + err.Error()
			return
		}
		ch <- strings.TrimSpace(string(b))
	}()
	return ch
}

func waitResult(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("the grandchild never reported")
		return ""
	}
}

// TestCleanerWaitsForProcessTree: the agent must not clean IMECache (nor
// run post-detection) until the grandchild is done with it.
func TestCleanerWaitsForProcessTree(t *testing.T) {
	tmp := t.TempDir()
	app := fileApp("Chain", "required").
		script("install.sh", chainedInstaller(tmp)).
		script("payload.txt", "setup payload")
	h := newHarness(t, []testApp{app}, nil)
	res := readResult(t, filepath.Join(tmp, "result"))
	h.sync()
	if r := waitResult(t, res); r != "ok" {
		t.Fatalf("grandchild found IMECache content %s", r)
	}
	got, err := os.ReadFile(filepath.Join(tmp, "copied.txt"))
	if err != nil || strings.TrimSpace(string(got)) != "setup payload" {
		t.Fatalf("grandchild copy: %q %v", got, err)
	}
	// Post-detection ran after the grandchild: the app is detected.
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if ents, _ := os.ReadDir(h.agent.layout.IMECache); len(ents) != 0 {
		t.Fatalf("IMECache not cleaned after the tree finished: %v", ents)
	}
}

// TestCleanerIMEBehaviour shows the same installer under the IME's
// behaviour (wait for the first process, then delete the folder): the
// grandchild finds its files gone. It guards the test above: if this
// stopped failing the way the IME does, the fixture would prove nothing.
//
// It runs only with IMEPIPE_SLOW=1: about one run in a dozen on a loaded
// machine the grandchild never says it is waiting (not understood yet), so
// it stays out of CI until that is found.
func TestCleanerIMEBehaviour(t *testing.T) {
	if os.Getenv("IMEPIPE_SLOW") != "1" {
		t.Skip("guard test of the IME's behaviour: set IMEPIPE_SLOW=1 (flaky under load, see comment)")
	}
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "IMECache", "app_1")
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "payload.txt"), []byte("setup payload"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "install.sh"), []byte(chained(tmp, true)), 0o755))
	res := readResult(t, filepath.Join(tmp, "result"))
	ready := readResult(t, filepath.Join(tmp, "ready"))
	// The test holds the gate open (read-write, which never blocks on
	// Linux) from before the installer starts, and closes it only after
	// the cleaner ran and the grandchild said it is waiting on the gate:
	// the grandchild wakes after the deletion, however processes are
	// scheduled.
	gate := filepath.Join(tmp, "gate")
	must(t, syscall.Mkfifo(gate, 0o600))
	w, err := os.OpenFile(gate, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(context.Background(), "/bin/sh", "-c", "sh install.sh")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ProgramFiles="+filepath.Join(tmp, "pf"))
	must(t, cmd.Run())         // the first process only
	must(t, os.RemoveAll(dir)) // the IME's cleaner
	if r := waitResult(t, ready); r != "ready" {
		t.Fatalf("grandchild: %q", r)
	}
	w.Close()
	if r := waitResult(t, res); r != "missing" {
		t.Fatalf("under the IME's behaviour the grandchild should miss its files, got %q", r)
	}
}

// chainChildMain is Windows' chained second process (cleaner_windows_test.go);
// here the chain is /bin/sh's.
func chainChildMain() {}
