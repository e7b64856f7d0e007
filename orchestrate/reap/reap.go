package reap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Environment variables between the agent and its reaper.
const (
	EnvReaper = "IMEPIPE_REAPER"        // "1": this process is a reaper
	EnvResult = "IMEPIPE_REAPER_RESULT" // where the reaper writes its Result
	// EnvCommandLine carries Spec.CommandLine to a Windows reaper. An
	// environment variable holds any string without a NUL up to 32,767
	// characters, as a command line does, and nothing re-quotes it on the
	// way, as it would an argument.
	EnvCommandLine = "IMEPIPE_REAPER_CMDLINE"
	// EnvJobName carries Spec.JobName to a Windows reaper.
	EnvJobName = "IMEPIPE_REAPER_JOB"
	// EnvCredential carries Spec.Credential to the reaper ("uid:gid:g1,g2";
	// Windows "session:ID:SID").
	EnvCredential = "IMEPIPE_REAPER_CREDENTIAL"
)

var (
	// ErrDetached: Run stopped waiting because Spec.Detach closed; the
	// reaper and its tree run on and will write their Result.
	ErrDetached = errors.New("detached from a running reaper")
	// ErrNoResult: the reaper ended without writing its result (killed).
	ErrNoResult = errors.New("reaper wrote no result")
	// ErrBadSpec: Run was given a Spec it cannot run (no command, both
	// Argv and CommandLine, a CommandLine on a system other than Windows
	// (also errors.ErrUnsupported), a CommandLine that is not valid (also
	// ErrCommandLine), no result path).
	ErrBadSpec = errors.New("invalid spec")
)

// Result is what the reaper saw.
type Result struct {
	PID int `json:"pid"` // the installer's process id
	// ExitCode is its exit status: -1 if it was killed (by a signal, or
	// by the reaper on Windows); on Windows the full 32-bit code read as
	// a signed number (3010, 1641, 0x87D1041C = -2016345060).
	ExitCode int  `json:"exitCode"`
	Signal   int  `json:"signal,omitempty"` // the killing signal (not on Windows)
	Reaped   int  `json:"reaped"`           // other processes waited for (see doc.go)
	Killed   bool `json:"killed"`           // the tree was killed on request (ctx ended)
}

// Spec is one process tree to run.
type Spec struct {
	Reaper string   // executable that runs Main when EnvReaper=1 (os.Executable() if empty)
	Argv   []string // the installer, e.g. /bin/sh -c CMD; Argv[0] is looked up in PATH, then Dir
	// CommandLine (Windows only; set it or Argv, not both) is the
	// installer's command line exactly as CreateProcess receives it, e.g.
	// `msiexec /i "Contoso App.msi" /qn`: the reaper passes it unchanged
	// (exec.Cmd.SysProcAttr.CmdLine), with no argument quoting, and starts
	// the program its first token names (see FirstToken), found in Dir
	// first, then on PATH, ".exe" appended to a name without an
	// extension. Setting it on another system is an ErrBadSpec.
	CommandLine string
	Dir         string
	Env         []string // full environment of the installer
	Stdout      *os.File // nil: /dev/null
	// ResultPath is a scratch file for the reaper's Result (required; a
	// relative path is taken from the agent's working directory).
	ResultPath string
	// Grace is how long a killed tree may take to go (default 5 s).
	Grace time.Duration
	// JobName (Windows only; ignored elsewhere) names the reaper's Job
	// Object, e.g. `Local\imepipe-<key>`, so that an agent started after
	// this one died can open the job by name (Handle.Job) and end it. ""
	// leaves the job unnamed.
	JobName string
	// Detach, when it closes before the tree has ended, makes Run return
	// ErrDetached at once without stopping anything: the reaper and the
	// installer run on, and the reaper writes its Result at ResultPath
	// for whoever re-adopts it (Handle). nil: never.
	Detach <-chan struct{}
	// Credential, when set, runs the installer (not the reaper, which
	// stays the caller's user to reap and kill the tree) as that user.
	// Unix: its uid, gid and groups (a Windows Credential is an
	// ErrBadSpec); the installer inherits the reaper's working directory,
	// Dir, entered before the switch: the user needs no access to Dir's
	// parents. Windows: the user token of its Session, duplicated to a
	// primary token and checked to be its SID and no service account,
	// through CreateProcessAsUser (SysProcAttr.Token), inside the
	// reaper's Job Object (a Unix Credential is an ErrBadSpec); the
	// installer gets Env, not the token's default environment, so the
	// caller puts the user's environment block in Env. It needs the
	// reaper to run as SYSTEM (SeTcbPrivilege for WTSQueryUserToken).
	Credential *Credential
	// Started is called with the reaper's process id once it runs, before
	// Run waits: the caller records it (Identify) to find the reaper again
	// should it die meanwhile (see Handle).
	Started func(pid int)
	// InstallerStarted, when set, is called with the installer's process
	// id (the one Result.PID names, not the reaper's) once the reaper has
	// started it, while it runs: the reaper reports it on a pipe (see
	// launch.go). It is called at most once, from Run's goroutine, and
	// never when no installer started (Run then returns an error, mostly
	// ErrNoResult). Should the report be lost, it is called with
	// Result.PID before Run returns; it is not called when Run returns
	// ErrDetached before the report came. nil: no report is made.
	InstallerStarted func(pid int)
}

