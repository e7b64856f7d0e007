package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clocktest"
)

// planArray answers every request with one fixed plan.
type planArray struct {
	resp   imeapi.ArrayResponse
	calls  atomic.Int64
	wants  atomic.Int64 // requests that listed wanted pieces
	once   sync.Once
	wanted chan struct{} // closed at the first request with wanted pieces
}

func newPlanArray(resp imeapi.ArrayResponse) *planArray {
	return &planArray{resp: resp, wanted: make(chan struct{})}
}

func (a *planArray) Array(_ context.Context, req imeapi.ArrayRequest) (imeapi.ArrayResponse, error) {
	a.calls.Add(1)
	if len(req.Want) > 0 {
		a.wants.Add(1)
		a.once.Do(func() { close(a.wanted) })
	}
	return a.resp, nil
}

// testSwarm is a Swarm over f with nothing held, on a manual clock whose
// every wait returns at once after moving the clock on by its length.
func testSwarm(t *testing.T, f *testFile, arr ArrayClient, pol Policy) (*Swarm, *clocktest.Clock) {
	return testSwarmGated(t, f, arr, pol, nil)
}

// testSwarmGated is testSwarm whose waits longer than the kick gap also
// wait for gate (when not nil) before the clock moves on.
func testSwarmGated(t *testing.T, f *testFile, arr ArrayClient, pol Policy, gate <-chan struct{}) (*Swarm, *clocktest.Clock) {
	t.Helper()
	ct, err := newContent(f.id, int64(len(f.data)), testPiece, f.hashes)
	if err != nil {
		t.Fatal(err)
	}
	clock := clocktest.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	after := func(d time.Duration) <-chan time.Time {
		ch := make(chan time.Time, 1)
		if gate == nil || d <= 100*time.Millisecond {
			clock.Advance(d)
			ch <- clock.Now()
			return ch
		}
		go func() {
			<-gate
			clock.Advance(d)
			ch <- clock.Now()
		}()
		return ch
	}
	s, err := NewSwarm(SwarmConfig{Content: ct, Mode: imeapi.ModeLAN, PeerID: "me", Addr: "127.0.0.1:1", LanID: "lan1", Array: arr,
		RefreshInterval: time.Second, OwnerWait: 3 * time.Second, StallTimeout: time.Second, BanDuration: time.Hour,
		Policy: pol, Clock: afterClock{clock, after}})
	if err != nil {
		t.Fatal(err)
	}
	return s, clock
}

// afterClock is a clocktest.Clock whose After is the test's own.
type afterClock struct {
	*clocktest.Clock
	after func(time.Duration) <-chan time.Time
}

func (c afterClock) After(d time.Duration) <-chan time.Time { return c.after(d) }

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestPlanDelayThenOrigin: a piece the Array gave to a device that
// never delivers is waited for for DO's delay (DODelayForeground…, or
// OwnerWait when not set) on the swarm's clock, then sent to the origin;
// a piece assigned to this device goes to the origin at once.
func TestPlanDelayThenOrigin(t *testing.T) {
	f := newTestFile(t, 4*testPiece, 41)
	ghost := closedAddr(t)
	arr := newPlanArray(imeapi.ArrayResponse{Coordinated: true, Origin: []int{1},
		Fetching: []imeapi.PieceFetch{{Piece: 0, PeerID: "ghost", Addr: ghost, Type: imeapi.PeerLAN}}})
	for _, tc := range []struct {
		name string
		pol  Policy
		want time.Duration
	}{
		{"not set: OwnerWait", Policy{}, 3 * time.Second},
		{"DODelayForegroundDownloadFromHttp", Policy{DelayForegroundDownloadFromHttp: 40 * time.Second}, 40 * time.Second},
		{"background ignores the foreground delay", Policy{Priority: fetch.Background, DelayForegroundDownloadFromHttp: 40 * time.Second,
			DelayBackgroundDownloadFromHttp: 20 * time.Second, MinBackgroundQos: -1}, 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := testSwarm(t, f, arr, tc.pol)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := s.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			t0 := clock.Now()
			buf := make([]byte, testPiece)
			if _, err := s.piece(ctx, fetch.LanPeer, 1, buf); !errors.Is(err, fetch.ErrNotHave) || clock.Now() != t0 {
				t.Fatalf("own piece: %v after %v, want ErrNotHave at once", err, clock.Now().Sub(t0))
			}
			_, err := s.piece(ctx, fetch.LanPeer, 0, buf)
			waited := clock.Now().Sub(t0)
			if !errors.Is(err, fetch.ErrNotHave) || waited < tc.want || waited > tc.want+2*time.Second {
				t.Fatalf("assigned elsewhere: %v after %v, want ErrNotHave after %v", err, waited, tc.want)
			}
			if len(s.Banned()) != 0 {
				t.Fatalf("banned %v: an unreachable peer is not a bad one", s.Banned())
			}
		})
	}
}

