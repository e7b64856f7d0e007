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

// agentMemory is the agent's soft memory limit. While it delivers an
// app its live heap is the unpack's plus the download's (the pieces on
// their way to verification, HTTP and peer state): 60-70 MiB, which the
// collector's default pacing let grow to 84 MiB of heap and up to 141
// MiB peak RSS in `imepipe bench` on 1 GiB; idle it is a few MiB.
const agentMemory = 96 << 20

// limitMemory applies leanMemory unless GOMEMLIMIT is set.
func limitMemory() { limitMemoryTo(leanMemory) }

// limitMemoryTo applies the soft memory limit n unless GOMEMLIMIT is set.
func limitMemoryTo(n int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(n)
	}
}
