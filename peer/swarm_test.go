package peer

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// runFleet downloads f on every node at once and waits for all.
func runFleet(t *testing.T, nodes []*node, f *testFile, o *origin, arr ArrayClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); n.download(ctx, f, o, arr, "") }()
	}
	wg.Wait()
}

func TestSwarmSharesOverLAN(t *testing.T) {
	f := newTestFile(t, 64*testPiece, 1)
	size := int64(len(f.data))
	o := newOrigin(t, f, 8<<20) // 0.5 s per copy: the internet link
	arr := newCoordArray(f)
	var nodes []*node
	for i := range 5 {
		nodes = append(nodes, newNode(t, fmt.Sprintf("agent%d", i), "lan1", "", imeapi.ModeLAN, nil))
	}
	t0 := time.Now()
	runFleet(t, nodes, f, o, arr)
	el := time.Since(t0)
	var fromPeers, toPeers, unanswered int64
	for _, n := range nodes {
		n.verify(t, f)
		st := n.result.Status
		if st.BytesFromHttp+st.BytesFromPeers != st.TotalBytesDownloaded || st.TotalBytesDownloaded < size {
			t.Errorf("%s: inconsistent record %+v", n.name, st)
		}
		if st.BytesFromGroupPeers != 0 || st.BytesFromInternetPeers != 0 {
			t.Errorf("%s: mode 1 took bytes from Group/Internet peers: %+v", n.name, st)
		}
		fromPeers += st.BytesFromLanPeers
		// requests that brought no piece and no 503: lost endgame races
		// (and pieces not held), each at most one piece uploaded
		unanswered += n.result.PeerRequests - st.BytesFromLanPeers/testPiece - n.result.PeerBusy
		ct, _ := n.cache.Get(f.id)
		toPeers += ct.Status().BytesToLanPeers
		if len(n.result.Banned) != 0 {
			t.Errorf("%s banned good peers %v", n.name, n.result.Banned)
		}
	}
	t.Logf("origin sent %d bytes (%.2f × size) in %v; peers %d (sent %d, %d requests unanswered)", o.sent.Load(), float64(o.sent.Load())/float64(size), el, fromPeers, toPeers, unanswered)
	// Coordinated back-to-source: each piece from the origin about once.
	if got := o.sent.Load(); got > size+size/4 {
		t.Errorf("origin sent %d bytes, want ≤ 1.25 × %d (5 agents would be 5 ×)", got, size)
	}
	// Every byte taken from a peer was counted sent by it. A peer may
	// also have sent a piece that was not taken: the loser of an endgame
	// race (a slow agent asks two holders for one of its last pieces),
	// cancelled once the winner's copy came, after its server had written
	// it (loopback buffers a piece). A run without races is exact.
	if toPeers < fromPeers || toPeers > fromPeers+unanswered*testPiece {
		t.Errorf("bytes to LAN peers %d, want from LAN peers %d plus at most %d unanswered requests' pieces", toPeers, fromPeers, unanswered)
	}
}

func TestSwarmBansBadPeers(t *testing.T) {
	f := newTestFile(t, 48*testPiece, 2)
	size := int64(len(f.data))
	o := newOrigin(t, f, 8<<20)
	arr := newCoordArray(f)
	corrupt := func(_ string, _ int, b []byte) { b[len(b)/2] ^= 0x55 }
	var nodes []*node
	bad := map[string]bool{"agent0": true, "agent3": true}
	for i := range 6 {
		name := fmt.Sprintf("agent%d", i)
		var tamper func(string, int, []byte)
		if bad[name] {
			tamper = corrupt
		}
		nodes = append(nodes, newNode(t, name, "lan1", "", imeapi.ModeLAN, tamper))
	}
	runFleet(t, nodes, f, o, arr)
	bannedBy := map[string]int{}
	for _, n := range nodes {
		n.verify(t, f) // every agent, bad ones included, gets good bytes
		for _, b := range n.result.Banned {
			if !bad[b] {
				t.Errorf("%s banned good peer %s", n.name, b)
			}
			bannedBy[b]++
		}
	}
	// A bad peer that sent a piece is banned (coordinated, a bad peer may
	// be asked for nothing); at least one was asked.
	for _, n := range nodes {
		if bad[n.name] && n.srv.Served() > 0 && bannedBy[n.name] == 0 {
			t.Errorf("bad peer %s sent %d pieces and was never banned", n.name, n.srv.Served())
		}
	}
	if len(bannedBy) == 0 {
		t.Errorf("no bad peer banned")
	}
	t.Logf("origin sent %.2f × size; bans %v", float64(o.sent.Load())/float64(size), bannedBy)
	// The Array hands a banned peer's origin pieces to the peers that
	// banned it, so bad peers cost little origin traffic.
	if got := o.sent.Load(); got > size+size/2 {
		t.Errorf("origin sent %d bytes, want ≤ 1.5 × %d", got, size)
	}
}

