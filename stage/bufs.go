package stage

import (
	"math/bits"
	"sync"
)

// Buffers for the compressed data of queued entries are reused, by
// power-of-two size class from 4 KiB to bufferedEntry: allocated fresh per
// entry they became garbage at the rate of the stream, and the heap grew
// to twice what was in use. The free buffers kept are held to cacheBytes,
// so that with budgetBytes in use the data buffers never pass the sum of
// the two, whatever mix of sizes the archive has.
const (
	minClassShift = 12
	maxClassShift = 23 // bufferedEntry
	cacheBytes    = 16 << 20
)

var dataCache struct {
	sync.Mutex
	free  [maxClassShift - minClassShift + 1][]*[]byte
	bytes int
}

// sizeClass returns the class of n bytes, or -1 above the largest.
func sizeClass(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	c := bits.Len(uint(n-1)) - minClassShift
	if c >= len(dataCache.free) {
		return -1
	}
	return c
}

// dataCap is the capacity of getData(n)'s buffer.
func dataCap(n int) int {
	if c := sizeClass(n); c >= 0 {
		return 1 << (c + minClassShift)
	}
	return n
}

// getData returns a buffer of n bytes.
func getData(n int) *[]byte {
	c := sizeClass(n)
	if c < 0 {
		b := make([]byte, n)
		return &b
	}
	dataCache.Lock()
	if free := dataCache.free[c]; len(free) > 0 {
		p := free[len(free)-1]
		dataCache.free[c] = free[:len(free)-1]
		dataCache.bytes -= cap(*p)
		dataCache.Unlock()
		*p = (*p)[:n]
		return p
	}
	dataCache.Unlock()
	b := make([]byte, n, 1<<(c+minClassShift))
	return &b
}

// putData gives a buffer from getData back, to be kept while the cache
// has room.
func putData(p *[]byte) {
	c := sizeClass(cap(*p))
	if c < 0 || cap(*p) != 1<<(c+minClassShift) {
		return
	}
	dataCache.Lock()
	if dataCache.bytes+cap(*p) <= cacheBytes {
		dataCache.free[c] = append(dataCache.free[c], p)
		dataCache.bytes += cap(*p)
	}
	dataCache.Unlock()
}
