package rules

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// DefaultScriptTimeout bounds a detection or requirement script's run.
const DefaultScriptTimeout = 60 * time.Second

// Scripts runs detection and requirement scripts. On Windows a script
// runs with Windows PowerShell as the IME runs it (scriptArgv); elsewhere
// PowerShell is not assumed: the content runs with /bin/sh (a script
// whose first line is a #! line runs with that interpreter).
type Scripts struct {
	Dir     string        // scratch folder (Content/Staging)
	Timeout time.Duration // per script (zero: DefaultScriptTimeout)
	Env     []string      // the script's environment
	// Observe, when set, is told of every script run once it ends (the
	// agent writes AgentExecutor.log from it); it decides nothing.
	Observe func(Run)
}

// Run is one script run as Scripts.Observe sees it.
type Run struct {
	Detection bool     // a detection script (else a requirement script)
	Argv      []string // what ran
	PID       int      // 0 when it did not start
	ExitCode  int      // -1 when it did not exit by itself
	Stdout    string   // as kept (bounded)
	Stderr    string   // as kept (bounded)
	Err       error    // not started, timed out
}

// maxScriptOutput bounds what is kept of a script's stdout.
const maxScriptOutput = 64 << 10

type limitedBuffer struct {
	bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxScriptOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// run executes the base64 script and returns its exit code and stdout,
// and tells Observe.
func (s Scripts) run(ctx context.Context, content string, r imeapi.Rule, detection bool) (int, string, error) {
	run := Run{Detection: detection, ExitCode: -1}
	code, out, err := s.exec(ctx, content, r, &run)
	if s.Observe != nil {
		run.Err = err
		s.Observe(run)
	}
	return code, out, err
}

func (s Scripts) exec(ctx context.Context, content string, r imeapi.Rule, run *Run) (int, string, error) {
	src, err := base64.StdEncoding.DecodeString(strings.TrimSpace(content))
	if err != nil {
		return 0, "", fmt.Errorf("rules: script content is not base64: %w", ErrRule)
	}
	f, err := os.CreateTemp(s.Dir, "script-*"+scriptExt)
	if err != nil {
		return 0, "", fmt.Errorf("rules: script: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, "", fmt.Errorf("rules: script: %w", err)
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultScriptTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	argv := scriptArgv(f.Name(), src, r)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = filepath.Dir(f.Name())
	cmd.Env = s.Env
	var out, stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	cmd.WaitDelay = time.Second
	run.Argv = argv
	err = cmd.Start()
	if err == nil {
		run.PID = cmd.Process.Pid
		err = cmd.Wait()
	}
	run.Stdout, run.Stderr = out.String(), stderr.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
		run.ExitCode = 0
		return 0, out.String(), nil
	case ctx.Err() != nil:
		return -1, out.String(), fmt.Errorf("rules: script timed out after %v: %w", s.Timeout, ctx.Err())
	case errors.As(err, &ee):
		run.ExitCode = ee.ExitCode()
		return ee.ExitCode(), out.String(), nil
	}
	return -1, "", fmt.Errorf("rules: script: %w", err)
}

// scriptRule: as detection, detected when the script exits 0 and writes
// something to stdout; as a requirement, stdout is compared with the
// rule's value (string, integer, float, version, boolean, dateTime).
func (e *Env) scriptRule(ctx context.Context, r imeapi.Rule, detection bool) (bool, string, error) {
	code, out, err := e.Scripts.run(ctx, r.ScriptContent, r, detection)
	if err != nil {
		return false, "", err
	}
	out = strings.TrimSpace(out)
	if detection {
		ok := code == 0 && out != ""
		return ok, fmt.Sprintf("script exit code %d, stdout %d bytes", code, len(out)), nil
	}
	if code != 0 {
		return false, fmt.Sprintf("script exit code %d", code), nil
	}
	kind, want := opOf(r)
	ok, err := compare(kind, r.Operator, out, want)
	return ok, fmt.Sprintf("script output %q %s %q: %v", firstLine(out), r.Operator, want, ok), err
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
