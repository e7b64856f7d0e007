package peer

import (
	"context"
	"sync"
	"time"
)

// fairSlots shares a server's upload slots among the peers asking, so
// that every downloader progresses: a peer holds at most perPeer slots
// at once; when none is free, a request waits in its peer's queue, and
// each freed slot goes to the next peer in turn that has a request
// waiting (round robin), not to whoever asks most. A request that has
// waited maxWait is turned away (the server answers 503 + Retry-After).
// At most maxQueued requests wait at once; past that, at once away.
type fairSlots struct {
	mu        sync.Mutex
	free      int
	perPeer   int
	maxQueued int
	active    map[string]int
	queues    map[string][]*slotWaiter
	order     []string // peers with waiters, in turn order
	queued    int
}

type slotWaiter struct {
	peer    string
	ready   chan struct{}
	granted bool // under fairSlots.mu
}

func newFairSlots(slots, perPeer, maxQueued int) *fairSlots {
	return &fairSlots{free: slots, perPeer: max(1, perPeer), maxQueued: maxQueued,
		active: map[string]int{}, queues: map[string][]*slotWaiter{}}
}

// acquire takes a slot for peer, waiting in turn until timeout fires or
// ctx is done; it reports whether it got one (then release must follow).
func (f *fairSlots) acquire(ctx context.Context, peer string, timeout <-chan time.Time) bool {
	f.mu.Lock()
	if f.free > 0 && f.active[peer] < f.perPeer && len(f.order) == 0 {
		f.free--
		f.active[peer]++
		f.mu.Unlock()
		return true
	}
	if f.queued >= f.maxQueued {
		f.mu.Unlock()
		return false
	}
	w := &slotWaiter{peer: peer, ready: make(chan struct{})}
	if len(f.queues[peer]) == 0 {
		f.order = append(f.order, peer)
	}
	f.queues[peer] = append(f.queues[peer], w)
	f.queued++
	f.dispatch()
	f.mu.Unlock()
	select {
	case <-w.ready:
		return true
	case <-ctx.Done():
	case <-timeout:
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if w.granted {
		// Granted as we gave up: hand the slot on.
		f.releaseLocked(peer)
		return false
	}
	q := f.queues[peer]
	for i, x := range q {
		if x == w {
			f.queues[peer] = append(q[:i:i], q[i+1:]...)
			f.queued--
			break
		}
	}
	if len(f.queues[peer]) == 0 {
		f.dropTurn(peer)
	}
	return false
}

// release frees a slot of peer's.
func (f *fairSlots) release(peer string) {
	f.mu.Lock()
	f.releaseLocked(peer)
	f.mu.Unlock()
}

func (f *fairSlots) releaseLocked(peer string) {
	f.free++
	if f.active[peer]--; f.active[peer] <= 0 {
		delete(f.active, peer)
	}
	f.dispatch()
}

// dispatch grants free slots to waiters, one peer at a time in turn; a
// peer at perPeer keeps its turn for later. f.mu held.
func (f *fairSlots) dispatch() {
	for f.free > 0 {
		granted := false
		for n := len(f.order); n > 0 && f.free > 0; n-- {
			peer := f.order[0]
			f.order = f.order[1:]
			q := f.queues[peer]
			if f.active[peer] >= f.perPeer {
				f.order = append(f.order, peer)
				continue
			}
			w := q[0]
			f.queues[peer] = q[1:]
			f.queued--
			w.granted = true
			f.free--
			f.active[peer]++
			close(w.ready)
			granted = true
			if len(f.queues[peer]) > 0 {
				f.order = append(f.order, peer)
			} else {
				delete(f.queues, peer)
			}
		}
		if !granted {
			return
		}
	}
}

// dropTurn removes peer from the turn order; f.mu held.
func (f *fairSlots) dropTurn(peer string) {
	delete(f.queues, peer)
	for i, p := range f.order {
		if p == peer {
			f.order = append(f.order[:i:i], f.order[i+1:]...)
			return
		}
	}
}

// inUse is how many slots are taken.
func (f *fairSlots) inUse(total int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return total - f.free
}
