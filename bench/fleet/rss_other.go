//go:build !linux

package fleet

func resetPeakRSS() bool { return false }

func peakRSS() int64 { return 0 }

func selfCPU() float64 { return 0 }
