package peer

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// TestFairSlotsRoundRobin: one slot, held by a; a queues three more
// requests and b one. Freed slots go a, b, a, a — b is not starved by
// a's earlier and more numerous requests — and a request that times out
// in the queue leaves without taking a slot.
func TestFairSlotsRoundRobin(t *testing.T) {
	f := newFairSlots(1, 4, 16)
	ctx := context.Background()
	never := make(chan time.Time)
	if !f.acquire(ctx, "a", never) {
		t.Fatal("first acquire failed")
	}
	got := make(chan string, 8)
	enqueue := func(peer string) {
		queued := f.queuedCount()
		go func() {
			if f.acquire(ctx, peer, never) {
				got <- peer
			}
		}()
		for n := 0; f.queuedCount() == queued; n++ { // the goroutine queues at once
			if n > 1e7 {
				t.Fatalf("%s's request never queued", peer)
			}
			runtime.Gosched()
		}
	}
	enqueue("a")
	enqueue("a")
	enqueue("b")
	enqueue("a")
	var order []string
	for range 4 {
		f.release(<-lastOr(order, "a"))
		order = append(order, <-got)
	}
	want := []string{"a", "b", "a", "a"}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("grant order %v, want %v", order, want)
		}
	}
	// A waiter that times out leaves no slot taken and no queue entry.
	gone := make(chan time.Time, 1)
	gone <- time.Time{}
	if f.acquire(ctx, "c", gone) {
		t.Fatal("acquire with every slot busy and an expired wait succeeded")
	}
	f.release("a")
	if f.queuedCount() != 0 || f.inUse(1) != 0 {
		t.Fatalf("after the timeout: queued %d, in use %d", f.queuedCount(), f.inUse(1))
	}
	// Per-peer cap: with 2 slots and perPeer 1, a's second request waits
	// while b's is served.
	g := newFairSlots(2, 1, 16)
	if !g.acquire(ctx, "a", never) {
		t.Fatal("a")
	}
	expired := make(chan time.Time, 1)
	expired <- time.Time{}
	if g.acquire(ctx, "a", expired) {
		t.Fatal("a took a second slot past its per-peer cap")
	}
	if !g.acquire(ctx, "b", never) {
		t.Fatal("b was refused a free slot")
	}
}

// lastOr returns a channel that yields the last of order, or def.
func lastOr(order []string, def string) <-chan string {
	ch := make(chan string, 1)
	if len(order) > 0 {
		def = order[len(order)-1]
	}
	ch <- def
	return ch
}

func (f *fairSlots) queuedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queued
}
