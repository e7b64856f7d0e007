//go:build !windows

package reap

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// launchFD is the reaper's descriptor of the launch report: the first of
// exec.Cmd.ExtraFiles.
const launchFD = 3

// passLaunch gives cmd w, the write end of the launch report, as
// descriptor launchFD, and returns EnvLaunch's value.
func passLaunch(cmd *exec.Cmd, w *os.File) (string, error) {
	cmd.ExtraFiles = []*os.File{w}
	return strconv.Itoa(launchFD), nil
}

// launchFile is the launch report's descriptor v, marked close-on-exec
// first so that no installer inherits it; nil if v is no open descriptor
// above standard error.
func launchFile(v string) *os.File {
	fd, err := strconv.Atoi(v)
	if err != nil || fd <= 2 {
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), "launch report")
}
