package consoletest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// evilName is a device name that would run script if shown as HTML.
const evilName = `<script>alert(1)</script>`

// browser starts headless Chromium for t (Debian's chromium; make deps
// installs it). Without it the test skips, or fails when CI=true. It
// returns the browser's context and a counter of JavaScript dialogs
// (alert, confirm) the pages opened; each is dismissed.
func browser(t *testing.T) (context.Context, *atomic.Int32) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the browser test drives Debian's chromium: it runs on Linux")
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (make deps installs it)")
		}
		t.Skip("chromium is not installed (make deps installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900), chromedp.Flag("disable-gpu", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	dialogs := new(atomic.Int32)
	events := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range events {
			if err != nil {
				return
			}
			dialogs.Add(1)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return ctx, dialogs
}

// artifacts is the folder the test's screenshots go to: $IMEPIPE_ARTIFACTS/console
// when set, else a new folder in the system's temp folder that is kept.
func artifacts(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("IMEPIPE_ARTIFACTS"); d != "" {
		dir := filepath.Join(d, "console")
		must(t, os.MkdirAll(dir, 0o755))
		return dir
	}
	dir, err := os.MkdirTemp("", "imepipe-console-artifacts-")
	must(t, err)
	return dir
}

// step runs a browser action within a bounded time.
func step[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// TestConsoleInChromium: five agents install two apps, the second failing
// on two devices (its installer does nothing there: not detected), one of them named like a
// script. The console, read by headless Chromium after signing in
// through its form, shows 3 installed / 2 failed with 0x87D1041C and its
// meaning (updated live, without a reload, while the last two agents
// report), the failing device's error on its page, the device name as
// text (no script ran, no alert), and the LAN bytes the agents recorded
// in the delivery chart. Screenshots are saved as artifacts.
func TestConsoleInChromium(t *testing.T) {
	ctx, dialogs := browser(t)
	notes := fleetApp{id: "0c0a0000-0000-4000-8000-000000000001", name: "Contoso Notes", payload: 3 << 20,
		install: installsTo("0c0a0000-0000-4000-8000-000000000001")}
	vpnID := "0c0a0000-0000-4000-8000-000000000002"
	vpn := fleetApp{id: vpnID, name: "Fabrikam VPN", payload: 1 << 20,
		// The roots of the 4th and 5th devices are pc4 and pc5: there the
		// installer exits 0 without installing, so detection fails
		// (0x87D1041C). An exit code cannot be 1603 on Linux (8 bits).
		install: `case "$ProgramFiles" in */pc4/*|*/pc5/*) exit 0;; esac; ` + installsTo(vpnID)}
	f := newFleet(t, []fleetApp{notes, vpn}, time.Second)
	f.run("pc-1", "pc-2", "pc-3")

	base := f.url + "/console"
	resp := step(t, ctx, "open the console", chromedp.NavigateResponse(base+"/apps"))
	if resp.Status != 401 {
		t.Fatalf("console without a session: status %d, want 401 (the login form)", resp.Status)
	}
	step(t, ctx, "sign in", chromedp.Steps(
		chromedp.SendKeys(chromedp.CSS("#token"), f.adminToken()),
		chromedp.Click(chromedp.CSS("form.login button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("table#apps")),
	))
	loc := step(t, ctx, "location", chromedp.Location())
	if loc != base+"/apps" || strings.Contains(loc, f.adminToken()) {
		t.Fatalf("after sign-in the browser is at %q", loc)
	}
	row := `tr[data-app="` + vpnID + `"]`
	if got := step(t, ctx, "installed before", chromedp.Text(chromedp.CSS(row+" td.installed"))); got != "3" {
		t.Fatalf("installed before the failing agents: %q, want 3", got)
	}

	// The last two agents fail; the open page shows it without a reload.
	marker := step(t, ctx, "mark the page", chromedp.Evaluate[bool](`window.notReloaded = true`))
	if !marker {
		t.Fatal("could not mark the page")
	}
	f.run("pc-4", evilName)
	step(t, ctx, "live update", chromedp.Poll[bool](`document.querySelector('`+row+` td.failed').textContent.trim() === "2"`,
		chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
	if !step(t, ctx, "no reload", chromedp.Evaluate[bool](`window.notReloaded === true`)) {
		t.Fatal("the page reloaded instead of updating in place")
	}
	counts := map[string]string{}
	for _, c := range []string{"installed", "failed", "not-applicable", "pending"} {
		counts[c] = step(t, ctx, c, chromedp.Text(chromedp.CSS(row+" td."+c)))
	}
	if counts["installed"] != "3" || counts["failed"] != "2" || counts["pending"] != "0" || counts["not-applicable"] != "0" {
		t.Fatalf("Fabrikam VPN counts %v, want 3 installed, 2 failed", counts)
	}
	errText := step(t, ctx, "error codes", chromedp.Text(chromedp.CSS(row+" td.errors")))
	if !strings.Contains(errText, "0x87D1041C") || !strings.Contains(errText, "not detected after installation") || !strings.Contains(errText, "2 devices") {
		t.Fatalf("error column %q, want 0x87D1041C, its meaning and 2 devices", errText)
	}
	if got := step(t, ctx, "notes installed", chromedp.Text(chromedp.CSS(`tr[data-app="`+notes.id+`"] td.installed`))); got != "5" {
		t.Fatalf("Contoso Notes installed on %q devices, want 5", got)
	}
	dir := artifacts(t)
	shot := func(name string) {
		t.Helper()
		png := step(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, png, 0o644))
		t.Logf("screenshot: %s (%d bytes)", p, len(png))
	}
	shot("apps.png")

	// Click through to the failed devices: the script-named one is text.
	step(t, ctx, "failed devices", chromedp.Steps(chromedp.Click(chromedp.CSS(row+" td.failed a")), chromedp.WaitVisible(chromedp.CSS("table#devices"))))
	names := step(t, ctx, "device names", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("td.device-name")).map(e => e.textContent.trim())`))
	if fmt.Sprint(names) != fmt.Sprint([]string{evilName, "pc-4"}) {
		t.Fatalf("failed devices %q, want [%s pc-4]", names, evilName)
	}
	if n := step(t, ctx, "scripts", chromedp.Evaluate[int](`document.querySelectorAll("script").length`)); n != 1 {
		t.Fatalf("the page holds %d script elements, want 1 (live.js): a device name became markup", n)
	}
	shot("devices-failed.png")

	// The failing device's own page.
	href := step(t, ctx, "pc-4's link", chromedp.Evaluate[string](`Array.from(document.querySelectorAll("td.device-name a")).find(a => a.textContent === "pc-4").getAttribute("href")`))
	if !strings.HasPrefix(href, "/console/devices/") {
		t.Fatalf("pc-4 links to %q", href)
	}
	step(t, ctx, "device page", chromedp.Steps(chromedp.Navigate(f.url+href), chromedp.WaitVisible(chromedp.CSS("#device-name"))))
	who := step(t, ctx, "device heading", chromedp.Text(chromedp.CSS("#device-name")))
	devErr := step(t, ctx, "device error", chromedp.Text(chromedp.CSS(`tr[data-app="`+vpnID+`"] td.error`)))
	if who != "pc-4" {
		t.Fatalf("device page of %q", who)
	}
	if !strings.Contains(devErr, "0x87D1041C") || !strings.Contains(devErr, "not detected after installation") {
		t.Fatalf("device %s shows error %q, want 0x87D1041C and its meaning", who, devErr)
	}
	attempts := step(t, ctx, "attempts", chromedp.Text(chromedp.CSS(`tr[data-app="`+vpnID+`"] td.n`)))
	if attempts != "1" {
		t.Fatalf("device %s: attempts %q, want 1", who, attempts)
	}
	shot("device.png")

	// Delivery: the LAN bytes the agents themselves recorded are in the chart.
	step(t, ctx, "delivery", chromedp.Steps(chromedp.Click(chromedp.CSS(`nav a[href="/console/delivery"]`)), chromedp.WaitVisible(chromedp.CSS("svg#delivery-chart"))))
	want := f.lanBytes(notes.id) + f.lanBytes(vpnID)
	if want == 0 {
		t.Fatalf("no agent took a byte from a LAN peer; the fleet cannot show LAN bytes\n%s", f.logs)
	}
	segs := step(t, ctx, "LAN segments", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("svg#delivery-chart rect.seg.src-lan")).map(e => e.getAttribute("data-bytes") + " " + e.getBoundingClientRect().width)`))
	if len(segs) != 3 { // all apps, and each app
		t.Fatalf("LAN bars %q, want 3 (overall and 2 apps)", segs)
	}
	overall := strings.Fields(segs[0])
	if overall[0] != strconv.FormatInt(want, 10) {
		t.Fatalf("overall LAN bar holds %s bytes, the agents' DO records %d", overall[0], want)
	}
	if w, _ := strconv.ParseFloat(overall[1], 64); w < 10 {
		t.Fatalf("overall LAN bar is %v px wide", w)
	}
	legend := step(t, ctx, "legend", chromedp.TextContent(chromedp.CSS("svg#delivery-chart")))
	if !strings.Contains(legend, "LAN peers") {
		t.Fatalf("chart legend %q lacks LAN peers", legend)
	}
	shot("delivery.png")
	if n := dialogs.Load(); n != 0 {
		t.Fatalf("%d JavaScript dialogs opened: a device name ran as script", n)
	}
	t.Logf("artifacts in %s", dir)
}
