package service

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// TestTwoServersOnePostgres: two Servers (two serve processes: their own
// data folders, the same apps) on one PostgreSQL serve one fleet. Both
// write the database's enrollment secret and admin token into their data
// folders. An agent enrolled through A syncs,
// gets content info and reports through B; a blob URL B signs is
// accepted by A (the signing key is the database's); a peer registered
// through A is returned by B; the admin status on A shows the report
// made through B.
func TestTwoServersOnePostgres(t *testing.T) {
	a := newEnv(t, onStore(newPGDatabase(t)))
	cfg := a.cfg
	cfg.DataDir = filepath.Join(t.TempDir(), "data-b")
	// No secret files given: both take the enrollment secret and the
	// admin token from the database, copied into their own data folders.
	srvB, err := NewContext(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tsB := httptest.NewServer(srvB)
	t.Cleanup(func() { tsB.Close(); srvB.Close() })
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "service.db")); !os.IsNotExist(err) {
		t.Fatalf("B on PostgreSQL made a bbolt file (%v)", err)
	}
	for _, name := range []string{"enrollment-secret", "admin-token"} {
		ga, errA := os.ReadFile(filepath.Join(a.cfg.DataDir, name))
		gb, errB := os.ReadFile(filepath.Join(cfg.DataDir, name))
		fi, errM := os.Stat(filepath.Join(cfg.DataDir, name))
		if errA != nil || errB != nil || errM != nil || string(ga) != string(gb) || len(strings.TrimSpace(string(ga))) < 40 || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
			t.Fatalf("%s: A's %q, B's %q (%v %v %v); want one secret, mode 0600 (no mode bits on Windows)", name, ga, gb, errA, errB, errM)
		}
	}
	ctx := context.Background()

	viaA, priv := a.enroll(t, "pc-1")
	viaB := imeapi.NewClient(tsB.URL, tsB.Client())
	viaB.Token, viaB.DeviceID = viaA.Token, viaA.DeviceID
	pol, err := viaB.Policies(ctx)
	if err != nil || len(pol.Policies) == 0 || pol.DeviceID == "" {
		t.Fatalf("sync through B with A's token: %d policies, %v", len(pol.Policies), err)
	}
	app := a.apps["desktopinfo.intunewin"]
	ci, err := viaB.ContentInfo(ctx, app.ID, app.Version)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := viaB.OpenDecryptInfo(priv, ci.DecryptInfo); err != nil {
		t.Fatalf("B sealed the keys to another key than the one enrolled through A: %v", err)
	}
	u, err := url.Parse(ci.ContentInfo.UploadLocation)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := a.get(t, u.Path+"?"+u.RawQuery, ""); code != http.StatusOK {
		t.Fatalf("blob URL signed by B, fetched from A: HTTP %d", code)
	}
	rep := imeapi.Report{AppID: app.ID, Version: app.Version, EnforcementState: imeapi.EnforcementError, ComplianceState: imeapi.ComplianceError,
		ErrorCode: -2016345060, DOStatus: json.RawMessage(`{"BytesFromLanPeers":5000}`)}
	if err := viaB.Report(ctx, rep); err != nil {
		t.Fatal(err)
	}
	st, err := a.adminClient(t).Status(ctx)
	if err != nil || len(st.Devices) != 1 {
		t.Fatalf("A's status: %+v, %v", st, err)
	}
	found := false
	for _, x := range st.Devices[0].Apps {
		found = found || x.AppID == app.ID && x.Report != nil && x.Report.ErrorCode == rep.ErrorCode
	}
	if !found {
		t.Fatalf("A's status lacks the report made through B: %+v", st.Devices[0].Apps)
	}

	id := imeapi.DoFileID(app.ID, app.Version)
	if _, err := viaA.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: "peer-1", Addr: ":7001", DownloadMode: imeapi.ModeLAN, Complete: true}); err != nil {
		t.Fatal(err)
	}
	other := a.client()
	if _, err := other.Enroll(ctx, "pc-2", a.secret, mustKey(t).PublicKey()); err != nil {
		t.Fatal(err)
	}
	viaB2 := imeapi.NewClient(tsB.URL, tsB.Client())
	viaB2.Token = other.Token
	r, err := viaB2.Array(ctx, imeapi.ArrayRequest{DoFileID: id, PeerID: "peer-2", DownloadMode: imeapi.ModeLAN})
	if err != nil || len(r.Peers) != 1 || r.Peers[0].PeerID != "peer-1" || !strings.HasSuffix(r.Peers[0].Addr, ":7001") {
		t.Fatalf("B returns %+v, %v; want peer-1 registered through A", r.Peers, err)
	}
}

func mustKey(t *testing.T) *ecdh.PrivateKey {
	t.Helper()
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
