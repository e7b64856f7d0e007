package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"golang.org/x/sync/errgroup"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate"
	"github.com/imepipe/imepipe/orchestrate/cmtrace"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/peer"
	"github.com/imepipe/imepipe/service"
)

func init() {
	register("demo", "first run: pack an app, serve it, and let five agents install it, sharing it as LAN, Group and Internet peers — all on loopback", runDemo)
}

// demoAppID is the sample app's id (a GUID, as Intune's are).
const demoAppID = "0b5c7c3e-6f0d-4a8e-9d3b-1c2e3f4a5b6c"

// runDemo runs the whole pipeline on loopback in a temporary folder:
// pack → inspect → tamper check → service → five agents (download from
// the origin or LAN, Group and Internet peers, verify, decrypt, extract, install, detect,
// report) → a DO summary. Nothing to set up.
func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo")
	keep := fs.Bool("keep", false, "keep the demo folder")
	size := fs.String("size", "64MiB", "size of the sample's installer payload")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q (see imepipe demo --help)", rest[0])
	}
	payload, err := sizeFlag("size", *size, 1)
	if err != nil {
		return err
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
		{"serve it: the emulated Intune + DO service over HTTPS on loopback", d.serve},
		{"agents: enroll, sync, download (origin, then LAN, Group and Internet peers), verify, decrypt, extract, install, detect, report", d.agents},
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
	client *http.Client // trusts the service's CA
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
	// -q: the sample is all payload beside a small script, which the
	// setup-folder warning would call a Downloads folder at large --size.
	if err := runPack(ctx, d.e, []string{"-q", "-c", src, "-s", "install.sh", "-o", appDir}); err != nil {
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
	sayf(d.e.stdout, "tampered copy refused, nothing written to %s/: %v", filepath.Base(out), err)
	return nil
}

// serve starts the service as serve --tls does: HTTPS with a CA and a
// certificate generated into its data folder; the agents trust that CA
// as agent --ca-file does.
func (d *demo) serve(ctx context.Context) error {
	data := filepath.Join(d.work, "service")
	srv, err := service.NewContext(ctx, service.Config{AppsDir: d.apps, DataDir: data})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.srv = srv
	addr := "127.0.0.1:0"
	conf, files, err := service.ServerTLS(data, addr, time.Now())
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if d.client, err = trustingClient(files.CA); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.url = "https://" + ln.Addr().String()
	d.http = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second,
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}}
	go d.http.Serve(tls.NewListener(ln, conf))
	fmt.Fprintf(d.e.stdout, "TLS: certificate for 127.0.0.1 signed by a CA generated into %s; the agents trust it (agent --ca-file); LAN peers speak plain HTTP, every piece checked against the service's piece hashes\n", files.CA)
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

// demoAgent is one of the demo's devices: its name, DO LAN id and group
// (--lan-id, --group-id) and download mode.
type demoAgent struct {
	name, lan, group string
	mode             imeapi.DownloadMode
}

// demoAgents are the demo's devices, in the rounds they sync in: the
// first downloads from the origin; then, together, two take it from it as
// LAN peers; then, together, one in another LAN of the same group takes
// it from a Group peer and one in another LAN and group from an Internet
// peer (the mode 3 agent of the second round: both sides must allow the
// kind).
var demoAgents = []demoAgent{
	{"DEMO-PC-1", "lan-hq", "group-contoso", imeapi.ModeLAN},
	{"DEMO-PC-2", "lan-hq", "group-contoso", imeapi.ModeInternet},
	{"DEMO-PC-3", "lan-hq", "group-contoso", imeapi.ModeLAN},
	{"DEMO-PC-4", "lan-branch", "group-contoso", imeapi.ModeGroup},
	{"DEMO-PC-5", "lan-home", "group-remote", imeapi.ModeInternet},
}

// demoRounds are demoAgents' indexes by round: [0, 1), [1, 3), [3, 5).
var demoRounds = []int{1, 3, 5}

