package orchestrate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clocktest"
	"github.com/imepipe/imepipe/orchestrate/reap"
	"github.com/imepipe/imepipe/orchestrate/state"
	"github.com/imepipe/imepipe/service"
)

func TestMain(m *testing.M) {
	reap.Main()     // this test binary is also the installers' reaper
	testAgentMain() // … and, for crash tests, an agent process (crash_test.go)
	os.Exit(m.Run())
}

// fakeClock is the injected clock.
type fakeClock = clocktest.Clock

func newClock() *fakeClock { return clocktest.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)) }

// testClock is the harness's Config.Clock: Now is the fake clock's;
// After waits real time unless the test sets after (the agent's loops
// run as they would; tests that drive the waits give their own).
type testClock struct {
	*fakeClock
	after func(d time.Duration) <-chan time.Time
}

func (c testClock) After(d time.Duration) <-chan time.Time {
	if c.after != nil {
		return c.after(d)
	}
	return time.After(d)
}

// testApp is one app for the emulated service: files of its setup folder
// and app.json fields over the defaults.
type testApp struct {
	name   string
	files  map[string]string
	fields map[string]any
	// folder are files written beside app.json (service.ScriptsFile).
	folder map[string]string
}

var appSeq int

// fileApp is an app whose install.sh writes $ProgramFiles/<name>/app.txt,
// detected by a file rule; uninstall.sh removes it.
func fileApp(name, intent string) testApp {
	appSeq++
	return testApp{
		name: name,
		files: map[string]string{
			"install.sh":   `mkdir -p "$ProgramFiles/` + name + `" && echo installed > "$ProgramFiles/` + name + `/app.txt"`,
			"uninstall.sh": `rm -f "$ProgramFiles/` + name + `/app.txt"`,
		},
		fields: map[string]any{
			"id":                   fmt.Sprintf("0000%04d-0000-4000-8000-000000000000", appSeq),
			"displayName":          name,
			"installCommandLine":   "sh install.sh",
			"uninstallCommandLine": "sh uninstall.sh",
			"rules": []any{map[string]any{
				"@odata.type": imeapi.TypeFileSystemRule, "ruleType": "detection",
				"path": `%ProgramFiles%\` + name, "fileOrFolderName": "app.txt", "operationType": "exists", "operator": "notConfigured",
			}},
			"assignments": []any{map[string]any{"intent": intent, "target": map[string]any{"@odata.type": imeapi.TypeAllDevices}}},
		},
	}
}

func (a testApp) id() string { return a.fields["id"].(string) }

// with sets app.json fields.
func (a testApp) with(kv ...any) testApp {
	f := map[string]any{}
	for k, v := range a.fields {
		f[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		f[kv[i].(string)] = kv[i+1]
	}
	a.fields = f
	return a
}

// script replaces a setup file.
func (a testApp) script(name, body string) testApp {
	f := map[string]string{}
	for k, v := range a.files {
		f[k] = v
	}
	f[name] = body
	a.files = f
	return a
}

type harness struct {
	t      *testing.T
	dir    string
	srv    *service.Server
	http   *httptest.Server
	secret string
	clock  *fakeClock
	agent  *Agent
	cfg    Config
	logs   *strings.Builder
	logMu  *sync.Mutex
	// reports is every report the service received, in order.
	reports *[]imeapi.Report
}

// newHarness packs the apps, serves them, and opens an agent (not yet synced).
func newHarness(t *testing.T, apps []testApp, tweak func(*Config)) *harness {
	t.Helper()
	return newHarnessFilters(t, apps, "", tweak)
}

// newHarnessFilters is newHarness with filters (service.FiltersFile's
// JSON, when not empty) in the apps folder.
func newHarnessFilters(t *testing.T, apps []testApp, filters string, tweak func(*Config)) *harness {
	t.Helper()
	skipOnWindows(t, skipAgentScenarios)
	h := &harness{t: t, dir: t.TempDir(), clock: newClock(), logs: &strings.Builder{}, logMu: &sync.Mutex{}}
	appsDir := filepath.Join(h.dir, "apps")
	ctx := context.Background()
	for _, ap := range apps {
		src := filepath.Join(h.dir, "src", ap.name)
		for name, body := range ap.files {
			p := filepath.Join(src, name)
			must(t, os.MkdirAll(filepath.Dir(p), 0o755))
			must(t, os.WriteFile(p, []byte(body+"\n"), 0o755))
		}
		out := filepath.Join(appsDir, ap.name)
		must(t, os.MkdirAll(out, 0o755))
		if _, err := decrypt.Pack(ctx, src, "install.sh", filepath.Join(out, ap.name+".intunewin"), decrypt.PackOptions{}); err != nil {
			t.Fatal(err)
		}
		fields := map[string]any{"@odata.type": imeapi.TypeWin32LobApp, "version": "1"}
		for k, v := range ap.fields {
			fields[k] = v
		}
		data, err := json.Marshal(fields)
		must(t, err)
		must(t, os.WriteFile(filepath.Join(out, "app.json"), data, 0o644))
		for name, body := range ap.folder {
			must(t, os.WriteFile(filepath.Join(out, name), []byte(body), 0o644))
		}
	}
	if filters != "" {
		must(t, os.WriteFile(filepath.Join(appsDir, service.FiltersFile), []byte(filters), 0o644))
	}
	h.secret = "test-enrollment-secret-0123456789"
	secretFile := filepath.Join(h.dir, "secret")
	must(t, os.WriteFile(secretFile, []byte(h.secret), 0o600))
	srv, err := service.NewContext(context.Background(), service.Config{AppsDir: appsDir, DataDir: filepath.Join(h.dir, "data"), EnrollmentSecretFile: secretFile})
	if err != nil {
		t.Fatal(err)
	}
	if sk := srv.Skipped(); len(sk) > 0 {
		t.Fatalf("service skipped apps: %v", sk)
	}
	h.srv = srv
	h.reports = new([]imeapi.Report)
	h.http = httptest.NewServer(h.recordReports(srv))
	t.Cleanup(func() { h.http.Close(); srv.Close() })
	h.cfg = Config{
		Root:             filepath.Join(h.dir, "root"),
		ServiceURL:       h.http.URL,
		EnrollmentSecret: h.secret,
		DeviceName:       "test-pc",
		Clock:            testClock{fakeClock: h.clock},
		InstallTimeout:   30 * time.Second,
		System: func() (SystemInfo, error) {
			return SystemInfo{FreeDiskMB: 100000, MemoryMB: 8192, CPUs: 4, CPUSpeedMHz: 2400, Arch: "x64"}, nil
		},
		Logf: func(format string, args ...any) {
			h.logMu.Lock()
			fmt.Fprintf(h.logs, format+"\n", args...)
			h.logMu.Unlock()
		},
	}
	if tweak != nil {
		tweak(&h.cfg)
	}
	h.open()
	return h
}

// recordReports passes every request to next and keeps the reports
// posted to /api/v1/reports in h.reports.
func (h *harness) recordReports(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/reports" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var req imeapi.ReportRequest
			if json.Unmarshal(body, &req) == nil {
				h.logMu.Lock()
				*h.reports = append(*h.reports, req.Reports...)
				h.logMu.Unlock()
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (h *harness) open() {
	h.t.Helper()
	a, err := New(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.agent = a
	h.t.Cleanup(func() { a.Close() })
}

func (h *harness) sync() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := h.agent.Sync(ctx); err != nil {
		h.t.Fatalf("sync: %v", err)
	}
}

func (h *harness) log() string {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	return h.logs.String()
}

// app returns the stored state of an app (version 1).
func (h *harness) app(id string) state.App {
	h.t.Helper()
	ap, err := h.agent.store.App(state.DeviceUser, id+"_1")
	if err != nil {
		h.t.Fatalf("state of %s: %v", id, err)
	}
	return ap
}

// wantState checks the stored enforcement, compliance and error code.
func (h *harness) wantState(id string, enf imeapi.EnforcementState, comp imeapi.ComplianceState, code int64) {
	h.t.Helper()
	ap := h.app(id)
	if ap.Enforcement == nil || ap.Compliance == nil {
		h.t.Fatalf("%s: no state messages: %+v\nlog:\n%s", id, ap, h.log())
	}
	if ap.Enforcement.EnforcementState != enf || ap.Compliance.ComplianceState != comp || ap.Enforcement.ErrorCode != code {
		h.t.Fatalf("%s: enforcement %d compliance %d code %d, want %d %d %d (%s)\nlog:\n%s", id,
			ap.Enforcement.EnforcementState, ap.Compliance.ComplianceState, ap.Enforcement.ErrorCode, enf, comp, code, ap.Enforcement.ErrorMessage, h.log())
	}
}

// reported returns what the service holds for this device and app.
func (h *harness) reported(id string) *imeapi.Report {
	h.t.Helper()
	st, err := h.agent.client.Status(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	for _, d := range st.Devices {
		for _, a := range d.Apps {
			if a.AppID == id {
				return a.Report
			}
		}
	}
	return nil
}

// programFiles is where %ProgramFiles% maps.
func (h *harness) programFiles(parts ...string) string {
	return filepath.Join(append([]string{h.cfg.Root, "Drive", "C", "Program Files"}, parts...)...)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
