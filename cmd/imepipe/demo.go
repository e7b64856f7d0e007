package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/orchestrate"
	"github.com/imepipe/imepipe/service"
)

func init() {
	register("demo", "first run: pack an app, serve it, and let an agent install it — all on loopback", runDemo)
}

// demoAppID is the sample app's id (a GUID, as Intune's are).
const demoAppID = "0b5c7c3e-6f0d-4a8e-9d3b-1c2e3f4a5b6c"

// runDemo runs the whole pipeline on loopback in a temporary folder:
// pack → inspect → tamper check → service → agent (download, verify,
// decrypt, extract, install, detect, report). Nothing to set up.
func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo")
	keep := fs.Bool("keep", false, "keep the demo folder")
	size := fs.String("size", "64MiB", "size of the sample's installer payload")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	payload, err := humanize.ParseBytes(*size)
	if err != nil {
		return usagef("--size: %v", err)
	}
	work, err := os.MkdirTemp("", "imepipe-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if !*keep {
		defer os.RemoveAll(work)
	}
	d := &demo{e: e, work: work}
	steps := []struct {
		title string
		run   func(context.Context) error
	}{
		{"pack a sample app like IntuneWinAppUtil", func(ctx context.Context) error { return d.pack(ctx, int64(payload)) }},
		{"inspect it, and prove a tampered copy is refused", d.inspect},
		{"serve it: the emulated Intune + DO service on loopback", d.serve},
		{"agent: enroll, sync, download, verify, decrypt, extract, install, detect, report", d.agent},
	}
	defer d.close()
	for i, s := range steps {
		d.say("[%d/%d] %s", i+1, len(steps), s.title)
		if err := s.run(ctx); err != nil {
			return err
		}
	}
	if *keep {
		d.say("done; everything is in %s", work)
	} else {
		d.say("done; removed %s (keep it with --keep)", work)
	}
	return nil
}

type demo struct {
	e      *env
	work   string
	pkg    string
	apps   string
	srv    *service.Server
	http   *http.Server
	url    string
	secret string
}

func (d *demo) say(format string, a ...any) { fmt.Fprintf(d.e.stdout, "==> "+format+"\n", a...) }

func (d *demo) close() {
	if d.http != nil {
		d.http.Close()
	}
	if d.srv != nil {
		d.srv.Close()
	}
}

func (d *demo) pack(ctx context.Context, payload int64) error {
	src := filepath.Join(d.work, "Setup")
	if err := writeSample(src, payload); err != nil {
		return err
	}
	d.apps = filepath.Join(d.work, "apps")
	appDir := filepath.Join(d.apps, "contoso-demo")
	if err := runPack(ctx, d.e, []string{"-c", src, "-s", "install.sh", "-o", appDir}); err != nil {
		return err
	}
	d.pkg = filepath.Join(appDir, "install.intunewin")
	return os.WriteFile(filepath.Join(appDir, "app.json"), []byte(demoAppJSON), 0o644)
}

func (d *demo) inspect(ctx context.Context) error {
	if err := runInspect(ctx, d.e, []string{d.pkg}); err != nil {
		return err
	}
	bad := filepath.Join(d.work, "tampered.intunewin")
	if err := tamper(d.pkg, bad, 200); err != nil {
		return err
	}
	out := filepath.Join(d.work, "tampered")
	err := runUnpack(ctx, d.e, []string{"-o", out, bad})
	if err == nil {
		return fmt.Errorf("demo: a tampered package was accepted")
	}
	if _, serr := os.Stat(out); !os.IsNotExist(serr) {
		return fmt.Errorf("demo: the failed unpack left %s behind", out)
	}
	fmt.Fprintf(d.e.stdout, "tampered copy refused, nothing written: %v\n", err)
	return nil
}