// agents runs agent 1 alone, then the others round by round, each with its own
// root and piece server on loopback, and prints each one's result and a
// DO summary of where the bytes came from and went.
func (d *demo) agents(ctx context.Context) error {
	var open []*orchestrate.Agent
	defer func() {
		for _, a := range open {
			a.Close()
		}
	}()
	start := func(da demoAgent) (*orchestrate.Agent, error) {
		a, err := orchestrate.New(orchestrate.Config{
			Root: filepath.Join(d.work, da.name), ServiceURL: d.url, EnrollmentSecret: d.secret, DeviceName: da.name,
			DownloadMode: &da.mode, PeerAddr: "127.0.0.1:0", LanID: da.lan, Groups: []string{da.group}, HTTP: d.client,
			DOCache: peer.CacheOptions{Clock: demoDOClock},
		})
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		open = append(open, a)
		return a, nil
	}
	first, err := start(demoAgents[0])
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := first.Sync(ctx); err != nil {
		return fmt.Errorf("demo: sync: %w", err)
	}
	if err := d.result(ctx, first, demoAgents[0].name); err != nil {
		return err
	}
	fmt.Fprintf(d.e.stdout, "sync took %.2fs; %s shares its DO cache on %s; its CMTrace log (%s) ends with:\n",
		time.Since(t0).Seconds(), demoAgents[0].name, first.PeerAddr(), first.LogPath())
	if log, err := os.ReadFile(first.LogPath()); err == nil {
		lines := strings.Split(strings.TrimSpace(string(log)), "\n")
		for _, l := range lines[max(0, len(lines)-6):] {
			fmt.Fprintf(d.e.stdout, "  %s\n", l)
		}
	}
	if line := treeDone(first.LogPath()); line != "" {
		fmt.Fprintf(d.e.stdout, "the installer's chained step outlived install.sh and copied settings.ini out of IMECache; the IME's\n"+
			"cleaner would have deleted IMECache under it. The agent cleaned up only after it:\n  %s\n", line)
	}

	for r := 1; r < len(demoRounds); r++ {
		round := demoAgents[demoRounds[r-1]:demoRounds[r]]
		agents := make([]*orchestrate.Agent, 0, len(round))
		for _, da := range round {
			a, err := start(da)
			if err != nil {
				return err
			}
			agents = append(agents, a)
		}
		t0 = time.Now()
		var g errgroup.Group
		for _, a := range agents {
			g.Go(func() error { return a.Sync(ctx) })
		}
		if err := g.Wait(); err != nil {
			return fmt.Errorf("demo: sync: %w", err)
		}
		for i, a := range agents {
			if err := d.result(ctx, a, round[i].name); err != nil {
				return err
			}
		}
		fmt.Fprintf(d.e.stdout, "%d agents synced from their peers in %.2fs\n", len(agents), time.Since(t0).Seconds())
		if r == 1 {
			if err := d.seederStatus(first); err != nil {
				return err
			}
		}
	}

	// Closing saves each DO cache's records, with the bytes sent to peers.
	for _, a := range open {
		if err := a.Close(); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return d.doSummary()
}

// demoDOClock, when set (tests), is the agents' DO cache clock.
var demoDOClock peer.Clock

// seederStatus prints `imepipe do status` of the first agent while it
// still runs and has just served the LAN round: its records as another
// process reads them, once the agent saved them (it does every second by
// itself; the demo does not wait for that).
func (d *demo) seederStatus(a *orchestrate.Agent) error {
	if err := a.SaveDORecords(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	root := filepath.Join(d.work, demoAgents[0].name)
	fmt.Fprintf(d.e.stdout, "%s serves its DO cache; imepipe do status --root %s (Get-DeliveryOptimizationStatus | Format-List) while it runs:\n", demoAgents[0].name, root)
	return runDOStatus(d.e, []string{"--root", root})
}

// result prints one agent's line for the demo app; an app not installed
// and detected is an error.
func (d *demo) result(ctx context.Context, a *orchestrate.Agent, name string) error {
	st, err := a.Status(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for _, app := range st.Apps {
		if app.AppID != demoAppID {
			continue
		}
		var do fetch.Status
		_ = json.Unmarshal(app.DOStatus, &do)
		fmt.Fprintf(d.e.stdout, "%s %s: EnforcementState %d, ComplianceState %d; %s: %s HTTP, %s LAN peers, %s Group peers, %s Internet peers in %s\n",
			name, app.DisplayName, app.EnforcementState, app.ComplianceState, humanize.IBytes(uint64(do.TotalBytesDownloaded)),
			humanize.IBytes(uint64(do.BytesFromHttp)), humanize.IBytes(uint64(do.BytesFromLanPeers)),
			humanize.IBytes(uint64(do.BytesFromGroupPeers)), humanize.IBytes(uint64(do.BytesFromInternetPeers)), do.DownloadDuration)
		if app.EnforcementState == imeapi.EnforcementSuccess && app.ComplianceState == imeapi.ComplianceInstalled {
			return nil
		}
	}
	return fmt.Errorf("demo: the app was not installed and detected on %s (see %s)", name, a.LogPath())
}

// doSummary prints, per agent, what Get-DeliveryOptimizationStatus
// would: bytes from HTTP and from LAN, Group and Internet peers, and
// bytes sent to peers of each kind.
func (d *demo) doSummary() error {
	fmt.Fprintln(d.e.stdout, "Delivery Optimization, per agent (Get-DeliveryOptimizationStatus fields; To: sent to LAN/Group/Internet peers):")
	tw := tabwriter.NewWriter(d.e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  Agent\tMode\tLAN\tGroup\tBytesFromHttp\tBytesFromLanPeers\tBytesFromGroupPeers\tBytesFromInternetPeers\tTo LAN/Group/Internet")
	b := func(n int64) string { return humanize.IBytes(uint64(n)) }
	for _, da := range demoAgents {
		recs, err := peer.ReadStatus(orchestrate.LayoutOf(filepath.Join(d.work, da.name)).DOCache)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		for _, r := range recs {
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s/%s/%s\n", da.name, int(da.mode), da.lan, da.group,
				b(r.BytesFromHttp), b(r.BytesFromLanPeers), b(r.BytesFromGroupPeers), b(r.BytesFromInternetPeers),
				b(r.BytesToLanPeers), b(r.BytesToGroupPeers), b(r.BytesToInternetPeers))
		}
	}
	return tw.Flush()
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

// treeDone is the message of the log's ProcessTreeDone line for an
// installer whose tree outlived it (some process reaped), or "".
func treeDone(logPath string) string {
	f, err := os.Open(logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	entries, _ := cmtrace.Parse(f)
	tree := strings.SplitN(imelog.ProcessTreeDone.Format, "%", 2)[0] // "[Win32App] process "
	for _, e := range entries {
		if strings.HasPrefix(e.Message, tree) && strings.Contains(e.Message, "whole process tree") && !strings.Contains(e.Message, "(0 more") {
			return e.Message
		}
	}
	return ""
}
