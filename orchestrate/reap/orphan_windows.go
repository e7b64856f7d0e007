package reap

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// procOpenJobObject opens a named job; x/sys/windows does not wrap it.
var procOpenJobObject = windows.NewLazySystemDLL("kernel32.dll").NewProc("OpenJobObjectW")

// Access rights of OpenJobObject.
const (
	jobObjectQuery     = 0x0004 // JOB_OBJECT_QUERY
	jobObjectTerminate = 0x0008 // JOB_OBJECT_TERMINATE
)

// This file is compiled and vetted for windows (make cross) but has not
// been run.

// startTime is the process's creation time (100 ns intervals since 1601);
// an error when it has exited or cannot be opened.
func startTime(pid int) (uint64, error) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION|windows.SYNCHRONIZE, false, uint32(pid))
	if err != nil {
		return 0, fmt.Errorf("OpenProcess %d: %w", pid, err)
	}
	defer windows.CloseHandle(h)
	if ev, err := windows.WaitForSingleObject(h, 0); err == nil && ev == windows.WAIT_OBJECT_0 {
		return 0, fmt.Errorf("process %d has exited", pid)
	}
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return 0, fmt.Errorf("GetProcessTimes %d: %w", pid, err)
	}
	return uint64(created.HighDateTime)<<32 | uint64(created.LowDateTime), nil
}

// Find is not supported on Windows (another process's environment is not
// readable there); a run recorded before its reaper's id was known is
// found through its Job Object name instead (Handle.Job with PID 0 is not
// alive, and Kill still terminates the named job).
func Find(string) (Handle, bool) { return Handle{}, false }

// Stop terminates the reaper's Job Object, opened by its name (Handle.Job):
// every process in it, the reaper included, ends with exit code -1, so no
// Result is written. Without a name it terminates the reaper alone.
func (h Handle) Stop() error {
	if h.Job != "" {
		return terminateJob(h.Job)
	}
	if !h.Alive() {
		return nil
	}
	p, err := windows.OpenProcess(windows.PROCESS_TERMINATE, false, uint32(h.PID))
	if err != nil {
		return fmt.Errorf("reap: OpenProcess %d: %w", h.PID, err)
	}
	defer windows.CloseHandle(p)
	return windows.TerminateProcess(p, killedStatus)
}

// Kill is Stop: a Job Object ends as a whole.
func (h Handle) Kill() { _ = h.Stop() }

// terminateJob opens the named job and ends every process in it.
func terminateJob(name string) error {
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return fmt.Errorf("reap: job name: %w", err)
	}
	r, _, e := procOpenJobObject.Call(jobObjectTerminate|jobObjectQuery, 0, uintptr(unsafe.Pointer(n)))
	if r == 0 {
		return fmt.Errorf("reap: OpenJobObject %s: %w", name, e)
	}
	j := windows.Handle(r)
	defer windows.CloseHandle(j)
	if err := windows.TerminateJobObject(j, killedStatus); err != nil {
		return fmt.Errorf("reap: TerminateJobObject %s: %w", name, err)
	}
	return nil
}

// Running is Alive: once the reaper is gone, its kill-on-close job has
// ended the rest of the tree (unless another process holds a handle to
// the job; the agent never keeps one).
func (h Handle) Running() bool { return h.Alive() }
