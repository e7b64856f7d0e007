//go:build !windows

package reap

import (
	"os/exec"
	"syscall"
)

// stopper returns how Run asks the reaper to kill its tree: SIGTERM.
func stopper(cmd *exec.Cmd) (func() error, error) {
	return func() error { return cmd.Process.Signal(syscall.SIGTERM) }, nil
}
