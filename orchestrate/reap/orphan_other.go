//go:build !linux && !windows

package reap

import (
	"errors"
	"fmt"
	"syscall"
)

// startTime is not known here: a Handle names a process by id alone, so
// a reused id reads as alive (documented, not hidden).
func startTime(pid int) (uint64, error) {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return 0, fmt.Errorf("process %d: %w", pid, err)
	}
	return 0, nil
}

// Find is not supported here (no /proc): a run recorded before its
// reaper's id was known is not found again.
func Find(string) (Handle, bool) { return Handle{}, false }

// Stop sends the reaper SIGTERM (it kills what it waits for and writes
// its Result).
func (h Handle) Stop() error {
	if !h.Alive() {
		return nil
	}
	return syscall.Kill(h.PID, syscall.SIGTERM)
}

// Kill sends SIGKILL to the reaper's process group (it leads one).
func (h Handle) Kill() {
	if h.PID > 0 {
		_ = syscall.Kill(-h.PID, syscall.SIGKILL)
	}
}

// Running is Alive here.
func (h Handle) Running() bool { return h.Alive() }