// Run starts the reaper with spec and waits until the whole tree has
// exited. When ctx ends first the tree is killed and Run returns ctx's
// error along with whatever Result was written; when s.Detach closes
// first, Run returns ErrDetached and leaves the tree running.
func Run(ctx context.Context, s Spec) (Result, error) {
	var res Result
	if err := s.validate(); err != nil {
		return res, err
	}
	exe := s.Reaper
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return res, fmt.Errorf("reap: %w", err)
		}
	}
	// The reaper runs in s.Dir: give it a path that means the same there.
	resultPath, err := filepath.Abs(s.ResultPath)
	if err != nil {
		return res, fmt.Errorf("reap: result path: %w", err)
	}
	_ = os.Remove(resultPath)
	cmd := exec.Command(exe, s.Argv...)
	cmd.Dir = s.Dir
	cmd.Env = append(withoutReaperEnv(s.Env), EnvReaper+"=1", EnvResult+"="+resultPath)
	if s.CommandLine != "" {
		cmd.Env = append(cmd.Env, EnvCommandLine+"="+s.CommandLine)
	}
	if s.JobName != "" {
		cmd.Env = append(cmd.Env, EnvJobName+"="+s.JobName)
	}
	if s.Credential != nil {
		cmd.Env = append(cmd.Env, EnvCredential+"="+s.Credential.String())
	}
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stdout
	cmd.SysProcAttr = sysProcAttr()
	stop, err := stopper(cmd)
	if err != nil {
		return res, fmt.Errorf("reap: %w", err)
	}
	var launchR, launchW *os.File
	if s.InstallerStarted != nil {
		if launchR, launchW, err = os.Pipe(); err != nil {
			return res, fmt.Errorf("reap: launch report: %w", err)
		}
		v, err := passLaunch(cmd, launchW)
		if err != nil {
			launchR.Close()
			launchW.Close()
			return res, fmt.Errorf("reap: %w", err)
		}
		cmd.Env = append(cmd.Env, EnvLaunch+"="+v)
	}
	err = cmd.Start()
	if launchW != nil {
		launchW.Close() // the reaper holds the only write end now
	}
	if err != nil {
		if launchR != nil {
			launchR.Close()
		}
		return res, fmt.Errorf("reap: start: %w", err)
	}
	if s.Started != nil {
		s.Started(cmd.Process.Pid)
	}
	var launched <-chan int
	if launchR != nil {
		launched = watchLaunch(launchR)
	}
	installer := installerNotice(s.InstallerStarted)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var ctxErr error
wait:
	for {
		select {
		case pid, ok := <-launched:
			if ok {
				installer(pid)
			}
			launched = nil
		case <-done:
			break wait
		case <-s.Detach:
			return res, fmt.Errorf("reap: reaper %d: %w", cmd.Process.Pid, ErrDetached)
		case <-ctx.Done():
			ctxErr = ctx.Err()
			_ = stop() // the reaper kills the tree, writes its Result and exits
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
			break wait
		}
	}
	// The reaper has exited, and with it the report's only write end: a
	// report still in the pipe is read at once, else the pipe is at EOF.
	if launched != nil {
		if pid, ok := <-launched; ok {
			installer(pid)
		}
	}
	data, err := os.ReadFile(resultPath)
	_ = os.Remove(resultPath)
	if err != nil {
		if ctxErr != nil {
			return res, fmt.Errorf("reap: %w", ctxErr)
		}
		return res, fmt.Errorf("reap: %w", ErrNoResult)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return res, fmt.Errorf("reap: result: %w", err)
	}
	if res.PID > 0 {
		installer(res.PID) // the report was lost: the Result names it
	}
	if ctxErr != nil {
		return res, fmt.Errorf("reap: %w", ctxErr)
	}
	return res, nil
}

