package service

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// apiErr returns err as an *APIError, failing the test when it is not one.
func apiErr(t *testing.T, what string, err error) *imeapi.APIError {
	t.Helper()
	var ae *imeapi.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%s: %v, want an API error", what, err)
	}
	return ae
}

// TestAssignmentChecked: a device not assigned an app gets 403 with a JSON
// error for its piece hashes, its Array and reports about it; an
// assigned device gets them, whatever the case of the GUID it sends.
func TestAssignmentChecked(t *testing.T) {
	const group = "0b6c8f1e-58a4-4b6e-8a7e-2f1d6c9b4a33"
	e := newEnv(t, assignOnly("7zip.intunewin", group))
	ctx := context.Background()
	in, _ := e.enroll(t, "assigned", group)
	out, _ := e.enroll(t, "stranger")
	app := e.apps["7zip.intunewin"]
	doFile := imeapi.DoFileID(app.ID, app.Version)
	upper := imeapi.DoFileID(strings.ToUpper(app.ID), app.Version)
	other := e.apps["desktopinfo.intunewin"] // all devices

	for _, id := range []string{doFile, upper} {
		_, err := out.PieceHashes(ctx, "/phf/"+id)
		if ae := apiErr(t, "phf "+id, err); !errors.Is(err, imeapi.ErrForbidden) || !strings.Contains(ae.Message, "not assigned") {
			t.Errorf("stranger phf %s: %v, want 403 not assigned", id, err)
		}
		ph, err := in.PieceHashes(ctx, "/phf/"+id)
		if err != nil || ph.DoFileID != doFile || len(ph.Pieces) == 0 {
			t.Errorf("assigned phf %s: %+v %v", id, ph, err)
		}
	}
	code, body := e.get(t, "/phf/"+doFile, out.Token)
	if code != 403 || !strings.HasPrefix(string(body), `{"error":`) {
		t.Errorf("403 body %d %s, want a JSON error", code, body)
	}

	req := imeapi.ArrayRequest{DoFileID: doFile, PeerID: "p", Addr: ":7000", DownloadMode: imeapi.ModeLAN, Complete: true}
	_, err := out.Array(ctx, req)
	if ae := apiErr(t, "array", err); ae.StatusCode != 403 || ae.Field != "doFileId" {
		t.Errorf("stranger array: %v (field %q), want 403 doFileId", err, ae.Field)
	}
	req.DoFileID = upper
	if resp, err := in.Array(ctx, req); err != nil || !resp.Registered || resp.DoFileID != doFile {
		t.Errorf("assigned array: %+v %v", resp, err)
	}

	rep := imeapi.Report{AppID: app.ID, Version: app.Version, EnforcementState: imeapi.EnforcementSuccess, ComplianceState: imeapi.ComplianceInstalled}
	err = out.Report(ctx, imeapi.Report{AppID: other.ID, Version: other.Version, EnforcementState: imeapi.EnforcementSuccess, ComplianceState: imeapi.ComplianceInstalled}, rep)
	if ae := apiErr(t, "report", err); ae.StatusCode != 403 || ae.Field != "reports[1].appId" {
		t.Errorf("stranger report: %v (field %q), want 403 reports[1].appId", err, ae.Field)
	}
	if st, err := out.Status(ctx); err != nil || len(st.Devices) != 1 || reported(st.Devices[0]) != 0 {
		t.Errorf("a refused batch stored something: %+v %v", st, err)
	}
	rep.AppID = strings.ToUpper(app.ID)
	if err := in.Report(ctx, rep); err != nil {
		t.Fatalf("assigned report: %v", err)
	}
	st, err := in.Status(ctx)
	if err != nil || len(st.Devices) != 1 || reported(st.Devices[0]) != 1 {
		t.Fatalf("upper-case report not filed under the app: %+v %v", st, err)
	}
}

// reported counts the apps of a device status that carry a report.
func reported(ds imeapi.DeviceStatus) int {
	n := 0
	for _, a := range ds.Apps {
		if a.Report != nil {
			n++
		}
	}
	return n
}

