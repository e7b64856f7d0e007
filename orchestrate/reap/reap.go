package reap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Environment variables between the agent and its reaper.
const (
	EnvReaper = "IMEPIPE_REAPER"        // "1": this process is a reaper
	EnvResult = "IMEPIPE_REAPER_RESULT" // where the reaper writes its Result
)

// ErrNoResult: the reaper ended without writing its result (killed).
var ErrNoResult = errors.New("reaper wrote no result")

// Result is what the reaper saw.
type Result struct {
	PID      int  `json:"pid"`      // the installer's process id
	ExitCode int  `json:"exitCode"` // its exit status (-1 if killed by a signal)
	Signal   int  `json:"signal,omitempty"`
	Reaped   int  `json:"reaped"` // descendants reaped after it, orphans included
	Killed   bool `json:"killed"` // the tree was killed (SIGTERM to the reaper)
}

// Spec is one process tree to run.
type Spec struct {
	Reaper string   // executable that runs Main when EnvReaper=1 (os.Executable() if empty)
	Argv   []string // the installer, e.g. /bin/sh -c CMD
	Dir    string
	Env    []string // full environment of the installer
	Stdout *os.File // nil: /dev/null
	// ResultPath is a scratch file for the reaper's Result.
	ResultPath string
	// Grace is how long a killed tree may take to go (default 5 s).
	Grace time.Duration
	// Started is called with the reaper's process id once it runs.
	Started func(pid int)
}

// Run starts the reaper with spec and waits until the whole tree has
// exited. When ctx ends first the tree is killed and Run returns ctx's
// error along with whatever Result was written.
func Run(ctx context.Context, s Spec) (Result, error) {
	var res Result
	exe := s.Reaper
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return res, fmt.Errorf("reap: %w", err)
		}
	}
	if len(s.Argv) == 0 {
		return res, fmt.Errorf("reap: empty command")
	}
	_ = os.Remove(s.ResultPath)
	cmd := exec.Command(exe, s.Argv...)
	cmd.Dir = s.Dir
	cmd.Env = append(append([]string(nil), s.Env...), EnvReaper+"=1", EnvResult+"="+s.ResultPath)
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stdout
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("reap: start: %w", err)
	}
	if s.Started != nil {
		s.Started(cmd.Process.Pid)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var ctxErr error
	select {
	case <-done:
	case <-ctx.Done():
		ctxErr = ctx.Err()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		grace := s.Grace
		if grace <= 0 {
			grace = 5 * time.Second
		}
		t := time.NewTimer(grace)
		select {
		case <-done:
		case <-t.C:
			_ = cmd.Process.Kill()
			<-done
		}
		t.Stop()
	}
	data, err := os.ReadFile(s.ResultPath)
	_ = os.Remove(s.ResultPath)
	if err != nil {
		if ctxErr != nil {
			return res, fmt.Errorf("reap: %w", ctxErr)
		}
		return res, fmt.Errorf("reap: %w", ErrNoResult)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return res, fmt.Errorf("reap: result: %w", err)
	}
	if ctxErr != nil {
		return res, fmt.Errorf("reap: %w", ctxErr)
	}
	return res, nil
}

// Main runs the reaper when this process was started as one (EnvReaper=1)
// and then exits; otherwise it returns at once. Call it first in main
// (and in TestMain of tests that install).
func Main() {
	if os.Getenv(EnvReaper) != "1" {
		return
	}
	resultPath := os.Getenv(EnvResult)
	os.Unsetenv(EnvReaper)
	os.Unsetenv(EnvResult)
	res, err := serve(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "imepipe reaper: %v\n", err)
		os.Exit(125)
	}
	data, _ := json.Marshal(res)
	if err := os.WriteFile(resultPath, data, 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "imepipe reaper: %v\n", err)
		os.Exit(125)
	}
	os.Exit(0)
}
