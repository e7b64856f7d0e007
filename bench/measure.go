package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// maxStderr bounds what Measure keeps of a child's stderr for its error.
const maxStderr = 4 << 10

// Measure runs cmd to completion and returns its wall time, from start to
// exit, with the CPU times and peak RSS of its rusage. Unless the caller
// set them, the child's stdout is discarded and the end of its stderr is
// kept for the error. A child that fails is an ErrRun error.
func Measure(cmd *exec.Cmd) (Sample, error) {
	var stderr tailBuffer
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	if cmd.WaitDelay == 0 {
		// A killed shell's children may hold stderr open; do not wait on them for ever.
		cmd.WaitDelay = 10 * time.Second
	}
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		var ee *exec.ExitError
		msg := strings.TrimSpace(stderr.String())
		if errors.As(err, &ee) && msg != "" {
			return Sample{}, fmt.Errorf("bench: %w: %s: %v: %s", ErrRun, cmd.Path, err, msg)
		}
		return Sample{}, fmt.Errorf("bench: %w: %s: %w", ErrRun, cmd.Path, err)
	}
	ps := cmd.ProcessState
	return Sample{Wall: wall, User: ps.UserTime(), Sys: ps.SystemTime(), PeakRSS: peakRSS(ps)}, nil
}

// tailBuffer keeps the last maxStderr bytes written to it.
type tailBuffer struct {
	b bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > maxStderr {
		p = p[len(p)-maxStderr:]
	}
	if over := t.b.Len() + len(p) - maxStderr; over > 0 {
		t.b.Next(over)
	}
	t.b.Write(p)
	return n, nil
}

func (t *tailBuffer) String() string { return t.b.String() }