// TestPeerAddrRefusedHTTP: over loopback, every address a device may not
// have is refused (403, or 400 when malformed) and never handed to
// another device; the loopback addresses the tests and demo use still work.
func TestPeerAddrRefusedHTTP(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bad, _ := e.enroll(t, "attacker")
	good, _ := e.enroll(t, "pc")
	asker, _ := e.enroll(t, "asker")
	app := e.apps["desktopinfo.intunewin"]
	id := imeapi.DoFileID(app.ID, app.Version)
	self := e.ts.Listener.Addr().String()
	for addr, code := range map[string]int{
		"169.254.169.254:80": 403,
		"[fe80::1]:80":       403,
		"224.0.0.1:80":       403,
		"255.255.255.255:80": 403,
		"0.1.2.3:80":         403,
		"10.0.0.5:7000":      403, // not loopback, from a loopback caller
		self:                 403, // the service itself
		"localhost:7000":     400,
		"127.0.0.1:0":        400,
		"127.0.0.1":          400,
	} {
		_, err := bad.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: "evil", Addr: addr, DownloadMode: imeapi.ModeLAN, Complete: true})
		if ae := apiErr(t, addr, err); ae.StatusCode != code || ae.Field != "addr" {
			t.Errorf("addr %q: %v, want %d on addr", addr, err, code)
		}
	}
	for _, addr := range []string{"127.0.0.1:7001", "[::1]:7002", "0.0.0.0:7003", ":7004"} {
		resp, err := good.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: "pc", Addr: addr, DownloadMode: imeapi.ModeLAN, Complete: true})
		if err != nil || !resp.Registered {
			t.Errorf("loopback addr %q refused: %+v %v", addr, resp, err)
		}
	}
	resp, err := asker.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: "asker", DownloadMode: imeapi.ModeLAN})
	if err != nil || len(resp.Peers) != 1 || resp.Peers[0].PeerID != "pc" || resp.Peers[0].Addr != "127.0.0.1:7004" {
		t.Fatalf("peers handed out: %+v %v, want only pc at 127.0.0.1:7004", resp, err)
	}
}

// TestCheckPeerAddr is the address rule for a caller on a LAN.
func TestCheckPeerAddr(t *testing.T) {
	self := []netip.AddrPort{netip.MustParseAddrPort("10.1.2.1:8080")}
	cases := []struct {
		addr, remote, want string // want "" for errPeerAddr, "bad" for errInvalid
	}{
		{"10.1.2.3:7680", "10.1.2.3:5555", "10.1.2.3:7680"},
		{":7680", "10.1.2.3:5555", "10.1.2.3:7680"},
		{"0.0.0.0:7680", "10.1.2.3:5555", "10.1.2.3:7680"},
		{"[::ffff:10.1.2.3]:7680", "10.1.2.3:5555", "10.1.2.3:7680"},
		{"10.1.2.77:7680", "10.1.2.3:5555", "10.1.2.77:7680"}, // same /24
		{"10.1.3.1:7680", "10.1.2.3:5555", ""},
		{"192.168.0.1:7680", "10.1.2.3:5555", ""},
		{"127.0.0.1:7680", "10.1.2.3:5555", ""}, // loopback from a remote caller
		{"[::1]:7680", "10.1.2.3:5555", ""},
		{"169.254.169.254:80", "10.1.2.3:5555", ""},
		{"169.254.169.254:80", "169.254.1.1:5555", ""}, // link-local even from link-local
		{"10.1.2.1:8080", "10.1.2.3:5555", ""},         // the service
		{"10.1.2.1:8081", "10.1.2.3:5555", "10.1.2.1:8081"},
		{"10.1.2.255:80", "10.1.2.3:5555", "10.1.2.255:80"}, // a host in a wider subnet
		{"255.255.255.255:80", "10.1.2.3:5555", ""},
		{"[ff02::1]:80", "[2001:db8:1:2::5]:1", ""},
		{"[2001:db8:1:2::9]:7680", "[2001:db8:1:2::5]:1", "[2001:db8:1:2::9]:7680"},
		{"[2001:db8:1:3::9]:7680", "[2001:db8:1:2::5]:1", ""},
		{"10.1.2.3:7680", "[2001:db8:1:2::5]:1", ""},
		{"[fe80::1%eth0]:80", "10.1.2.3:5555", "bad"},
		{"pc.example:7680", "10.1.2.3:5555", "bad"},
		{"10.1.2.3:65536", "10.1.2.3:5555", "bad"},
		{"10.1.2.3", "10.1.2.3:5555", "bad"},
		{"10.1.2.3:7680", "garbage", ""},
	}
	for _, c := range cases {
		got, err := checkPeerAddr(c.addr, c.remote, self)
		switch c.want {
		case "":
			if !errors.Is(err, errPeerAddr) {
				t.Errorf("%q from %s: %q %v, want refused", c.addr, c.remote, got, err)
			}
		case "bad":
			if !errors.Is(err, imeapi.ErrInvalid) {
				t.Errorf("%q from %s: %q %v, want malformed", c.addr, c.remote, got, err)
			}
		default:
			if err != nil || got != c.want {
				t.Errorf("%q from %s: %q %v, want %q", c.addr, c.remote, got, err, c.want)
			}
		}
	}
}
