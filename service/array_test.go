package service

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

func TestArrayMatching(t *testing.T) {
	type peer struct {
		name, lan, group string
		mode             imeapi.DownloadMode
	}
	// Every peer registers first (complete), then each asks; the table
	// says what each one sees.
	peers := []peer{
		{"a", "lan1", "g1", imeapi.ModeLAN},
		{"b", "lan1", "g1", imeapi.ModeGroup},
		{"c", "lan2", "g1", imeapi.ModeGroup},
		{"d", "lan3", "g2", imeapi.ModeInternet},
		{"e", "lan1", "", imeapi.ModeHTTPOnly},
		{"f", "lan2", "g1", imeapi.ModeInternet},
		{"g", "lan1", "g1", imeapi.ModeBypass},
		{"h", "lan4", "g3", imeapi.ModeSimple},
	}
	want := map[string][]string{
		"a": {"b:LAN"},
		"b": {"a:LAN", "c:Group", "f:Group"},
		"c": {"f:LAN", "b:Group"},
		"d": {"f:Internet"},
		"e": {},
		"f": {"c:LAN", "b:Group", "d:Internet"},
		"g": {},
		"h": {},
	}
	clock := newClock()
	arr := newArray(time.Minute, clock.Now)
	for _, p := range peers {
		arr.query(registration{fileID: "f1", deviceID: p.name, peerID: p.name, addr: p.name + ":1", lanID: p.lan, groupID: p.group, mode: p.mode, complete: true}, true, 0)
	}
	for _, p := range peers {
		resp := arr.query(registration{fileID: "f1", deviceID: p.name, peerID: p.name, addr: p.name + ":1", lanID: p.lan, groupID: p.group, mode: p.mode, complete: true}, true, 0)
		var got []string
		for _, x := range resp.Peers {
			got = append(got, x.PeerID+":"+x.Type)
		}
		if !equalOrdered(got, want[p.name]) {
			t.Errorf("%s (mode %d) sees %v, want %v", p.name, p.mode, got, want[p.name])
		}
		if resp.Registered != sharing(p.mode) {
			t.Errorf("%s: registered %v", p.name, resp.Registered)
		}
	}
	// Registrations expire: after the TTL, b asking alone sees nobody.
	clock.Advance(time.Minute)
	if resp := arr.query(registration{fileID: "f1", deviceID: "b", peerID: "b", lanID: "lan1", groupID: "g1", mode: imeapi.ModeGroup}, false, 0); len(resp.Peers) != 0 || resp.Registered {
		t.Fatalf("after expiry: %+v", resp)
	}
	if len(arr.files) != 0 {
		t.Fatalf("expired registrations kept: %v", arr.files)
	}
}

// equalOrdered compares peer lists where order matters only between types.
func equalOrdered(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	g, w := append([]string(nil), got...), append([]string(nil), want...)
	sort.Strings(g)
	sort.Strings(w)
	for i := range g {
		if g[i] != w[i] {
			return false
		}
	}
	rank := map[string]int{imeapi.PeerLAN: 0, imeapi.PeerGroup: 1, imeapi.PeerInternet: 2}
	last := 0
	for _, s := range got {
		r := rank[s[len(s)-len(typeOf(s)):]]
		if r < last {
			return false
		}
		last = r
	}
	return true
}

func typeOf(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return s[i+1:]
		}
	}
	return s
}

// TestArrayHTTP drives the Array over HTTP: LAN id from the source
// address, peers of other devices only, partial holders, and errors.
func TestArrayHTTP(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, _ := e.enroll(t, "pc-a")
	b, _ := e.enroll(t, "pc-b")
	app := e.apps["desktopinfo.intunewin"]
	id := imeapi.DoFileID(app.ID, app.Version)
	ra, err := a.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: "pa", Addr: ":7001", DownloadMode: imeapi.ModeLAN, Pieces: []byte{0x80}})
	if err != nil {
		t.Fatal(err)
	}
	if ra.LanID != "127.0.0.0/24" || !ra.Registered || len(ra.Peers) != 0 {
		t.Fatalf("a: %+v", ra)
	}
	rb, err := b.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: "pb", DownloadMode: imeapi.ModeLAN})
	if err != nil {
		t.Fatal(err)
	}
	if rb.Registered || len(rb.Peers) != 1 || rb.Peers[0].Addr != "127.0.0.1:7001" || rb.Peers[0].Type != imeapi.PeerLAN || rb.Peers[0].Pieces[0] != 0x80 {
		t.Fatalf("b: %+v", rb)
	}
	// With another LAN id (tests on one host) and mode 1, b sees nobody.
	rb, err = b.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: "pb", DownloadMode: imeapi.ModeLAN, LanID: "elsewhere"})
	if err != nil || len(rb.Peers) != 0 {
		t.Fatalf("b elsewhere: %+v %v", rb, err)
	}
	// a now holds nothing: it is removed.
	if _, err := a.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: "pa", Addr: ":7001", DownloadMode: imeapi.ModeLAN}); err != nil {
		t.Fatal(err)
	}
	if rb, _ = b.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: "pb", DownloadMode: imeapi.ModeLAN}); len(rb.Peers) != 0 {
		t.Fatalf("peer holding nothing still listed: %+v", rb)
	}
	_, err = a.Array(ctx, imeapi.ArrayRequest{DoFileID: "intunewin-bin_nope_1", PeerID: "pa", DownloadMode: imeapi.ModeLAN})
	if !errors.Is(err, imeapi.ErrNotFound) {
		t.Fatalf("unknown file: %v", err)
	}
	_, err = a.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: "pa", DownloadMode: imeapi.ModeLAN, Pieces: make([]byte, 10)})
	var ae *imeapi.APIError
	if !errors.As(err, &ae) || ae.Field != "pieces" || ae.StatusCode != http.StatusBadRequest {
		t.Fatalf("oversized bitmap: %v", err)
	}
}

func TestLanOf(t *testing.T) {
	cases := map[string]string{
		"10.1.2.3:5000":        "10.1.2.0/24",
		"[::ffff:10.1.2.3]:1":  "10.1.2.0/24",
		"[2001:db8:1:2::5]:80": "2001:db8:1:2::/64",
		"garbage":              "unknown",
	}
	for in, want := range cases {
		if got := lanOf(in); got != want {
			t.Errorf("lanOf(%q) = %q, want %q", in, got, want)
		}
	}
}
