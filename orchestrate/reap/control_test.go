package reap

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

func TestWatchStop(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    io.Reader
		want bool
	}{
		{"stop byte", bytes.NewReader([]byte{stopByte}), true},
		{"stop after noise", bytes.NewReader([]byte("xy" + string(rune(stopByte)))), true},
		{"agent went away (EOF)", bytes.NewReader(nil), false},
		{"noise then EOF", bytes.NewReader([]byte("xyz")), false},
		{"read error", iotest.ErrReader(errors.New("broken pipe")), false},
		{"stop byte with the error", iotest.DataErrReader(bytes.NewReader([]byte{stopByte})), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			watchStop(tc.r, func() { calls++ })
			if want := map[bool]int{true: 1, false: 0}[tc.want]; calls != want {
				t.Fatalf("stop called %d times, want %d", calls, want)
			}
		})
	}
}

// TestWatchStopPipe: the request arrives on a pipe held open by the agent,
// as the reaper's standard input is. Each io.Pipe write returns only once
// read, so a write that succeeds proves watchStop was still listening.
func TestWatchStopPipe(t *testing.T) {
	errReturned := errors.New("watchStop returned")
	r, w := io.Pipe()
	stopped := make(chan struct{})
	go func() {
		watchStop(r, func() { close(stopped) })
		r.CloseWithError(errReturned)
	}()
	for _, b := range []byte("xy") {
		if _, err := w.Write([]byte{b}); err != nil {
			t.Fatalf("write %q: %v", b, err)
		}
	}
	select {
	case <-stopped:
		t.Fatal("stopped on bytes that are not the request")
	default:
	}
	if _, err := w.Write([]byte{stopByte}); err != nil {
		t.Fatal(err)
	}
	<-stopped
	if _, err := w.Write([]byte{stopByte}); !errors.Is(err, errReturned) {
		t.Fatalf("still reading after the stop request: %v", err)
	}
}

func FuzzWatchStop(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "stop", "*"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds in testdata/stop: %v", err)
	}
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		calls := 0
		watchStop(iotest.OneByteReader(bytes.NewReader(data)), func() { calls++ })
		want := 0
		if bytes.IndexByte(data, stopByte) >= 0 {
			want = 1
		}
		if calls != want {
			t.Fatalf("stop called %d times for %q, want %d", calls, data, want)
		}
	})
}
