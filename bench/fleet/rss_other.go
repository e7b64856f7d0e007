//go:build !linux

package fleet

func resetPeakRSS() bool { return false }

func peakRSS() int64 { return 0 }
