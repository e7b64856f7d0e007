package reap

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// job is a Windows Job Object holding the reaper and, through it, the
// installer's whole process tree; it implements tree.
//
// The query buffers are fields so that they live on the heap, never on a
// goroutine stack that could move while the kernel writes them. counts
// and wake run on the reaper's main goroutine, pids, terminate and seal
// on its stop goroutine: no buffer is shared between the two.
type job struct {
	h     windows.Handle
	port  windows.Handle // I/O completion port for the job's notifications
	acct  accountingInfo
	list  processIDList
	limit windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	assoc completionPortInfo
}

// accountingInfo is JOBOBJECT_BASIC_ACCOUNTING_INFORMATION.
type accountingInfo struct {
	TotalUserTime             int64
	TotalKernelTime           int64
	ThisPeriodTotalUserTime   int64
	ThisPeriodTotalKernelTime int64
	TotalPageFaultCount       uint32
	TotalProcesses            uint32
	ActiveProcesses           uint32
	TotalTerminatedProcesses  uint32
}

// processIDList is JOBOBJECT_BASIC_PROCESS_ID_LIST with room for
// len(IDs) processes; a longer list comes back cut (ERROR_MORE_DATA).
type processIDList struct {
	NumberOfAssignedProcesses uint32
	NumberOfProcessIdsInList  uint32
	IDs                       [512]uintptr
}

// completionPortInfo is JOBOBJECT_ASSOCIATE_COMPLETION_PORT.
type completionPortInfo struct {
	CompletionKey  uintptr
	CompletionPort windows.Handle
}

// procIsProcessInJob guards terminate against a process id reused by a
// process outside the job; x/sys/windows does not wrap it.
var procIsProcessInJob = windows.NewLazySystemDLL("kernel32.dll").NewProc("IsProcessInJob")

// errNotInJob: a listed process id now names a process outside the job.
var errNotInJob = errors.New("process is not in the job")

// newJob creates a kill-on-close job with a completion port, named name
// when it is not "" (Spec.JobName: a restarted agent opens it by that
// name to end it; the name is freed when the last handle closes), and
// puts the calling process (the reaper) in it, so that every process it starts
// from now on is born in the job: no process can start outside it
// between creation and assignment, and no suspended start is needed.
func newJob(name string) (*job, error) {
	var n *uint16
	if name != "" {
		var err error
		if n, err = windows.UTF16PtrFromString(name); err != nil {
			return nil, fmt.Errorf("job name: %w", err)
		}
	}
	h, err := windows.CreateJobObject(nil, n)
	if err == nil && name != "" && windows.GetLastError() == windows.ERROR_ALREADY_EXISTS {
		// A job of that name lives on (an earlier run's tree): do not join it.
		_ = windows.CloseHandle(h)
		return nil, fmt.Errorf("CreateJobObject %s: %w", name, windows.ERROR_ALREADY_EXISTS)
	}
	if err != nil {
		return nil, fmt.Errorf("CreateJobObject: %w", err)
	}
	j := &job{h: h}
	fail := func(what string, err error) (*job, error) {
		if j.port != 0 {
			_ = windows.CloseHandle(j.port)
		}
		_ = windows.CloseHandle(h) // the reaper is not in the job yet
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	j.limit.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if err := j.setLimit(); err != nil {
		return fail("job limits", err)
	}
	if j.port, err = windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 1); err != nil {
		return fail("CreateIoCompletionPort", err)
	}
	j.assoc = completionPortInfo{CompletionKey: 1, CompletionPort: j.port}
	if _, err := windows.SetInformationJobObject(h, windows.JobObjectAssociateCompletionPortInformation,
		uintptr(unsafe.Pointer(&j.assoc)), uint32(unsafe.Sizeof(j.assoc))); err != nil {
		return fail("job completion port", err)
	}
	if err := windows.AssignProcessToJobObject(h, windows.CurrentProcess()); err != nil {
		return fail("AssignProcessToJobObject", err)
	}
	return j, nil
}

func (j *job) setLimit() error {
	_, err := windows.SetInformationJobObject(j.h, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&j.limit)), uint32(unsafe.Sizeof(j.limit)))
	return err
}

func (j *job) counts() (active, total int, err error) {
	if err := windows.QueryInformationJobObject(j.h, windows.JobObjectBasicAccountingInformation,
		uintptr(unsafe.Pointer(&j.acct)), uint32(unsafe.Sizeof(j.acct)), nil); err != nil {
		return 0, 0, fmt.Errorf("job accounting: %w", err)
	}
	return int(j.acct.ActiveProcesses), int(j.acct.TotalProcesses), nil
}

// wake waits for the next job notification (a process joined, exited,
// hit a limit) or d. Which notification it was does not matter: the
// caller re-reads the counts.
func (j *job) wake(d time.Duration) {
	var n uint32
	var key uintptr
	var ov *windows.Overlapped
	err := windows.GetQueuedCompletionStatus(j.port, &n, &key, &ov, uint32(d.Milliseconds()))
	if err != nil && !errors.Is(err, windows.WAIT_TIMEOUT) {
		time.Sleep(d) // a broken port: poll instead of spinning
	}
}

func (j *job) pids() ([]uint32, error) {
	err := windows.QueryInformationJobObject(j.h, windows.JobObjectBasicProcessIdList,
		uintptr(unsafe.Pointer(&j.list)), uint32(unsafe.Sizeof(j.list)), nil)
	if err != nil && !errors.Is(err, windows.ERROR_MORE_DATA) {
		return nil, fmt.Errorf("job process list: %w", err)
	}
	n := min(int(j.list.NumberOfProcessIdsInList), len(j.list.IDs))
	ids := make([]uint32, n)
	for i := range ids {
		ids[i] = uint32(j.list.IDs[i])
	}
	return ids, nil
}

// terminate ends pid if it is still in the job. Windows accepts a
// PROCESS_QUERY_LIMITED_INFORMATION handle for IsProcessInJob; Wine (8)
// wants PROCESS_QUERY_INFORMATION and answers access denied, so a refused
// check is retried once with that right before giving up.
func (j *job) terminate(pid, status uint32) error {
	h, err := j.openInJob(pid, windows.PROCESS_QUERY_LIMITED_INFORMATION)
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		h, err = j.openInJob(pid, windows.PROCESS_QUERY_INFORMATION)
	}
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	return windows.TerminateProcess(h, status)
}

// openInJob opens pid with PROCESS_TERMINATE and query, and checks that it
// is in the job (a listed id may since name a process outside it).
func (j *job) openInJob(pid, query uint32) (windows.Handle, error) {
	h, err := windows.OpenProcess(windows.PROCESS_TERMINATE|query, false, pid)
	if err != nil {
		return 0, fmt.Errorf("OpenProcess %d: %w", pid, err)
	}
	var in int32
	if r, _, e := procIsProcessInJob.Call(uintptr(h), uintptr(j.h), uintptr(unsafe.Pointer(&in))); r == 0 {
		windows.CloseHandle(h)
		return 0, fmt.Errorf("IsProcessInJob %d: %w", pid, e)
	}
	if in == 0 {
		windows.CloseHandle(h)
		return 0, fmt.Errorf("terminate %d: %w", pid, errNotInJob)
	}
	return h, nil
}

// seal sets the job's active process limit to one, the reaper: a process
// created in the job from now on is ended at birth.
func (j *job) seal() error {
	j.limit.BasicLimitInformation.LimitFlags |= windows.JOB_OBJECT_LIMIT_ACTIVE_PROCESS
	j.limit.BasicLimitInformation.ActiveProcessLimit = 1
	return j.setLimit()
}
