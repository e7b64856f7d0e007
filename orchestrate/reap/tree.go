package reap

import "time"

// tree is the set of processes a Windows reaper follows: a Job Object
// that the reaper itself belongs to, so every process the installer
// starts, however deep, belongs to it too. It is an interface so that the
// waiting and killing logic below is tested on every OS; reap_windows.go
// implements it with a real job.
type tree interface {
	// counts reports the live processes in the tree, the reaper
	// included, and how many processes have ever joined it.
	counts() (active, total int, err error)
	// wake blocks until something in the tree may have changed (a
	// process started or ended) or d has passed.
	wake(d time.Duration)
	// pids lists live processes in the tree (possibly not all of them
	// when there are very many; a later call returns the rest).
	pids() ([]uint32, error)
	// terminate ends one process with the given exit status.
	terminate(pid, status uint32) error
	// seal stops any new process from joining the tree.
	seal() error
}

// killedStatus is the exit status of a process the reaper killed; as a
// Result.ExitCode it reads -1, as on Linux for a process killed by a signal.
const killedStatus = ^uint32(0)

// killPasses bounds killTree's passes over the process list.
const killPasses = 10

// waitTree returns once the reaper is the only live process left in t,
// with the number of processes that ran in t besides the reaper and the
// installer. poll bounds each wait, since a job's notifications are not
// guaranteed to arrive.
func waitTree(t tree, poll time.Duration) (reaped int, err error) {
	for {
		active, total, err := t.counts()
		if err != nil {
			return 0, err
		}
		if active <= 1 {
			return max(total-2, 0), nil
		}
		t.wake(poll)
	}
}

// killTree ends every process in t but the reaper (self). It seals t
// first so that no process can join meanwhile, then terminates what is
// listed, a few passes to catch stragglers. It does not wait: waitTree
// does. A process it cannot end dies with the reaper, whose exit closes
// the job (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE).
func killTree(t tree, self uint32) {
	_ = t.seal() // best effort: the passes below still run
	for pass := 0; pass < killPasses; pass++ {
		ids, err := t.pids()
		if err != nil {
			return
		}
		others := 0
		for _, id := range ids {
			if id == self {
				continue
			}
			others++
			_ = t.terminate(id, killedStatus)
		}
		if others == 0 {
			return
		}
	}
}
