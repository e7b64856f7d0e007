package bench

import (
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// peakRSS is the child's ru_maxrss, which Linux gives in KiB: the largest
// resident set of the child or any descendant it waited for.
func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
}

// evenStart gives every run the same page cache: dirty pages written
// back, the page cache dropped (needs root; reported), then the files in
// warm (the package) read back in. Without it a run pays for reclaiming
// the cache the runs before it filled, and on ext4 without a journal for
// scanning past inodes they freed, so a contender's time depends on who
// ran before it.
func evenStart(warm ...string) (dropped bool) {
	syscall.Sync()
	dropped = os.WriteFile("/proc/sys/vm/drop_caches", []byte("1"), 0) == nil
	for _, name := range warm {
		if f, err := os.Open(name); err == nil {
			_, _ = io.Copy(io.Discard, f)
			f.Close()
		}
	}
	return dropped
}

// settle prepares a run. It writes dirty pages back, so that one run's
// writeback does not land in the next run's time. It also lowers this
// process's resident set and resets its high-water mark, and returns the
// mark: a child started by exec inherits its parent's high-water mark
// (Go starts children with vfork), so that is the floor of the child's
// ru_maxrss.
func settle() (rssFloor int64) {
	syscall.Sync()
	debug.FreeOSMemory()
	ResetPeakRSS() // Linux 4.0+; harmless where refused
	return SelfPeakRSS()
}

// ResetPeakRSS starts a new high-water mark of this process's resident
// set (clear_refs 5 resets VmHWM); false when the kernel refuses.
func ResetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// SelfPeakRSS is this process's VmHWM in bytes since it started or the
// last ResetPeakRSS (0 when unknown): not the ru_maxrss a child inherits
// from the process that started it.
func SelfPeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// SelfCPU is this process's CPU seconds, user and system, every thread
// (not its children's).
func SelfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// loadAvg is the one-minute load average, or -1 when unknown.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// rusageThread is Linux's RUSAGE_THREAD: the calling thread only.
const rusageThread = 1

// threadCPU is the calling thread's CPU time, user and system.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(rusageThread, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
