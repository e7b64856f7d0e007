package service

import (
	"context"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// TestArrayLeave: DELETE /do/v1/array removes the calling device's
// registrations and no other device's; a second call removes nothing.
func TestArrayLeave(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, _ := e.enroll(t, "pc-a")
	b, _ := e.enroll(t, "pc-b")
	c, _ := e.enroll(t, "pc-c")
	app := e.apps["desktopinfo.intunewin"]
	id := imeapi.DoFileID(app.ID, app.Version)
	for i, cl := range []*imeapi.Client{a, b} {
		addr := []string{":7001", ":7002"}[i]
		if _, err := cl.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: addr, Addr: addr, DownloadMode: imeapi.ModeLAN, Complete: true}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := a.LeaveArray(ctx)
	if err != nil || n != 1 {
		t.Fatalf("leave: %d %v, want 1 removed", n, err)
	}
	if n, err := a.LeaveArray(ctx); err != nil || n != 0 {
		t.Fatalf("second leave: %d %v, want 0", n, err)
	}
	rc, err := c.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: "pc", DownloadMode: imeapi.ModeLAN})
	if err != nil || len(rc.Peers) != 1 || rc.Peers[0].Addr != "127.0.0.1:7002" {
		t.Fatalf("after a left, c sees %+v %v; want b alone", rc.Peers, err)
	}
}
