package clocktest

import (
	"testing"
	"time"
)

// TestAfterFiresOnAdvance: an After channel stays silent until Advance
// reaches its deadline, then receives the clock's time once.
func TestAfterFiresOnAdvance(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := New(t0)
	ch := c.After(time.Minute)
	if c.Waiters() != 1 {
		t.Fatalf("Waiters %d, want 1", c.Waiters())
	}
	c.Advance(59 * time.Second)
	select {
	case <-ch:
		t.Fatal("fired before its deadline")
	default:
	}
	c.Advance(time.Second)
	select {
	case got := <-ch:
		if !got.Equal(t0.Add(time.Minute)) {
			t.Fatalf("fired with %v", got)
		}
	default:
		t.Fatal("did not fire at its deadline")
	}
	if c.Waiters() != 0 {
		t.Fatalf("Waiters %d after firing", c.Waiters())
	}
	select {
	case <-c.After(0):
	default:
		t.Fatal("After(0) did not fire at once")
	}
}
