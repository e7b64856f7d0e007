package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for mpb's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBenchProgress: on a terminal the bar counts the runs and every log
// line still comes out (above it); Done returns whether or not the runs
// all finished; without a terminal the log lines are plain.
func TestBenchProgress(t *testing.T) {
	for _, finish := range []bool{true, false} {
		var errb syncBuffer
		bp := newBenchProgress(&env{stderr: &errb, errTTY: true}, "bench", true)
		bp.Step(0, 3)
		bp.Logf("run %d", 1)
		bp.Step(1, 3)
		bp.Logf("run %d", 2)
		bp.Step(2, 3)
		if finish {
			bp.Logf("run %d", 3)
			bp.Step(3, 3)
		}
		done := make(chan struct{})
		go func() { bp.Done(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second): // a hang detector, not a synchronisation
			t.Fatalf("finish %v: Done did not return", finish)
		}
		out := errb.String()
		for _, want := range []string{"bench: run 1\n", "bench: run 2\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("finish %v: %q missing from %q", finish, want, out)
			}
		}
		if finish && !strings.Contains(out, "3 / 3 runs") {
			t.Errorf("finish: no 3 / 3 runs in %q", out)
		}
	}
	var errb bytes.Buffer
	bp := newBenchProgress(&env{stderr: &errb}, "bench", true)
	bp.Step(0, 1)
	bp.Logf("plain")
	bp.Step(1, 1)
	bp.Done()
	if errb.String() != "bench: plain\n" {
		t.Errorf("no terminal: %q", errb.String())
	}
}
