package main

import (
	"os"
	"runtime/debug"
)

// leanMemory is the soft memory limit of the commands that stream a
// package through bounded buffers (pack, unpack, extract, fetch): their
// live heap stays around 35-50 MiB whatever the package size, and with the
// collector's default pacing alone the heap ran to twice that between
// collections (95 MiB peak RSS on a 4 GiB installer unpack; 65 MiB with
// the limit, at the same CPU time). GOMEMLIMIT, when set, wins.
const leanMemory = 64 << 20

// limitMemory applies leanMemory unless GOMEMLIMIT is set.
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(leanMemory)
	}
}
