package peer

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clocktest"
)

// TestSwarmRefreshesOnItsClock: Swarm.Run's refresh interval is the
// injected clock's, not a real timer: no Array call happens until the
// clock moves a whole RefreshInterval, then exactly one per interval.
func TestSwarmRefreshesOnItsClock(t *testing.T) {
	f := newTestFile(t, 3*testPiece, 5)
	ct, err := newContent(f.id, int64(len(f.data)), testPiece, f.hashes)
	if err != nil {
		t.Fatal(err)
	}
	clk := clocktest.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	arr := newFakeArray()
	sw, err := NewSwarm(SwarmConfig{Content: ct, Mode: imeapi.ModeLAN, PeerID: "p1", Addr: "127.0.0.1:1",
		Array: arr, RefreshInterval: time.Hour, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); sw.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for i := 0; i < 1_000_000 && !cond(); i++ {
			runtime.Gosched() // yields to Run; bounded, no real-time sleep
		}
		if !cond() {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	waitFor("Run to wait on the clock", func() bool { return clk.Waiters() == 1 })
	if n := arr.calls.Load(); n != 0 {
		t.Fatalf("%d Array calls before the clock moved", n)
	}
	clk.Advance(time.Hour - time.Second)
	if n := arr.calls.Load(); n != 0 {
		t.Fatalf("%d Array calls before a whole interval", n)
	}
	for want := int64(1); want <= 2; want++ {
		clk.Advance(time.Second)
		waitFor("a refresh", func() bool { return arr.calls.Load() == want && clk.Waiters() == 1 })
		clk.Advance(time.Hour - time.Second)
	}
}
