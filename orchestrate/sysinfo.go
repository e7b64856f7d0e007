package orchestrate

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// SystemInfo is what requirement rules compare against.
type SystemInfo struct {
	FreeDiskMB  int64  // free space where Root lives (the "system drive")
	MemoryMB    int64  // physical memory
	CPUs        int    // logical processors
	CPUSpeedMHz int    // 0: unknown (a minimum is then not enforced)
	Arch        string // x86, x64, arm, arm64
	// OSVersion is Windows' MAJOR.MINOR.BUILD ("10.0.19045"): the real
	// one on Windows (RtlGetVersion), "" elsewhere, where
	// Config.OSVersion or DefaultOSVersion stands for it.
	OSVersion string
}

// DefaultOSVersion is the OS version the agent reports off Windows when
// Config.OSVersion (agent --os-version) is not set: Windows 10 22H2.
const DefaultOSVersion = "10.0.19045"

// ArchOf maps a GOARCH to Intune's architecture names.
func ArchOf(goarch string) string {
	switch goarch {
	case "amd64":
		return "x64"
	case "386":
		return "x86"
	default:
		return goarch
	}
}

// hostSystem reads this machine: statfs on root, /proc/meminfo, /proc/cpuinfo.
func hostSystem(root string) func() (SystemInfo, error) {
	return func() (SystemInfo, error) {
		si := SystemInfo{CPUs: runtime.NumCPU(), Arch: ArchOf(runtime.GOARCH)}
		si.FreeDiskMB = freeDiskMB(root)
		si.MemoryMB = procField("/proc/meminfo", "MemTotal") >> 10
		si.CPUSpeedMHz = int(procField("/proc/cpuinfo", "cpu MHz"))
		si.OSVersion = hostOSVersion()
		return si, nil
	}
}

// procField returns the largest integer value of name in a /proc file.
func procField(path, name string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	var best int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(k) != name {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseFloat(fields[0], 64)
		if err == nil && int64(n) > best {
			best = int64(n)
		}
	}
	return best
}
