package reap

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/windows"
)

// passLaunch makes w, the write end of the launch report, inheritable and
// lists it in cmd's SysProcAttr.AdditionalInheritedHandles (os/exec has
// no ExtraFiles on Windows; only listed handles are inherited, through
// PROC_THREAD_ATTRIBUTE_HANDLE_LIST), and returns EnvLaunch's value: the
// handle, which the reaper receives with the same value. cmd.SysProcAttr
// must be set.
func passLaunch(cmd *exec.Cmd, w *os.File) (string, error) {
	h := windows.Handle(w.Fd())
	if err := windows.SetHandleInformation(h, windows.HANDLE_FLAG_INHERIT, windows.HANDLE_FLAG_INHERIT); err != nil {
		return "", fmt.Errorf("launch report: %w", err)
	}
	cmd.SysProcAttr.AdditionalInheritedHandles = append(cmd.SysProcAttr.AdditionalInheritedHandles, syscall.Handle(h))
	return strconv.FormatUint(uint64(h), 10), nil
}

// launchFile is the launch report's handle v, made non-inheritable first
// so that no installer inherits it; nil if v is no handle of this
// process.
func launchFile(v string) *os.File {
	h, err := strconv.ParseUint(v, 10, 64)
	if err != nil || h == 0 {
		return nil
	}
	if err := windows.SetHandleInformation(windows.Handle(h), windows.HANDLE_FLAG_INHERIT, 0); err != nil {
		return nil
	}
	return os.NewFile(uintptr(h), "launch report")
}
