package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// TestArrayAssignsBackToSource: the Array gives the pieces nobody holds
// to the devices that want them, a share each, and tells the others who
// fetches what; held pieces, other LANs, expired leases and reported bad
// peers are handled as the assign doc says.
func TestArrayAssignsBackToSource(t *testing.T) {
	clock := newClock()
	assignScenario(t, clock, newArray(time.Minute, clock.Now).ask)
}

// assignScenario is TestArrayAssignsBackToSource's story, told through
// query (one Array, or several sharing a database).
func assignScenario(t *testing.T, clock *fakeClock, query func(registration, bool, int) (imeapi.ArrayResponse, error)) {
	t.Helper()
	ask := func(dev, lan string, want []int, have []byte, avoid ...string) imeapi.ArrayResponse {
		t.Helper()
		r, err := query(registration{fileID: "f1", deviceID: dev, peerID: dev, addr: dev + ":1", lanID: lan, mode: imeapi.ModeLAN,
			npieces: 8, want: want, pieces: have, avoid: avoid}, anySet(have), 0)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Alone, a gets a share of 4 (its maxOrigin default) of what it wants.
	r := ask("a", "lan1", []int{0, 1, 2, 3, 4, 5}, nil)
	if !r.Coordinated || fmt.Sprint(r.Origin) != "[0 1 2 3]" || len(r.Fetching) != 0 {
		t.Fatalf("a alone: origin %v fetching %v", r.Origin, r.Fetching)
	}
	// b wants a's pieces: told a fetches them; it gets 4 and 5 (its
	// share: 6 pieces wanted over 2 members).
	r = ask("b", "lan1", []int{0, 1, 4, 5}, nil)
	if fmt.Sprint(r.Origin) != "[4 5]" || !fetches(r, 0, "a") || !fetches(r, 1, "a") {
		t.Fatalf("b: origin %v fetching %v", r.Origin, r.Fetching)
	}
	// Another LAN is another scope: c takes piece 0 itself.
	if r = ask("c", "lan2", []int{0}, nil); fmt.Sprint(r.Origin) != "[0]" {
		t.Fatalf("c on lan2: origin %v", r.Origin)
	}
	// a now holds piece 0: its lease ends, nobody is assigned it again.
	ask("a", "lan1", nil, []byte{0x80})
	if r = ask("d", "lan1", []int{0}, nil); len(r.Origin) != 0 || fetches(r, 0, "a") {
		t.Fatalf("d wants a held piece: origin %v fetching %v", r.Origin, r.Fetching)
	}
	// b reports a for bad pieces: a's leases go, and what a holds counts
	// as held by nobody, so d, wanting piece 0, is given it; b, at its
	// share with 4 and 5, is told d fetches it.
	if r = ask("b", "lan1", []int{0, 1}, nil, "a"); fmt.Sprint(r.Origin) != "[4 5]" {
		t.Fatalf("b after banning a: origin %v", r.Origin)
	}
	if r = ask("d", "lan1", []int{0}, nil); fmt.Sprint(r.Origin) != "[0]" {
		t.Fatalf("d after a was banned: origin %v", r.Origin)
	}
	if r = ask("b", "lan1", []int{0, 1}, nil, "a"); !fetches(r, 0, "d") {
		t.Fatalf("b: fetching %v, want piece 0 from d", r.Fetching)
	}
	if r = ask("a", "lan1", []int{6, 7}, []byte{0x80}); len(r.Origin) != 0 {
		t.Fatalf("a reported bad still gets pieces: %v", r.Origin)
	}
	// Leases end: after DefaultLease, d wanting 4 is given it.
	clock.Advance(DefaultLease)
	if r = ask("d", "lan1", []int{4}, nil); fmt.Sprint(r.Origin) != "[4]" {
		t.Fatalf("d after the lease: origin %v", r.Origin)
	}

}

// TestArraySpreadsOrigin: four devices all wanting the same four pieces
// nobody holds get one each (share = ceil(4 unheld / 4 members)).
func TestArraySpreadsOrigin(t *testing.T) {
	clock := newClock()
	arr := newArray(time.Minute, clock.Now)
	reg := func(dev string, want []int) imeapi.ArrayResponse {
		return arr.query(registration{fileID: "f2", deviceID: dev, peerID: dev, addr: dev + ":1", lanID: "lan", mode: imeapi.ModeLAN,
			npieces: 4, want: want}, false, 0)
	}
	for _, d := range []string{"a", "b", "c", "d"} {
		reg(d, nil) // all four are members before anyone wants
	}
	got := map[int]string{}
	for _, d := range []string{"a", "b", "c", "d"} {
		r := reg(d, []int{0, 1, 2, 3})
		if len(r.Origin) != 1 {
			t.Fatalf("%s: origin %v, want one piece", d, r.Origin)
		}
		if prev, dup := got[r.Origin[0]]; dup {
			t.Fatalf("piece %d given to %s and %s", r.Origin[0], prev, d)
		}
		got[r.Origin[0]] = d
		if len(r.Peers) != 0 {
			t.Fatalf("members holding nothing are listed as peers: %v", r.Peers)
		}
	}
}

func fetches(r imeapi.ArrayResponse, piece int, peer string) bool {
	for _, f := range r.Fetching {
		if f.Piece == piece && f.PeerID == peer && f.Addr == peer+":1" && f.Type == imeapi.PeerLAN {
			return true
		}
	}
	return false
}

func anySet(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return true
		}
	}
	return false
}

// TestArrayHTTPAssign: over HTTP a device wanting pieces is assigned
// them (the service knows the file's piece count), and a want out of
// range, an oversized maxOrigin or avoid list is one 400 naming its field.
func TestArrayHTTPAssign(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, _ := e.enroll(t, "pc-a")
	app := e.apps["desktopinfo.intunewin"]
	id := imeapi.DoFileID(app.ID, app.Version)
	r, err := a.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: "pa", Addr: ":7001", DownloadMode: imeapi.ModeLAN, Want: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Coordinated || fmt.Sprint(r.Origin) != "[0]" || r.Registered {
		t.Fatalf("a wanting piece 0: %+v", r)
	}
	for field, req := range map[string]imeapi.ArrayRequest{
		"want":      {DoFileID: id, PeerID: "pa", DownloadMode: imeapi.ModeLAN, Want: []int{1 << 20}},
		"maxOrigin": {DoFileID: id, PeerID: "pa", DownloadMode: imeapi.ModeLAN, MaxOrigin: 1000},
		"avoid":     {DoFileID: id, PeerID: "pa", DownloadMode: imeapi.ModeLAN, Avoid: make([]string, maxPeers+1)},
	} {
		_, err := a.Array(ctx, req)
		var ae *imeapi.APIError
		if !errors.As(err, &ae) || ae.Field != field || ae.StatusCode != http.StatusBadRequest {
			t.Errorf("bad %s: %v", field, err)
		}
	}
}
