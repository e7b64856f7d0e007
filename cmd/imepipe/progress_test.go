package main

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// TestProgressDone: a bar with a total that the work does not reach
// exactly still completes, and Done returns (it once waited forever).
func TestProgressDone(t *testing.T) {
	for _, total := range []int64{0, 1000, 5000} {
		var out bytes.Buffer
		pr := newProgress(&env{stdout: &out, tty: true}, false, "test", total)
		pr.Add(700)
		pr.Add(1300)
		done := make(chan struct{})
		go func() { pr.Done(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second): // a hang detector, not a synchronisation
			t.Fatalf("total %d: Done did not return", total)
		}
		if got := pr.n.Load(); got != 2000 {
			t.Errorf("total %d: counted %d, want 2000", total, got)
		}
	}
}

func TestIsTerminalDevNull(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Fatal("/dev/null taken for a terminal")
	}
}
