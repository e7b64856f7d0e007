package service

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// TestPeersPostgres: the Array kept in PostgreSQL by two pgPeers (two
// serve processes on one database) behaves as one Array: registrations
// made through one are returned by the other, they expire on the
// service's clock (and the sweep deletes their rows), leave removes one
// device's only, and the back-to-source story of
// TestArrayAssignsBackToSource holds with its requests alternating
// between the two.
func TestPeersPostgres(t *testing.T) {
	url := newPGDatabase(t)
	open := func() *pgStore {
		s, err := openStore(url, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.close() })
		return s.(*pgStore)
	}
	s1, s2 := open(), open()
	clock := newClock()
	a := newPGPeers(s1.pool, time.Minute, clock.Now, t.Logf)
	b := newPGPeers(s2.pool, time.Minute, clock.Now, t.Logf)
	reg := func(dev, file string) registration {
		return registration{fileID: file, deviceID: dev, peerID: "peer-" + dev, addr: dev + ":7680", lanID: "lan1",
			mode: imeapi.ModeLAN, complete: true, avoid: []string{"x"}}
	}
	rows := func() int {
		var n int
		if err := s1.pool.QueryRow(t.Context(), "SELECT count(*) FROM peer_registrations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	peersOf := func(p *pgPeers, dev, file string) []string {
		t.Helper()
		r, err := p.ask(registration{fileID: file, deviceID: dev, peerID: dev, lanID: "lan1", mode: imeapi.ModeLAN}, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range r.Peers {
			got = append(got, x.PeerID+"@"+x.Addr)
		}
		sort.Strings(got)
		return got
	}

	for _, d := range []string{"d1", "d2"} {
		r, err := a.ask(reg(d, "f1"), true, 0)
		if err != nil || !r.Registered || r.TTLSeconds != 60 {
			t.Fatalf("register %s: %+v, %v", d, r, err)
		}
	}
	if _, err := a.ask(reg("d3", "f2"), true, 0); err != nil {
		t.Fatal(err)
	}
	if got := peersOf(b, "asker", "f1"); len(got) != 2 || got[0] != "peer-d1@d1:7680" || got[1] != "peer-d2@d2:7680" {
		t.Fatalf("b sees %v; want a's registrations of d1 and d2", got)
	}
	// d1 renews through b half a TTL later; at the TTL d2 and d3 have
	// expired and d1 has not.
	clock.Advance(30 * time.Second)
	if _, err := b.ask(reg("d1", "f1"), true, 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Second)
	if got := peersOf(a, "asker", "f1"); len(got) != 1 || got[0] != "peer-d1@d1:7680" {
		t.Fatalf("after the TTL a sees %v; want d1 (renewed) alone", got)
	}
	// The sweep (a's first past its TTL) deleted d3's row of f2, which
	// nobody asked about: d1's row is what is left.
	if n := rows(); n != 1 {
		t.Fatalf("%d registration rows after the sweep; want 1", n)
	}
	if n, err := b.leaveAll("nobody"); err != nil || n != 0 {
		t.Fatalf("leave of an unknown device: %d, %v", n, err)
	}
	if n, err := b.leaveAll("d1"); err != nil || n != 1 {
		t.Fatalf("leave d1: %d, %v; want 1", n, err)
	}
	if got := peersOf(a, "asker", "f1"); len(got) != 0 {
		t.Fatalf("after d1 left a sees %v", got)
	}

	turn := 0
	assignScenario(t, clock, func(r registration, holds bool, limit int) (imeapi.ArrayResponse, error) {
		turn++
		if turn%2 == 0 {
			return b.ask(r, holds, limit)
		}
		return a.ask(r, holds, limit)
	})
}

// TestPeersPostgresConcurrent: 32 devices registering one file at once
// through two pgPeers all succeed and all are returned afterwards (no
// lost registration, no deadlock), and the coordinated origin pieces
// handed out meanwhile never go to two devices.
func TestPeersPostgresConcurrent(t *testing.T) {
	url := newPGDatabase(t)
	var pools []*pgPeers
	clock := newClock()
	for range 2 {
		s, err := openStore(url, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.close() })
		pools = append(pools, newPGPeers(s.(*pgStore).pool, time.Minute, clock.Now, t.Logf))
	}
	const n = 32
	var wg sync.WaitGroup
	errs := make([]error, n)
	origin := make([][]int, n)
	for i := range n {
		wg.Go(func() {
			dev := fmt.Sprintf("d%02d", i)
			r, err := pools[i%2].ask(registration{fileID: "f", deviceID: dev, peerID: dev, addr: dev + ":1", lanID: "lan",
				mode: imeapi.ModeLAN, npieces: n, want: []int{i, (i + 1) % n}, maxOrig: 1}, false, 0)
			errs[i], origin[i] = err, r.Origin
		})
	}
	wg.Wait()
	owner := map[int]int{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("device %d: %v", i, err)
		}
		for _, p := range origin[i] {
			if j, dup := owner[p]; dup {
				t.Fatalf("piece %d assigned to devices %d and %d", p, j, i)
			}
			owner[p] = i
		}
	}
	r, err := pools[0].ask(registration{fileID: "f", deviceID: "asker", peerID: "asker", lanID: "lan", mode: imeapi.ModeLAN, npieces: n}, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	leased := map[int]bool{}
	for _, f := range r.Fetching {
		leased[f.Piece] = true
	}
	if len(leased) != len(owner) || len(owner) == 0 {
		t.Fatalf("%d pieces leased in the database, %d handed out", len(leased), len(owner))
	}
	var members int
	if err := pools[1].pool.QueryRow(t.Context(), "SELECT count(*) FROM peer_registrations WHERE file_id = 'f'").Scan(&members); err != nil || members != n {
		t.Fatalf("%d registrations (%v); want %d", members, err, n)
	}
}