// TestModeRules: modes 0, 99 and 100 never contact the Array or a peer;
// mode 1 uses a LAN peer but never a Group peer; mode 2 uses both.
func TestModeRules(t *testing.T) {
	f := newTestFile(t, 16*testPiece, 3)
	size := int64(len(f.data))
	cases := []struct {
		name             string
		mode             imeapi.DownloadMode
		seedLan          string // the seed's LAN: "lan1" is ours; it is in our group g1
		wantLan, wantGrp bool
		wantArray        bool
	}{
		{"http-only", imeapi.ModeHTTPOnly, "lan1", false, false, false},
		{"simple", imeapi.ModeSimple, "lan1", false, false, false},
		{"bypass", imeapi.ModeBypass, "lan1", false, false, false},
		{"lan-seed-mode1", imeapi.ModeLAN, "lan1", true, false, true},
		{"group-seed-mode1", imeapi.ModeLAN, "lan2", false, false, true},
		{"group-seed-mode2", imeapi.ModeGroup, "lan2", false, true, true},
		{"lan-seed-mode2", imeapi.ModeGroup, "lan1", true, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := newOrigin(t, f, 0)
			arr := newFakeArray()
			seed := newNode(t, "seed", c.seedLan, "g1", imeapi.ModeGroup, nil)
			seed.download(context.Background(), f, o, arr, "")
			seed.verify(t, f)
			o.sent.Store(0)
			callsBefore := arr.calls.Load()
			n := newNode(t, "dut", "lan1", "g1", c.mode, nil)
			n.download(context.Background(), f, o, arr, "")
			n.verify(t, f)
			st := n.result.Status
			if st.DownloadMode != c.mode {
				t.Errorf("DownloadMode %d, want %d", st.DownloadMode, c.mode)
			}
			if got := arr.calls.Load() - callsBefore; (got > 0) != c.wantArray || n.result.ArrayCalls != got {
				t.Errorf("Array calls %d (counted %d), want some: %v", got, n.result.ArrayCalls, c.wantArray)
			}
			peered := c.wantLan || c.wantGrp
			if (seed.srv.Served() > 0) != peered || (n.result.PeerRequests > 0) != peered {
				t.Errorf("seed served %d pieces, %d requests; want some: %v", seed.srv.Served(), n.result.PeerRequests, peered)
			}
			if (st.BytesFromLanPeers > 0) != c.wantLan || (st.BytesFromGroupPeers > 0) != c.wantGrp || st.BytesFromInternetPeers != 0 {
				t.Errorf("LAN %d Group %d Internet %d bytes", st.BytesFromLanPeers, st.BytesFromGroupPeers, st.BytesFromInternetPeers)
			}
			if peered && st.BytesFromPeers != size {
				t.Errorf("BytesFromPeers %d, want all %d from the seed", st.BytesFromPeers, size)
			}
			if !peered && (st.BytesFromHttp != size || o.sent.Load() < size) {
				t.Errorf("BytesFromHttp %d, origin sent %d; want %d", st.BytesFromHttp, o.sent.Load(), size)
			}
			ct, _ := seed.cache.Get(f.id)
			up := ct.Status()
			if up.BytesToLanPeers != st.BytesFromLanPeers || up.BytesToGroupPeers != st.BytesFromGroupPeers {
				t.Errorf("seed uploaded LAN %d Group %d; dut got LAN %d Group %d", up.BytesToLanPeers, up.BytesToGroupPeers, st.BytesFromLanPeers, st.BytesFromGroupPeers)
			}
			if st.BytesFromPeers+st.BytesFromHttp != st.TotalBytesDownloaded {
				t.Errorf("counters do not add up: %+v", st)
			}
		})
	}
}

// TestLoneDeviceIsNotHeldBack: a device alone in mode 1 (no peer known
// yet) downloads piece after piece from the origin without waiting for a
// refresh between pieces. With an hour-long refresh interval, the
// hold-back of the fleet start would stall it past the deadline.
func TestLoneDeviceIsNotHeldBack(t *testing.T) {
	f := newTestFile(t, 24*testPiece, 7)
	o := newOrigin(t, f, 0)
	n := newNode(t, "alone", "lan1", "", imeapi.ModeLAN, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var logs []string
	n.result, n.err = Download(ctx, DownloadConfig{
		Info: infoOf(f, o), Hashes: f.hashes, Path: n.path(), Cache: n.cache, Mode: n.mode,
		PeerID: n.name, PeerAddr: n.addr, LanID: n.lan, Array: newFakeArray(),
		Options:         fetch.Options{Connections: 4},
		RefreshInterval: time.Hour, OwnerWait: time.Second, StallTimeout: time.Second,
		Logf: func(f string, a ...any) {
			mu.Lock()
			logs = append(logs, fmt.Sprintf(f, a...))
			mu.Unlock()
		},
	})
	n.verify(t, f)
	for _, l := range logs {
		if strings.Contains(l, "no progress") || strings.Contains(l, "banned") {
			t.Errorf("the held-back workers stalled: %s", l)
		}
	}
	if got := n.result.Status.BytesFromHttp; got != int64(len(f.data)) {
		t.Errorf("BytesFromHttp %d, want %d", got, len(f.data))
	}
	// One DO record: what Download returns (the agent's report) is what
	// the DO cache keeps (do status), and a swarm that named no peer
	// counts neither a peer nor a LAN connection.
	st := n.result.Status
	if st.NumPeers != 0 || st.LanConnectionCount != 0 {
		t.Errorf("alone: NumPeers %d, LanConnectionCount %d; want 0 and 0", st.NumPeers, st.LanConnectionCount)
	}
	ct, ok := n.cache.Get(f.id)
	if !ok {
		t.Fatalf("content %s not in the DO cache", f.id)
	}
	cs := ct.Status()
	if cs.NumPeers != st.NumPeers || time.Time(cs.ExpireOn).IsZero() || cs.ExpireOn != st.ExpireOn || cs.LanConnectionCount != st.LanConnectionCount {
		t.Errorf("DO cache record NumPeers %d ExpireOn %v LanConnectionCount %d; the download's %d %v %d",
			cs.NumPeers, cs.ExpireOn, cs.LanConnectionCount, st.NumPeers, st.ExpireOn, st.LanConnectionCount)
	}
}
