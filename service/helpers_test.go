package service

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clocktest"
	"github.com/imepipe/imepipe/internal/fixtures"
	"github.com/imepipe/imepipe/internal/linkfile"
)

// fixtureFiles are the real .intunewin fixtures, sorted.
func fixtureFiles(t testing.TB) []string {
	t.Helper()
	return fixtures.Packages(t, 1)
}

// fakeClock is the injected clock.
type fakeClock = clocktest.Clock

func newClock() *fakeClock { return clocktest.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)) }

// logSink collects everything the server logs.
type logSink struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logSink) Logf(format string, a ...any) {
	l.mu.Lock()
	fmt.Fprintf(&l.buf, format+"\n", a...)
	l.mu.Unlock()
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testApp is a minimal valid app for a package with setup file setup.
func testApp(i int, name, setup string) imeapi.Win32LobApp {
	return imeapi.Win32LobApp{
		ODataType:            imeapi.TypeWin32LobApp,
		ID:                   fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		Version:              "1",
		DisplayName:          name,
		SetupFilePath:        setup,
		InstallCommandLine:   "install.cmd",
		UninstallCommandLine: "uninstall.cmd",
		Rules: []imeapi.Rule{{ODataType: imeapi.TypeFileSystemRule, RuleType: "detection", Path: `C:\Program Files\X`,
			FileOrFolderName: "x.exe", OperationType: "exists"}},
		Assignments: []imeapi.Assignment{{Intent: "required", Target: imeapi.AssignmentTarget{ODataType: imeapi.TypeAllDevices}}},
	}
}

// writeAppDir writes app.json (g, or raw when not nil) and links pkg into appsDir/name.
func writeAppDir(t testing.TB, appsDir, name string, g imeapi.Win32LobApp, raw []byte, pkg string) string {
	t.Helper()
	dir := filepath.Join(appsDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if raw == nil {
		var err error
		if raw, err = g.MarshalJSON(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, AppFile), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if pkg != "" {
		abs, err := filepath.Abs(pkg)
		if err != nil {
			t.Fatal(err)
		}
		if err := linkfile.Make(abs, filepath.Join(dir, filepath.Base(pkg))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fixtureSetup returns each fixture's SetupFile, as MANIFEST.json records it.
var fixtureSetup = map[string]string{
	"7zip.intunewin":                "install.ps1",
	"aesetup-msi.intunewin":         "AESetup.msi",
	"chocolatey-tool1.4.intunewin":  "install.ps1",
	"desktopinfo.intunewin":         "install.ps1",
	"irfanview-backslash.intunewin": "install.ps1",
}

// env is a running server over every fixture, on 127.0.0.1.
type env struct {
	srv    *Server
	ts     *httptest.Server
	clock  *fakeClock
	logs   *logSink
	cfg    Config
	apps   map[string]imeapi.Win32LobApp // fixture file name → app
	mu     sync.Mutex
	bodies bytes.Buffer // every response body, when recording
	record bool
	secret string
	// assign, when set for a fixture file name, replaces that app's assignments.
	assign map[string][]imeapi.Assignment
	// storeURL, when set, is Config.Store (a PostgreSQL URL).
	storeURL string
}

type envOption func(*env)

func recordBodies(e *env) { e.record = true }

// onStore runs the server on a PostgreSQL store.
func onStore(url string) envOption { return func(e *env) { e.storeURL = url } }

// assignOnly targets the fixture's app at one group only (required).
func assignOnly(fixture, group string) envOption {
	return func(e *env) {
		if e.assign == nil {
			e.assign = map[string][]imeapi.Assignment{}
		}
		e.assign[fixture] = []imeapi.Assignment{{Intent: "required", Target: imeapi.AssignmentTarget{ODataType: imeapi.TypeGroup, GroupID: group}}}
	}
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	root := t.TempDir()
	e := &env{clock: newClock(), logs: &logSink{}, apps: map[string]imeapi.Win32LobApp{}}
	for _, o := range opts {
		o(e)
	}
	appsDir := filepath.Join(root, "apps")
	for i, f := range fixtureFiles(t) {
		base := filepath.Base(f)
		g := testApp(i+1, strings.TrimSuffix(base, ".intunewin"), fixtureSetup[base])
		if as, ok := e.assign[base]; ok {
			g.Assignments = as
		}
		writeAppDir(t, appsDir, strings.TrimSuffix(base, ".intunewin"), g, nil, f)
		e.apps[base] = g
	}
	e.cfg = Config{AppsDir: appsDir, DataDir: filepath.Join(root, "data"), Now: e.clock.Now, Logf: e.logs.Logf, BlobTTL: time.Hour, Store: e.storeURL}
	e.start(t)
	return e
}

// start (re)starts the server on e.cfg.
func (e *env) start(t testing.TB) {
	t.Helper()
	srv, err := NewContext(context.Background(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	var h http.Handler = srv
	if e.record {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			e.mu.Lock()
			e.bodies.Write(rec.Body.Bytes())
			for _, v := range rec.Header() {
				e.bodies.WriteString(strings.Join(v, " "))
			}
			e.mu.Unlock()
			w.Write(rec.Body.Bytes())
		})
	}
	e.ts = httptest.NewServer(h)
	data, err := os.ReadFile(srv.EnrollmentSecretPath())
	if err != nil {
		t.Fatal(err)
	}
	e.secret = strings.TrimSpace(string(data))
	t.Cleanup(e.stop)
}

func (e *env) stop() {
	if e.ts != nil {
		e.ts.Close()
		e.ts = nil
	}
	if e.srv != nil {
		e.srv.Close()
		e.srv = nil
	}
}

func (e *env) client() *imeapi.Client { return imeapi.NewClient(e.ts.URL, e.ts.Client()) }

// enroll enrolls a new device and returns its client and key.
func (e *env) enroll(t testing.TB, name string, groups ...string) (*imeapi.Client, *ecdh.PrivateKey) {
	t.Helper()
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	if _, err := c.Enroll(context.Background(), name, e.secret, priv.PublicKey(), groups...); err != nil {
		t.Fatal(err)
	}
	return c, priv
}

// adminClient is a client holding the admin token.
func (e *env) adminClient(t testing.TB) *imeapi.Client {
	t.Helper()
	data, err := os.ReadFile(e.srv.AdminTokenPath())
	if err != nil {
		t.Fatal(err)
	}
	c := e.client()
	c.Token = strings.TrimSpace(string(data))
	return c
}

// get does a GET with an optional bearer token and returns status and body.
func (e *env) get(t testing.TB, path, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(t, req)
}

func (e *env) do(t testing.TB, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}
