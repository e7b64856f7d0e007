package consoletest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate"
	"github.com/imepipe/imepipe/orchestrate/reap"
	"github.com/imepipe/imepipe/service"
)

func TestMain(m *testing.M) {
	reap.Main() // this test binary is also the installers' reaper
	os.Exit(m.Run())
}

// fleetApp is one app of the test fleet: the files of its setup folder
// and its app.json.
type fleetApp struct {
	id, name string
	install  string // install.sh
	payload  int    // bytes of random payload beside it (so peers have pieces to share)
}

func (a fleetApp) appJSON() map[string]any {
	return map[string]any{
		"@odata.type": imeapi.TypeWin32LobApp, "id": a.id, "version": "1", "displayName": a.name,
		"installCommandLine": "sh install.sh", "uninstallCommandLine": "sh uninstall.sh",
		"rules": []any{map[string]any{
			"@odata.type": imeapi.TypeFileSystemRule, "ruleType": "detection",
			"path": `%ProgramFiles%\` + a.id, "fileOrFolderName": "app.txt", "operationType": "exists", "operator": "notConfigured",
		}},
		"assignments": []any{map[string]any{"intent": "required", "target": map[string]any{"@odata.type": imeapi.TypeAllDevices}}},
	}
}

// installsTo is an install.sh line that marks the app detected.
func installsTo(id string) string {
	return `mkdir -p "$ProgramFiles/` + id + `" && echo installed > "$ProgramFiles/` + id + `/app.txt"`
}

// fleet is a service on loopback and the agents reporting to it.
type fleet struct {
	t       *testing.T
	dir     string
	srv     *service.Server
	url     string
	secret  string
	agents  []*orchestrate.Agent
	logs    *logBuf
	timeout time.Duration
}

// newFleet packs and serves apps (the console refreshing every refresh).
func newFleet(t *testing.T, apps []fleetApp, refresh time.Duration) *fleet {
	t.Helper()
	f := &fleet{t: t, dir: t.TempDir(), secret: "console-test-enrollment-secret-0123", logs: &logBuf{}, timeout: 2 * time.Minute}
	appsDir := filepath.Join(f.dir, "apps")
	rng := rand.NewChaCha8([32]byte{14})
	for _, a := range apps {
		src := filepath.Join(f.dir, "src", a.id)
		payload := make([]byte, a.payload)
		_, _ = rng.Read(payload)
		for name, body := range map[string]string{"install.sh": a.install + "\n", "uninstall.sh": `rm -rf "$ProgramFiles/` + a.id + `"` + "\n", "payload.bin": string(payload)} {
			must(t, os.MkdirAll(src, 0o755))
			must(t, os.WriteFile(filepath.Join(src, name), []byte(body), 0o755))
		}
		out := filepath.Join(appsDir, a.id)
		must(t, os.MkdirAll(out, 0o755))
		if _, err := decrypt.Pack(context.Background(), src, "install.sh", filepath.Join(out, a.id+".intunewin"), decrypt.PackOptions{}); err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(a.appJSON())
		must(t, err)
		must(t, os.WriteFile(filepath.Join(out, service.AppFile), data, 0o644))
	}
	secretFile := filepath.Join(f.dir, "secret")
	must(t, os.WriteFile(secretFile, []byte(f.secret), 0o600))
	srv, err := service.NewContext(context.Background(), service.Config{AppsDir: appsDir, DataDir: filepath.Join(f.dir, "data"),
		EnrollmentSecretFile: secretFile, ConsoleRefresh: refresh, Logf: f.logs.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if sk := srv.Skipped(); len(sk) > 0 {
		t.Fatalf("service skipped apps: %v", sk)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	f.srv, f.url = srv, ts.URL
	return f
}

// run enrolls one agent per name (root i of the fleet) and syncs each in
// turn, so that later ones find earlier ones' pieces on the LAN. The
// agents keep serving their pieces until the test ends.
func (f *fleet) run(names ...string) {
	f.t.Helper()
	for _, name := range names {
		i := len(f.agents) + 1
		mode := imeapi.ModeLAN
		a, err := orchestrate.New(orchestrate.Config{
			Root:             filepath.Join(f.dir, fmt.Sprintf("pc%d", i)),
			ServiceURL:       f.url,
			EnrollmentSecret: f.secret,
			DeviceName:       name,
			DownloadMode:     &mode,
			PeerAddr:         "127.0.0.1:0",
			InstallTimeout:   30 * time.Second,
			System: func() (orchestrate.SystemInfo, error) {
				return orchestrate.SystemInfo{FreeDiskMB: 100000, MemoryMB: 8192, CPUs: 4, CPUSpeedMHz: 2400, Arch: "x64"}, nil
			},
			Logf: f.logs.Logf,
		})
		if err != nil {
			f.t.Fatal(err)
		}
		f.t.Cleanup(func() { a.Close() })
		f.agents = append(f.agents, a)
		ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
		err = a.Sync(ctx)
		cancel()
		if err != nil {
			f.t.Fatalf("%s: sync: %v\n%s", name, err, f.logs)
		}
	}
}

// lanBytes sums BytesFromLanPeers of every agent's own DO record of app id.
func (f *fleet) lanBytes(id string) int64 {
	f.t.Helper()
	var n int64
	for _, a := range f.agents {
		st, err := a.Status(context.Background())
		must(f.t, err)
		for _, ap := range st.Apps {
			if ap.AppID != id || len(ap.DOStatus) == 0 {
				continue
			}
			var do fetch.Status
			must(f.t, json.Unmarshal(ap.DOStatus, &do))
			n += do.BytesFromLanPeers
		}
	}
	return n
}

func (f *fleet) adminToken() string {
	f.t.Helper()
	data, err := os.ReadFile(f.srv.AdminTokenPath())
	must(f.t, err)
	return strings.TrimSpace(string(data))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
