package reap

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	st, err := parseStat("4242 (a) (b c)) S 17 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 0 0")
	if err != nil || st.state != 'S' || st.ppid != 17 || st.pgrp != 4242 || st.start != 987654 {
		t.Fatalf("%+v %v", st, err)
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 1 2", "1 (x) S a 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) = nil error", bad)
		}
	}
}

// A Handle names one process: not the same id with another start time,
// not a process that exited, not a zombie.
func TestHandleAlive(t *testing.T) {
	self, err := Identify(os.Getpid())
	if err != nil || !self.Alive() {
		t.Fatalf("self %+v %v", self, err)
	}
	if (Handle{PID: self.PID, Start: self.Start + 1}).Alive() {
		t.Error("a reused id (other start time) reads as alive")
	}
	cmd := exec.Command("/bin/sh", "-c", "read x")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h, err := Identify(cmd.Process.Pid)
	if err != nil || !h.Alive() {
		t.Fatalf("running child %+v %v", h, err)
	}
	stdin.Close() // the child exits; wait (without reaping) until it is a zombie
	for i := 0; ; i++ {
		st, err := readStat(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if st.state == 'Z' {
			break
		}
		if i > 1e7 {
			t.Fatal("child never exited")
		}
		runtime.Gosched()
	}
	if h.Alive() {
		t.Error("a zombie reads as alive")
	}
	_ = cmd.Wait()
	if h.Alive() {
		t.Error("a reaped process reads as alive")
	}
	if (Handle{}).Alive() || (Handle{}).Running() {
		t.Error("the zero Handle reads as alive")
	}
}

// The reaper and the installer write the log file Spec.Stdout names
// themselves (a descriptor, no pipe through the agent), and read the
// null device: an agent that dies cannot block or SIGPIPE them.
func TestReaperHoldsFilesNotPipes(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "installer.log")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var reaperFDs []string
	_, err = Run(context.Background(), Spec{
		Argv:       []string{"/bin/sh", "-c", `for fd in 0 1 2; do readlink /proc/$$/fd/$fd; done`},
		Dir:        dir,
		Env:        os.Environ(),
		Stdout:     out,
		ResultPath: filepath.Join(dir, "result.json"),
		Started: func(pid int) {
			for _, fd := range []string{"0", "1", "2"} {
				l, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd)
				reaperFDs = append(reaperFDs, l)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{os.DevNull, logPath, logPath}
	if strings.Join(reaperFDs, " ") != strings.Join(want, " ") {
		t.Errorf("reaper's fds 0-2: %q, want %q", reaperFDs, want)
	}
	data, _ := os.ReadFile(logPath)
	if got := strings.Fields(string(data)); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("installer's fds 0-2: %q, want %q", got, want)
	}
}

// Find locates a running reaper by its result path, and Stop has it kill
// its tree and write a Killed Result, as a restarted agent does past a
// deadline.
func TestFindAndStop(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "hold")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	resultPath := filepath.Join(dir, "result.json")
	pids := make(chan int, 1)
	type ran struct {
		res Result
		err error
	}
	done := make(chan ran, 1)
	go func() {
		res, err := Run(context.Background(), Spec{
			Argv:       []string{"/bin/sh", "-c", `read x < "$1"`, "sh", fifo},
			Dir:        dir,
			Env:        os.Environ(),
			ResultPath: resultPath,
			Started:    func(pid int) { pids <- pid },
		})
		done <- ran{res, err}
	}()
	pid := <-pids
	var h Handle
	for i := 0; ; i++ { // the reaper may not have exec'd itself yet
		var ok bool
		if h, ok = Find(resultPath); ok {
			break
		}
		if i > 1e6 {
			t.Fatal("reaper not found by its result path")
		}
		runtime.Gosched()
	}
	if h.PID != pid || !h.Alive() || !h.Running() {
		t.Fatalf("found %+v, want running reaper %d", h, pid)
	}
	for i := 0; len(descendants(pid)) == 0; i++ { // the reaper handles SIGTERM once its installer runs
		if i > 1e6 {
			t.Fatal("installer never started")
		}
		runtime.Gosched()
	}
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	var r ran
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("stopped reaper did not finish")
	}
	if r.err != nil || !r.res.Killed {
		t.Fatalf("result %+v %v, want a killed tree", r.res, r.err)
	}
	if h.Running() {
		t.Error("tree still running after Stop")
	}
	if _, err := ReadResult(resultPath); !errors.Is(err, ErrNoResult) {
		t.Errorf("ReadResult of a consumed result: %v, want ErrNoResult", err)
	}
}

// Detach returns from Run at once and leaves the tree running; the
// reaper still writes its Result when the tree ends.
func TestDetachLeavesTreeRunning(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "hold")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	resultPath := filepath.Join(dir, "result.json")
	detach := make(chan struct{})
	var h Handle
	_, err := Run(context.Background(), Spec{
		Argv:       []string{"/bin/sh", "-c", `read x < "$1"; exit 3`, "sh", fifo},
		Dir:        dir,
		Env:        os.Environ(),
		ResultPath: resultPath,
		Detach:     detach,
		Started: func(pid int) {
			h, _ = Identify(pid)
			close(detach)
		},
	})
	if !errors.Is(err, ErrDetached) {
		t.Fatalf("Run: %v, want ErrDetached", err)
	}
	if !h.Alive() {
		t.Fatal("detached reaper is not running")
	}
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("go\n")
	f.Close()
	for i := 0; h.Running(); i++ {
		if i > 1e7 {
			t.Fatal("detached tree never ended")
		}
		runtime.Gosched()
	}
	res, err := ReadResult(resultPath)
	if err != nil || res.ExitCode != 3 {
		t.Fatalf("result %+v %v, want exit code 3", res, err)
	}
}

// FuzzParseStat: any /proc/PID/stat text parses or is refused, never
// panics, and a parsed one has the state and starttime fields that
// follow the last ')'.
func FuzzParseStat(f *testing.F) {
	ents, _ := os.ReadDir("testdata/stat")
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join("testdata/stat", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := parseStat(s)
		if err != nil {
			return
		}
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if want, err := strconv.ParseUint(fields[19], 10, 64); fields[0][0] != st.state || err != nil || want != st.start {
			t.Fatalf("%q parsed as %+v", s, st)
		}
	})
}
