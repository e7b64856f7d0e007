package orchestrate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/reap"
)

// Script installers: an app whose activeInstallScript (or
// activeUninstallScript) names a script the policy carries
// (imeapi.Policy.InstallScript, UninstallScript) runs that PowerShell
// script instead of its command line, from the content folder: on
// Windows through powershell.exe -NoProfile -ExecutionPolicy Bypass -File
// (the 32-bit one for runAs32Bit), elsewhere through a pwsh found on PATH.
// Without one the app fails with CodeNoPowerShell and nothing runs.

// CodeNoPowerShell is 0x80070002 (ERROR_FILE_NOT_FOUND, "The system
// cannot find the file specified"): a script installer on a device with
// no PowerShell to run it.
const CodeNoPowerShell int64 = -2147024894

// ErrNoPowerShell: a script installer and no PowerShell host.
var ErrNoPowerShell = errors.New("no PowerShell to run the script installer")

// scriptName is the file the agent writes a script installer to, in the
// content folder: a fixed name, never one from the network.
const scriptName = "imepipe-active-script.ps1"

// activeScript is the script that replaces the command line in mode m,
// or nil: the policy must carry it and the app's reference name it.
func activeScript(p imeapi.Policy, app imeapi.Win32LobApp, m mode) *imeapi.AppScript {
	ref, s, typ := app.ActiveInstallScript, p.InstallScript, imeapi.TypeInstallScript
	if m == modeUninstall {
		ref, s, typ = app.ActiveUninstallScript, p.UninstallScript, imeapi.TypeUninstallScript
	}
	if ref == nil || s == nil || s.ODataType != typ || !strings.EqualFold(ref.TargetID, s.ID) {
		return nil
	}
	return s
}

// setInstaller makes spec run the app's script installer for m when it
// has one (written to dir, the returned path), else cmdline. Errors are
// StepErrors; a command line that cannot run is logged here, the others
// by the caller's failure.
func (a *Agent) setInstaller(t *tracer, spec *reap.Spec, p imeapi.Policy, app imeapi.Win32LobApp, m mode, dir, cmdline string) (string, error) {
	s := activeScript(p, app, m)
	if s == nil {
		if err := setCommand(spec, cmdline); err != nil {
			t.log(imelog.CommandLineFailed, cmdline, err)
			return "", &StepError{Step: "install", Code: CodeFailure, Err: err}
		}
		return "", nil
	}
	t.log(imelog.ActiveScript, s.ID, s.DisplayName)
	host, err := powerShell(s.RunAs32Bit)
	if err != nil { // logged with its code by failure
		return "", &StepError{Step: "install", Code: CodeNoPowerShell, Err: fmt.Errorf("script %s: %w", s.ID, err)}
	}
	body, err := s.Script()
	if err != nil { // the service validated it
		return "", &StepError{Step: "install", Code: CodeFailure, Err: fmt.Errorf("script %s: %w", s.ID, err)}
	}
	path := filepath.Join(dir, scriptName)
	if err := writeScript(path, body); err != nil {
		return "", &StepError{Step: "install", Code: CodeFailure, Err: err}
	}
	setScript(spec, host, path)
	return path, nil
}

// writeScript writes body to path as a new file: whatever was there (a
// file of the package, a link) is removed first, never followed.
func writeScript(path string, body []byte) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("script installer: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("script installer: %w", err)
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		return fmt.Errorf("script installer: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("script installer: %w", err)
	}
	return nil
}
