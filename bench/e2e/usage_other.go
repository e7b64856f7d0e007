//go:build !linux

package e2e

func resetPeak() {}

// selfUsage is not measured here (0, 0): the report says "-".
func selfUsage() (cpuS float64, peakRSS int64) { return 0, 0 }
