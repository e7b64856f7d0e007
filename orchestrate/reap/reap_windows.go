package reap

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/windows"
)

// treePoll bounds each wait on the job's completion port: Windows does
// not guarantee that job notifications arrive, so the reaper re-reads the
// job's process count at least this often.
const treePoll = 250 * time.Millisecond

// sysProcAttr starts the reaper in a process group of its own, so that a
// Ctrl+C in the agent's console does not reach the installer (Setpgid on
// Linux).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// stopper returns how Run asks the reaper to kill its tree: a Windows
// process has no SIGTERM, so the reaper's standard input is a pipe from
// the agent and stopByte on it is the request (see watchStop).
func stopper(cmd *exec.Cmd) (func() error, error) {
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("control pipe: %w", err)
	}
	return func() error {
		_, err := w.Write([]byte{stopByte})
		return err
	}, nil
}

// serve is the Windows reaper: join a new Job Object (kill on close),
// start the installer (c.line as given, or c.argv; see installer; as the
// logged-on user for a Credential, see asUser), which
// is born in the job and so is everything it starts,
// note its exit code, and return only when the reaper is the last
// process left in the job.
//
// The job's handle is never closed here: the reaper is in the job, and
// closing the last handle of a kill-on-close job would kill the reaper
// itself before it writes its Result. The handle closes when the reaper
// exits, with nothing left in the job; if the reaper dies early (killed
// by Run after its grace period, or failing), the same close kills
// whatever is left of the tree.
func serve(c command) (Result, error) {
	var res Result
	j, err := newJob(c.job)
	if err != nil {
		return res, err
	}
	cmd, name, err := installer(c)
	if err != nil {
		return res, err
	}
	if c.cred != nil {
		release, err := asUser(cmd, c.cred)
		if err != nil {
			return res, err
		}
		defer release()
	}
	// Standard input stays the null device: the reaper's own is the
	// agent's control pipe.
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start %s: %w", name, err)
	}
	res.PID = cmd.Process.Pid
	c.launch.started(res.PID)
	var killed atomic.Bool
	self := windows.GetCurrentProcessId()
	go watchStop(os.Stdin, func() {
		killed.Store(true)
		killTree(j, self)
	})
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	reaped, err := waitTree(j, treePoll)
	if err != nil {
		return res, fmt.Errorf("job: %w", err)
	}
	// The job is empty but for the reaper, so the installer has exited
	// and Wait returns at once.
	if err := <-waited; err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return res, fmt.Errorf("wait %s: %w", name, err)
		}
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		res.ExitCode = exitCode(ws.ExitCode)
	} else {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	res.Reaped = reaped
	res.Killed = killed.Load()
	return res, nil
}

// installer builds the installer's process and names it for errors.
//
// A command line (Spec.CommandLine) reaches CreateProcess exactly as
// given, through SysProcAttr.CmdLine: os/exec's argument quoting
// (syscall.EscapeArg) is for programs that read arguments the C runtime's
// way, and msiexec and cmd.exe do not. The program, CreateProcess's
// lpApplicationName, is the line's first token resolved by lookup: the
// content folder (the reaper's working directory, Spec.Dir) first, then
// PATH.
func installer(c command) (*exec.Cmd, string, error) {
	if c.line == "" {
		cmd := exec.Command(c.argv[0], c.argv[1:]...)
		if errors.Is(cmd.Err, exec.ErrDot) {
			// Like CreateProcess (and the IME), run setup.exe found in the
			// working directory: the content folder.
			cmd.Err = nil
		}
		return cmd, c.argv[0], nil
	}
	if err := checkCommandLine(c.line); err != nil {
		return nil, "", err
	}
	dir, err := os.Getwd()
	if err != nil {
		return nil, "", fmt.Errorf("content folder: %w", err)
	}
	prog, err := lookup{dir: dir, isFile: isFile, lookPath: lookPath}.resolve(c.line)
	if err != nil {
		return nil, "", err
	}
	prog = filepath.Clean(prog)
	if err := startable(prog); err != nil {
		return nil, "", err
	}
	cmd := exec.Command(prog)
	if errors.Is(cmd.Err, exec.ErrDot) {
		cmd.Err = nil
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: c.line}
	return cmd, prog, nil
}

// isFile: a regular file is at p.
func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// lookPath is exec.LookPath that accepts a program found through the
// current directory (exec.ErrDot): CreateProcess searches it too, and
// lookup has already looked in the content folder, which it is.
func lookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if errors.Is(err, exec.ErrDot) {
		err = nil
	}
	return p, err
}