// TestPlanWantsUnplanned: a piece nobody holds and nobody is assigned is
// listed in the next Array request (Want), and a background download
// below DOMinBackgroundQos goes to the origin before its delay.
func TestPlanWantsUnplanned(t *testing.T) {
	f := newTestFile(t, 4*testPiece, 42)
	arr := newPlanArray(imeapi.ArrayResponse{Coordinated: true})
	// The swarm's long waits hold until the Array has seen the want (so
	// the QoS window cannot pass before Run sends it).
	s, clock := testSwarmGated(t, f, arr, Policy{Priority: fetch.Background, DelayBackgroundDownloadFromHttp: time.Hour,
		MinBackgroundQos: 1 << 20, QosWindow: 5 * time.Second}, arr.wanted)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	go s.Run(ctx)
	t0 := clock.Now()
	_, err := s.piece(ctx, fetch.LanPeer, 2, make([]byte, testPiece))
	waited := clock.Now().Sub(t0)
	if !errors.Is(err, fetch.ErrNotHave) || waited < 5*time.Second || waited >= time.Hour {
		t.Fatalf("below the QoS floor: %v after %v, want ErrNotHave after the 5 s window, before the hour's delay", err, waited)
	}
	if arr.wants.Load() == 0 {
		t.Fatalf("%d Array requests, none listing the wanted piece", arr.calls.Load())
	}
}

// The Array is asked to plan the pieces workers come to next, not only
// those they wait on: those this peer lacks, no usable known peer holds
// and nobody is assigned.
func TestWantedLooksAhead(t *testing.T) {
	f := newTestFile(t, 20*testPiece, 31)
	s, _ := testSwarm(t, f, newPlanArray(imeapi.ArrayResponse{}), Policy{})
	have, _ := s.cfg.Content.Bitmap()
	if got := s.wanted(have, 4); len(got) != 0 {
		t.Fatalf("nothing awaited, wanted %v", got)
	}
	s.cfg.Content.markHave(5)
	holder := &remote{id: "p1", addr: "127.0.0.1:2", kind: fetch.LanPeer, have: NewBitmap(20)}
	holder.have.Set(6)
	banned := &remote{id: "p2", addr: "127.0.0.1:3", kind: fetch.LanPeer, have: NewBitmap(20), bannedUntil: s.cfg.Clock.Now().Add(time.Hour)}
	banned.have.Set(9)
	s.mu.Lock()
	s.peers["p1"], s.peers["p2"] = holder, banned
	s.fetching[7] = holder
	s.origin[8] = true
	s.setWant(3, true)
	s.setWant(11, true)
	s.mu.Unlock()
	have, _ = s.cfg.Content.Bitmap()
	got := s.wanted(have, 3)
	want := []int{3, 4, 9, 10, 11}
	if len(got) != len(want) {
		t.Fatalf("wanted %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("wanted %v, want %v", got, want)
		}
	}
}

// TestLogOriginOncePerPiece: the sources of the peer kinds (LAN, Group,
// Internet) each send a piece nobody had to the origin; one line says so
// per piece, not one per kind.
func TestLogOriginOncePerPiece(t *testing.T) {
	var lines []string
	s := &Swarm{cfg: SwarmConfig{Logf: func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }}}
	for range 3 { // one verdict per kind
		s.logOrigin(7, "no peer had it within %v", 5*time.Second)
	}
	s.logOrigin(8, "below DOMinBackgroundQos after %v", time.Second)
	want := []string{"peer: piece 7: no peer had it within 5s: from the origin", "peer: piece 8: below DOMinBackgroundQos after 1s: from the origin"}
	if !slices.Equal(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
}
