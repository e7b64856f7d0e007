package reap

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"
)

// The launch report: how Run learns the installer's process id as soon as
// the reaper has started it (Spec.InstallerStarted), not only from the
// Result once the tree is gone.
//
// Run gives the reaper the write end of a pipe (Unix: descriptor 3, through
// exec.Cmd.ExtraFiles; Windows: an inherited handle) and names it in
// EnvLaunch. The reaper first makes that end non-inheritable, so that the
// installer and its tree never hold it; once the installer has started it
// writes its pid as one decimal line and closes the pipe. A reaper that
// starts no installer closes it unwritten (it exits). The line is a few
// bytes, far less than a pipe's buffer: the write never blocks, and an
// agent gone meanwhile makes it fail (EPIPE, not SIGPIPE, off standard
// output), which the reaper ignores: the reaper does not depend on the
// agent (see Handle). Run reads the line on a goroutine of its own and
// calls InstallerStarted from its own.

// EnvLaunch names the reaper's end of the launch report pipe: a
// descriptor number on Unix, a handle value on Windows.
const EnvLaunch = "IMEPIPE_REAPER_LAUNCH"

// maxLaunchLine bounds what Run reads of the launch report.
const maxLaunchLine = 32

// launchReport is the reaper's end of the launch report (f nil: none).
type launchReport struct{ f *os.File }

// openLaunchReport takes the launch report end EnvLaunch names, made
// non-inheritable (launchFile); without one (EnvLaunch unset or no open
// descriptor), reporting does nothing.
func openLaunchReport() launchReport {
	v := os.Getenv(EnvLaunch)
	if v == "" {
		return launchReport{}
	}
	return launchReport{launchFile(v)}
}

// started writes pid to the agent and closes the report. Errors are
// ignored: Run falls back on the Result's pid (Spec.InstallerStarted).
func (l launchReport) started(pid int) {
	if l.f == nil {
		return
	}
	_, _ = io.WriteString(l.f, strconv.Itoa(pid)+"\n")
	_ = l.f.Close()
}

// readLaunch reads the installer's pid from r, the agent's end of the
// launch report, and closes r. ok is false when the reaper closed its
// end without a valid line (it started no installer).
func readLaunch(r io.ReadCloser) (pid int, ok bool) {
	defer r.Close()
	line, err := bufio.NewReader(io.LimitReader(r, maxLaunchLine)).ReadString('\n')
	if err != nil {
		return 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSuffix(line, "\n"))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// watchLaunch reads the launch report on a goroutine of its own: the
// channel yields the pid once, if the reaper reported one, and is closed
// when the report is over.
func watchLaunch(r io.ReadCloser) <-chan int {
	c := make(chan int, 1)
	go func() {
		if pid, ok := readLaunch(r); ok {
			c <- pid
		}
		close(c)
	}()
	return c
}
