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
	"runtime"
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
	reap.Main()      // this test binary is also the installers' reaper
	testAgentMain()  // … and, for crash tests, an agent process (crash_test.go)
	chainChildMain() // … and, on Windows, a chained installer's second process
	if os.Getenv(envTestHang) != "" {
		// … and, on Windows, a process that never ends (sleep 60 there),
		// until a Job Object or the test kills it.
		time.Sleep(time.Hour)
		os.Exit(0)
	}
	// Installers find this binary through envTestExe.
	os.Setenv(envTestExe, os.Args[0])
	os.Exit(m.Run())
}

// envTestExe names this test binary for installers; envTestHang makes it
// a process that hangs (Windows installers have no sleep).
const (
	envTestExe  = "IMEPIPE_ORCHESTRATE_TEST_EXE"
	envTestHang = "IMEPIPE_ORCHESTRATE_TEST_HANG"
)

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

// fileApp is an app whose installer writes $ProgramFiles/<name>/app.txt,
// detected by a file rule; the uninstaller removes it. The installers
// are install.sh/uninstall.sh run by /bin/sh, on Windows install.cmd and
// uninstall.cmd run by cmd.exe (installerName).
func fileApp(name, intent string) testApp {
	appSeq++
	files := map[string]string{
		"install.sh":   `mkdir -p "$ProgramFiles/` + name + `" && echo installed > "$ProgramFiles/` + name + `/app.txt"`,
		"uninstall.sh": `rm -f "$ProgramFiles/` + name + `/app.txt"`,
	}
	install, uninstall := "sh install.sh", "sh uninstall.sh"
	if runtime.GOOS == "windows" {
		files = map[string]string{
			"install.cmd":   "@echo off\r\nif not exist \"%ProgramFiles%\\" + name + "\" mkdir \"%ProgramFiles%\\" + name + "\"\r\necho installed>\"%ProgramFiles%\\" + name + "\\app.txt\"",
			"uninstall.cmd": "@echo off\r\ndel \"%ProgramFiles%\\" + name + "\\app.txt\"",
		}
		install, uninstall = "install.cmd", "uninstall.cmd"
	}
	return testApp{
		name:  name,
		files: files,
		fields: map[string]any{
			"id":                   fmt.Sprintf("0000%04d-0000-4000-8000-000000000000", appSeq),
			"displayName":          name,
			"installCommandLine":   install,
			"uninstallCommandLine": uninstall,
			"rules": []any{map[string]any{
				"@odata.type": imeapi.TypeFileSystemRule, "ruleType": "detection",
				"path": `%ProgramFiles%\` + name, "fileOrFolderName": "app.txt", "operationType": "exists", "operator": "notConfigured",
			}},
			"assignments": []any{map[string]any{"intent": intent, "target": map[string]any{"@odata.type": imeapi.TypeAllDevices}}},
		},
	}
}

func (a testApp) id() string { return a.fields["id"].(string) }

// installerName is the name of the harness's install script on this
// system: install.sh, or install.cmd on Windows.
func installerName() string {
	if runtime.GOOS == "windows" {
		return "install.cmd"
	}
	return "install.sh"
}

// uninstallerName is installerName's uninstall script.
func uninstallerName() string {
	if runtime.GOOS == "windows" {
		return "uninstall.cmd"
	}
	return "uninstall.sh"
}

// setupFile is the file Pack records as the setup file: the installer
// when the app has one, else any file.
func (a testApp) setupFile() string {
	if _, ok := a.files[installerName()]; ok {
		return installerName()
	}
	for name := range a.files {
		return name
	}
	return installerName()
}

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

// installs replaces the install script: sh on Unix, cmd (a .cmd file's
// lines) on Windows.
func (a testApp) installs(sh, cmd string) testApp {
	if runtime.GOOS == "windows" {
		return a.script("install.cmd", cmd)
	}
	return a.script("install.sh", sh)
}

// uninstalls replaces the uninstall script as installs does.
func (a testApp) uninstalls(sh, cmd string) testApp {
	if runtime.GOOS == "windows" {
		return a.script("uninstall.cmd", cmd)
	}
	return a.script("uninstall.sh", sh)
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
		if _, err := decrypt.Pack(ctx, src, ap.setupFile(), filepath.Join(out, ap.name+".intunewin"), decrypt.PackOptions{}); err != nil {
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
		EmulatedRegistry: true, // the scenarios set registry values with h.agent.Reg
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
	if runtime.GOOS == "windows" && h.cfg.Folders == nil {
		h.cfg.Folders = emulatedWindowsFolders(h.cfg.Root)
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

// emulatedWindowsFolders points the data known folders under
// root\Drive\C on Windows, so scenario tests neither write to nor detect
// in the real Program Files (the system folders stay real; see
// installerFolderEnv).
func emulatedWindowsFolders(root string) map[string]string {
	c := filepath.Join(root, "Drive", "C")
	pf, pf86 := filepath.Join(c, "Program Files"), filepath.Join(c, "Program Files (x86)")
	return map[string]string{
		"C:": c, "%PROGRAMFILES%": pf, "%PROGRAMW6432%": pf, "%PROGRAMFILES(X86)%": pf86,
		"%COMMONPROGRAMFILES%": filepath.Join(pf, "Common Files"), "%COMMONPROGRAMFILES(X86)%": filepath.Join(pf86, "Common Files"),
		"%PROGRAMDATA%": filepath.Join(c, "ProgramData"), "%ALLUSERSPROFILE%": filepath.Join(c, "ProgramData"),
		"%PUBLIC%": filepath.Join(c, "Users", "Public"), "%APPDATA%": filepath.Join(c, "Users", "Default", "AppData", "Roaming"),
		"%LOCALAPPDATA%": filepath.Join(c, "Users", "Default", "AppData", "Local"),
	}
}