func (d *demo) serve(ctx context.Context) error {
	srv, err := service.NewContext(ctx, service.Config{AppsDir: d.apps, DataDir: filepath.Join(d.work, "service")})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.srv = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.url = "http://" + ln.Addr().String()
	d.http = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go d.http.Serve(ln)
	secret, err := os.ReadFile(srv.EnrollmentSecretPath())
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.secret = strings.TrimSpace(string(secret))
	for _, a := range srv.Apps() {
		fmt.Fprintf(d.e.stdout, "serving %s at %s (enrollment secret in %s)\n", a.DisplayName, d.url, srv.EnrollmentSecretPath())
	}
	if len(srv.Apps()) == 0 {
		return fmt.Errorf("demo: the service loaded no app: %v", srv.Skipped())
	}
	return nil
}

func (d *demo) agent(ctx context.Context) error {
	root := filepath.Join(d.work, "agent")
	a, err := orchestrate.New(orchestrate.Config{
		Root: root, ServiceURL: d.url, EnrollmentSecret: d.secret, DeviceName: "DEMO-PC",
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer a.Close()
	start := time.Now()
	if err := a.Sync(ctx); err != nil {
		return fmt.Errorf("demo: sync: %w", err)
	}
	st, err := a.Status(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	ok := false
	for _, app := range st.Apps {
		var do struct {
			TotalBytesDownloaded, BytesFromHttp int64
			DownloadDuration                    string
		}
		_ = json.Unmarshal(app.DOStatus, &do)
		fmt.Fprintf(d.e.stdout, "%s (%s): EnforcementState %d, ComplianceState %d, ErrorCode %d; %s downloaded (%s from HTTP) in %s\n",
			app.DisplayName, app.IntentName, app.EnforcementState, app.ComplianceState, app.ErrorCode,
			humanize.IBytes(uint64(do.TotalBytesDownloaded)), humanize.IBytes(uint64(do.BytesFromHttp)), do.DownloadDuration)
		ok = ok || (app.AppID == demoAppID && app.EnforcementState == 1000 && app.ComplianceState == 1)
	}
	fmt.Fprintf(d.e.stdout, "sync took %.2fs; the agent's CMTrace log (%s) ends with:\n", time.Since(start).Seconds(), a.LogPath())
	if log, err := os.ReadFile(a.LogPath()); err == nil {
		lines := strings.Split(strings.TrimSpace(string(log)), "\n")
		for _, l := range lines[max(0, len(lines)-6):] {
			fmt.Fprintf(d.e.stdout, "  %s\n", l)
		}
	}
	if !ok {
		return fmt.Errorf("demo: the app was not installed and detected (see %s)", a.LogPath())
	}
	return nil
}

// demoAppJSON is the sample's Graph win32LobApp: required for all devices,
// detected by a file that only the chained part of the installer writes —
// after the first process has exited, which is when the IME's cleaner
// would already have deleted IMECache under it.
const demoAppJSON = `{
  "@odata.type": "#microsoft.graph.win32LobApp",
  "id": "` + demoAppID + `",
  "version": "1",
  "displayName": "Contoso Demo",
  "publisher": "Contoso",
  "fileName": "install.intunewin",
  "setupFilePath": "install.sh",
  "installCommandLine": "sh install.sh",
  "uninstallCommandLine": "sh uninstall.sh",
  "installExperience": {"runAsAccount": "system", "deviceRestartBehavior": "basedOnReturnCode", "maxRunTimeInMinutes": 5},
  "rules": [{
    "@odata.type": "#microsoft.graph.win32LobAppFileSystemRule",
    "ruleType": "detection",
    "path": "%ProgramFiles%\\Contoso\\Demo",
    "fileOrFolderName": "settings.ini",
    "check32BitOn64System": false,
    "operationType": "exists",
    "operator": "notConfigured"
  }],
  "applicableArchitectures": "x64,arm64",
  "minimumFreeDiskSpaceInMB": 10,
  "assignments": [{
    "@odata.type": "#microsoft.graph.mobileAppAssignment",
    "intent": "required",
    "target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}
  }]
}
`
