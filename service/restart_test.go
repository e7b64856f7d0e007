package service

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// TestRestart: enrollments, tokens, reports, secrets and the blob signing
// key survive a restart on the same data folder.
func TestRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, priv := e.enroll(t, "pc-1", "group-a")
	app := e.apps["desktopinfo.intunewin"]
	rep := imeapi.Report{AppID: app.ID, Version: app.Version, EnforcementState: imeapi.EnforcementError, ComplianceState: imeapi.ComplianceError,
		ErrorCode: -2016345060, DOStatus: json.RawMessage(`{"FileId":"x","BytesFromHttp":100,"BytesFromLanPeers":2000000,"DownloadMode":1}`)}
	if err := c.Report(ctx, rep); err != nil {
		t.Fatal(err)
	}
	ci, err := c.ContentInfo(ctx, app.ID, app.Version)
	if err != nil {
		t.Fatal(err)
	}
	secret, adminPath := e.secret, e.srv.AdminTokenPath()
	admin := e.adminClient(t).Token

	e.stop()
	e.start(t)

	if e.secret != secret || e.srv.AdminTokenPath() != adminPath || e.adminClient(t).Token != admin {
		t.Fatal("secrets changed across the restart")
	}
	c.BaseURL, c.HTTP = e.ts.URL, e.ts.Client()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatalf("token lost across the restart: %v", err)
	}
	var got *imeapi.AppStatus
	for i, a := range st.Devices[0].Apps {
		if a.AppID == app.ID {
			got = &st.Devices[0].Apps[i]
		}
	}
	if got == nil || got.Report == nil || got.Report.ErrorCode != rep.ErrorCode || got.DOBytes["BytesFromLanPeers"] != 2000000 || got.ReportedAt == nil {
		t.Fatalf("report lost across the restart: %+v", got)
	}
	if _, ok := got.DOBytes["DownloadMode"]; ok {
		t.Fatal("doBytes holds a field that is not a byte count")
	}
	// The device key still opens new content info: the device record kept its key.
	ci2, err := c.ContentInfo(ctx, app.ID, app.Version)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.OpenDecryptInfo(priv, ci2.DecryptInfo); err != nil {
		t.Fatal(err)
	}
	// A blob URL signed before the restart still works (the signing key persisted).
	old, err := url.Parse(ci.ContentInfo.UploadLocation)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := e.get(t, old.Path+"?"+old.RawQuery, ""); code != http.StatusOK {
		t.Fatalf("pre-restart blob URL: HTTP %d", code)
	}
	// A second server on the same data folder is refused, not corrupting it.
	_, err = NewContext(context.Background(), e.cfg)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second server on the same data: %v, want ErrLocked", err)
	}
	// The secret file is private (mode bits; Windows ACLs are not checked here).
	fi, err := os.Stat(filepath.Join(e.cfg.DataDir, "enrollment-secret"))
	if err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("enrollment-secret mode %v, %v", fi.Mode(), err)
	}
}

// TestEnrollmentSecretFile: a given secret file is used, and a short one refused.
func TestEnrollmentSecretFile(t *testing.T) {
	root := t.TempDir()
	apps := filepath.Join(root, "apps")
	os.MkdirAll(apps, 0o755)
	sf := filepath.Join(root, "secret")
	os.WriteFile(sf, []byte("short\n"), 0o600)
	if _, err := NewContext(context.Background(), Config{AppsDir: apps, DataDir: filepath.Join(root, "d1"), EnrollmentSecretFile: sf}); err == nil {
		t.Fatal("a 5-character secret was accepted")
	}
	os.WriteFile(sf, []byte("a-long-enough-shared-secret\n"), 0o600)
	srv, err := NewContext(context.Background(), Config{AppsDir: apps, DataDir: filepath.Join(root, "d2"), EnrollmentSecretFile: sf})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.EnrollmentSecretPath() != sf {
		t.Fatalf("secret path %s, want %s", srv.EnrollmentSecretPath(), sf)
	}
	if _, err := os.Stat(filepath.Join(root, "d2", "enrollment-secret")); !os.IsNotExist(err) {
		t.Fatal("a secret was generated although one was given")
	}
}

// TestBlobBaseURL: blob URLs can point at another origin serving DATA/blobs.
func TestBlobBaseURL(t *testing.T) {
	e := newEnv(t)
	e.stop()
	e.cfg.BlobBaseURL = "http://cdn.example/imepipe/"
	e.cfg.BaseURL = "http://service.example:8080"
	e.start(t)
	c, _ := e.enroll(t, "pc")
	app := e.apps["7zip.intunewin"]
	ci, err := c.ContentInfo(context.Background(), app.ID, app.Version)
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://cdn.example/imepipe/" + BlobName(app.ID, app.Version); ci.ContentInfo.UploadLocation != want {
		t.Fatalf("UploadLocation %s, want %s", ci.ContentInfo.UploadLocation, want)
	}
	if want := "http://service.example:8080/phf/" + imeapi.DoFileID(app.ID, app.Version); ci.ContentInfo.PieceHashesURL != want {
		t.Fatalf("PieceHashesUrl %s, want %s", ci.ContentInfo.PieceHashesURL, want)
	}
}
