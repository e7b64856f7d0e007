package e2e

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// resetPeak starts a new high-water mark of this process's resident set
// (clear_refs 5 resets VmHWM; harmless where refused).
func resetPeak() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// selfUsage is this process's CPU seconds (user and system, every
// thread; not its children's) and its peak resident set in bytes
// (VmHWM, not the ru_maxrss a child inherits from the process that
// started it).
func selfUsage() (cpuS float64, peakRSS int64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpuS = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return cpuS, 0
	}
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			if f := bytes.Fields(rest); len(f) > 0 {
				if kb, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
					peakRSS = kb << 10
				}
			}
		}
	}
	return cpuS, peakRSS
}
