//go:build !linux && !windows

package reap

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// serve waits for the first process only: without a child subreaper
// (Linux) or a Job Object (Windows) the tree cannot be followed here.
// c.line (a Windows command line) is never set here: run refuses it.
func serve(c command) (Result, error) {
	var res Result
	argv := c.argv
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: c.cred.UID, Gid: c.cred.GID, Groups: c.cred.Groups}}
	}
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start %s: %w", argv[0], err)
	}
	res.PID = cmd.Process.Pid
	c.launch.started(res.PID)
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
	default:
		return res, err
	}
	return res, nil
}
