//go:build !linux

package bench

import (
	"os"
	"time"
)

// peakRSS is not reported here: ru_maxrss units differ between systems.
func peakRSS(*os.ProcessState) int64 { return 0 }

func settle() (rssFloor int64) { return 0 }

// ResetPeakRSS, SelfPeakRSS and SelfCPU are not measured here.
func ResetPeakRSS() bool { return false }

func SelfPeakRSS() int64 { return 0 }

func SelfCPU() float64 { return 0 }

func loadAvg() float64 { return -1 }

func evenStart(...string) bool { return false }

// threadCPU is not measured here.
func threadCPU() time.Duration { return 0 }
