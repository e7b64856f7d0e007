package reap

import (
	"encoding/json"
	"fmt"
	"os"
)

// Handle names a running reaper so that another process (an agent started
// after the one that ran it was killed) can find it again and wait for it:
// its process id and that process's start time, so that a reused process
// id is not taken for it. A Handle is plain data, kept in the agent's
// state.db by the caller.
//
// The reaper does not depend on the agent that started it: its standard
// output and error are the log file the agent passed as Spec.Stdout (a
// file descriptor, not a pipe through the agent), its standard input is
// the null device on Linux (a control pipe on Windows whose end is not a
// stop), and it writes its Result file itself once the tree is gone. A
// reaper whose agent died therefore finishes its installer and writes its
// Result; a new agent re-adopts it with Handle (Alive, Stop, Kill) and
// ReadResult. Nothing signals the reaper when its agent dies (no
// parent-death signal): killing the installer on an agent restart is the
// IME bug class this package exists to avoid.
type Handle struct {
	PID int `json:"pid"`
	// Start is the process's start time: /proc/PID/stat starttime (clock
	// ticks since boot) on Linux, the creation time (100 ns since 1601)
	// on Windows, 0 where neither is known.
	Start uint64 `json:"start"`
	// Job is the reaper's Job Object name on Windows (Spec.JobName).
	Job string `json:"job,omitempty"`
}

// Identify returns the Handle of the running process pid.
func Identify(pid int) (Handle, error) {
	start, err := startTime(pid)
	if err != nil {
		return Handle{}, fmt.Errorf("reap: process %d: %w", pid, err)
	}
	return Handle{PID: pid, Start: start}, nil
}

// Alive reports whether the process h names still runs: it exists, is
// not a zombie, and started when h says (not a reused id).
func (h Handle) Alive() bool {
	if h.PID <= 0 {
		return false
	}
	start, err := startTime(h.PID)
	return err == nil && start == h.Start
}

// ReadResult reads the Result a reaper wrote at path (ErrNoResult when it
// wrote none). It does not remove the file.
func ReadResult(path string) (Result, error) {
	var res Result
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return res, fmt.Errorf("reap: %s: %w", path, ErrNoResult)
		}
		return res, fmt.Errorf("reap: %w", err)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return res, fmt.Errorf("reap: result %s: %w", path, err)
	}
	return res, nil
}
