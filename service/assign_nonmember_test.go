package service

import (
	"fmt"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// TestArrayNonServingDeviceTakesUnheld: a device without a piece server
// (no Addr: its peer port was taken) is no member, so nobody is ever
// assigned what it alone wants; the Array gives it those pieces (nobody
// holds them, nobody is assigned them) for the origin at once, without a
// lease, and still tells it who fetches the others. Before, it got no
// Origin and waited out its DO delay for every piece.
func TestArrayNonServingDeviceTakesUnheld(t *testing.T) {
	clock := newClock()
	arr := newArray(time.Minute, clock.Now)
	ask := func(dev, addr string, want []int, have []byte) imeapi.ArrayResponse {
		return arr.query(registration{fileID: "f3", deviceID: dev, peerID: dev, addr: addr, lanID: "lan", mode: imeapi.ModeLAN,
			npieces: 8, want: want, pieces: have}, anySet(have), 0)
	}
	// a serves: it holds piece 7 and is given 0–3 (its share).
	if r := ask("a", "a:1", []int{0, 1, 2, 3}, []byte{0x01}); fmt.Sprint(r.Origin) != "[0 1 2 3]" {
		t.Fatalf("a: origin %v", r.Origin)
	}
	// x does not serve: 4, 5 and 6 are nobody's, 0–3 a's, 7 a holds.
	r := ask("x", "", []int{6, 0, 1, 2, 3, 4, 5, 7, 5}, nil)
	if !r.Coordinated || fmt.Sprint(r.Origin) != "[4 5 6]" {
		t.Fatalf("x without a piece server: origin %v, want [4 5 6]", r.Origin)
	}
	for i := range 4 {
		if !fetches(r, i, "a") {
			t.Errorf("x is not told a fetches piece %d: %v", i, r.Fetching)
		}
	}
	// x took no lease: a member wanting 4 is still given it.
	if r := ask("b", "b:1", []int{4}, nil); fmt.Sprint(r.Origin) != "[4]" {
		t.Fatalf("b after x: origin %v, want [4] (x holds no lease)", r.Origin)
	}
}