// installerNotice wraps Spec.InstallerStarted so that it is called at
// most once (nil: never).
func installerNotice(f func(pid int)) func(pid int) {
	told := false
	return func(pid int) {
		if f != nil && !told {
			told = true
			f(pid)
		}
	}
}

// validate reports what makes s impossible to run here.
func (s Spec) validate() error { return s.check(runtime.GOOS) }

// check reports what makes s impossible to run on goos; it takes goos so
// that the Windows rules are tested on every system.
func (s Spec) check(goos string) error {
	switch {
	case s.CommandLine != "" && len(s.Argv) > 0:
		return fmt.Errorf("reap: both Argv and CommandLine: %w", ErrBadSpec)
	case s.Credential != nil && s.Credential.windows() != (goos == "windows"):
		return fmt.Errorf("reap: a %s Credential on %s: %w: %w", credKind(s.Credential), goos, ErrBadSpec, errors.ErrUnsupported)
	case s.CommandLine != "" && goos != "windows":
		return fmt.Errorf("reap: CommandLine is Windows only (use Argv on %s): %w: %w", goos, ErrBadSpec, errors.ErrUnsupported)
	case s.CommandLine != "":
		if err := checkCommandLine(s.CommandLine); err != nil {
			return fmt.Errorf("%w: %w", err, ErrBadSpec)
		}
	case len(s.Argv) == 0 || s.Argv[0] == "":
		return fmt.Errorf("reap: empty command: %w", ErrBadSpec)
	}
	if s.ResultPath == "" {
		return fmt.Errorf("reap: no result path: %w", ErrBadSpec)
	}
	return nil
}

// reaperEnv names every variable Run sets for the reaper.
var reaperEnv = []string{EnvReaper, EnvResult, EnvCommandLine, EnvJobName, EnvCredential, EnvLaunch}

// withoutReaperEnv is env without the variables Run sets for the reaper,
// so that a stale one (the agent itself ran under a reaper, or was given
// one) cannot reach it: a stale EnvCredential would run a system-context
// installer as that user. Names compare without case, as Windows compares
// them.
func withoutReaperEnv(env []string) []string {
	out := make([]string, 0, len(env)+len(reaperEnv))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(reaperEnv, func(r string) bool { return strings.EqualFold(name, r) }) {
			out = append(out, kv)
		}
	}
	return out
}

// credKind names c's form for errors: "Windows" or "Unix".
func credKind(c *Credential) string {
	if c.windows() {
		return "Windows"
	}
	return "Unix"
}

// command is what a reaper runs: argv, or on Windows a raw command line.
type command struct {
	argv   []string
	line   string
	job    string // Windows: the Job Object's name ("" unnamed)
	cred   *Credential
	launch launchReport // told the installer's pid once it runs
}

// Main runs the reaper when this process was started as one (EnvReaper=1)
// and then exits; otherwise it returns at once. Call it first in main
// (and in TestMain of tests that install).
func Main() {
	if os.Getenv(EnvReaper) != "1" {
		return
	}
	resultPath := os.Getenv(EnvResult)
	// First, before anything is started: no installer may inherit the
	// launch report.
	launch := openLaunchReport()
	c := command{argv: os.Args[1:], line: os.Getenv(EnvCommandLine), job: os.Getenv(EnvJobName), launch: launch}
	if v := os.Getenv(EnvCredential); v != "" {
		cred, err := parseCredential(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "imepipe reaper: %v\n", err)
			os.Exit(125)
		}
		c.cred = cred
	}
	os.Unsetenv(EnvCredential)
	os.Unsetenv(EnvReaper)
	os.Unsetenv(EnvResult)
	os.Unsetenv(EnvCommandLine)
	os.Unsetenv(EnvJobName)
	os.Unsetenv(EnvLaunch)
	res, err := run(c)
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

// run checks c and serves it.
func run(c command) (Result, error) {
	switch {
	case c.line != "" && len(c.argv) > 0:
		return Result{}, fmt.Errorf("both a command line and arguments: %w", ErrBadSpec)
	case c.line == "" && (len(c.argv) == 0 || c.argv[0] == ""):
		return Result{}, fmt.Errorf("nothing to run: %w", ErrBadSpec)
	case c.line != "" && runtime.GOOS != "windows":
		return Result{}, fmt.Errorf("a command line is Windows only: %w: %w", ErrBadSpec, errors.ErrUnsupported)
	case c.cred != nil && c.cred.windows() != (runtime.GOOS == "windows"):
		// Never run a Windows credential as uid 0, nor the reverse.
		return Result{}, fmt.Errorf("a %s credential on %s: %w: %w", credKind(c.cred), runtime.GOOS, ErrBadSpec, errors.ErrUnsupported)
	}
	return serve(c)
}
