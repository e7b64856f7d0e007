package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/service/console"
)

// consoleClient is an HTTP client of e that never follows redirects, so
// every Location is seen.
func consoleClient(base *http.Client) *http.Client {
	c := *base
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// consoleDo sends a console request and returns the response with its body read.
func consoleDo(t *testing.T, c *http.Client, method, u, form string, cookie *http.Cookie, bearerTok string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	if bearerTok != "" {
		req.Header.Set("Authorization", "Bearer "+bearerTok)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func adminToken(t *testing.T, e *env) string {
	t.Helper()
	data, err := os.ReadFile(e.srv.AdminTokenPath())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// sessionCookie is the console cookie a response sets, or nil.
func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == console.CookieName {
			return c
		}
	}
	return nil
}

// TestConsoleAuth: without the admin token the console answers 401 (the
// login form), with a device token 403, on a page and at the login; the
// admin token starts a session whose cookie is HttpOnly and
// SameSite=Strict (not Secure over plain HTTP) and is not the token; the
// session expires and logout ends it; a token in a URL is refused; no
// token or session id appears in a Location or a log line.
func TestConsoleAuth(t *testing.T) {
	e := newEnv(t)
	admin := adminToken(t, e)
	dev, _ := e.enroll(t, "pc-1")
	c := consoleClient(e.ts.Client())
	u := e.ts.URL
	var locations []string
	check := func(resp *http.Response, body string, want int, what string) {
		t.Helper()
		if resp.StatusCode != want {
			t.Fatalf("%s: status %d, want %d: %s", what, resp.StatusCode, want, body)
		}
		if l := resp.Header.Get("Location"); l != "" {
			locations = append(locations, l)
		}
	}

	resp, body := consoleDo(t, c, "GET", u+"/console/apps", "", nil, "")
	check(resp, body, http.StatusUnauthorized, "no session")
	if !strings.Contains(body, `name="token"`) || !strings.Contains(body, `method="post" action="/console/login"`) {
		t.Fatalf("401 page is not the login form: %s", body)
	}
	resp, body = consoleDo(t, c, "GET", u+"/console/apps", "", nil, dev.Token)
	check(resp, body, http.StatusForbidden, "device bearer token")
	resp, body = consoleDo(t, c, "GET", u+"/console/devices", "", nil, "not-a-token-at-all")
	check(resp, body, http.StatusUnauthorized, "unknown bearer token")
	resp, body = consoleDo(t, c, "GET", u+"/console/apps", "", nil, admin)
	check(resp, body, http.StatusOK, "admin bearer token")

	for _, tc := range []struct {
		name, token string
		want        int
	}{{"device token", dev.Token, http.StatusForbidden}, {"wrong token", "wrong-token-0123456789", http.StatusUnauthorized}, {"empty", "", http.StatusUnauthorized}} {
		resp, body = consoleDo(t, c, "POST", u+"/console/login", "token="+url.QueryEscape(tc.token), nil, "")
		check(resp, body, tc.want, "login with "+tc.name)
		if sessionCookie(resp) != nil {
			t.Fatalf("login with %s set a session cookie", tc.name)
		}
	}
	resp, body = consoleDo(t, c, "GET", u+"/console/apps?token="+url.QueryEscape(admin), "", nil, "")
	check(resp, body, http.StatusBadRequest, "token in the URL")
	resp, body = consoleDo(t, c, "POST", u+"/console/login?token="+url.QueryEscape(admin), "", nil, "")
	check(resp, body, http.StatusBadRequest, "token in the login URL")

	resp, body = consoleDo(t, c, "POST", u+"/console/login", "token="+url.QueryEscape(admin), nil, "")
	check(resp, body, http.StatusSeeOther, "admin login")
	if l := resp.Header.Get("Location"); l != "/console/apps" {
		t.Fatalf("login redirects to %q", l)
	}
	ck := sessionCookie(resp)
	switch {
	case ck == nil:
		t.Fatal("admin login set no session cookie")
	case !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure:
		t.Fatalf("cookie over HTTP: HttpOnly %v SameSite %v Secure %v, want true Strict false", ck.HttpOnly, ck.SameSite, ck.Secure)
	case ck.Value == admin || strings.Contains(ck.Value, admin) || len(ck.Value) < 40:
		t.Fatalf("session cookie %q is not a random session id", ck.Value)
	case ck.Path != "/console/" || ck.MaxAge <= 0:
		t.Fatalf("cookie path %q max-age %d", ck.Path, ck.MaxAge)
	}
	session := &http.Cookie{Name: ck.Name, Value: ck.Value}
	resp, body = consoleDo(t, c, "GET", u+"/console/apps", "", session, "")
	check(resp, body, http.StatusOK, "apps with the session")
	if !strings.Contains(body, e.apps["7zip.intunewin"].DisplayName) {
		t.Fatalf("apps page lacks the app: %s", body)
	}
	resp, body = consoleDo(t, c, "GET", u+"/console/", "", session, "")
	check(resp, body, http.StatusSeeOther, "console root")
	resp, _ = consoleDo(t, c, "GET", u+"/console/apps", "", &http.Cookie{Name: ck.Name, Value: ck.Value + "x"}, "")
	check(resp, "", http.StatusUnauthorized, "forged session id")
	req, _ := http.NewRequest("POST", u+"/console/login", strings.NewReader("token="+url.QueryEscape(admin)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://elsewhere.test")
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden || sessionCookie(resp) != nil {
		t.Fatalf("cross-origin login: %v %v", resp, err)
	}
	if h := resp.Header.Get("Content-Security-Policy"); !strings.Contains(h, "script-src 'self'") {
		t.Fatalf("CSP %q", h)
	}

	// The session expires with its TTL (the injected clock).
	e.clock.Advance(console.DefaultSessionTTL)
	resp, body = consoleDo(t, c, "GET", u+"/console/apps", "", session, "")
	check(resp, body, http.StatusUnauthorized, "expired session")

	// Logout ends a session at once.
	resp, body = consoleDo(t, c, "POST", u+"/console/login", "token="+url.QueryEscape(admin), nil, "")
	check(resp, body, http.StatusSeeOther, "second login")
	second := &http.Cookie{Name: console.CookieName, Value: sessionCookie(resp).Value}
	resp, body = consoleDo(t, c, "GET", u+"/console/devices", "", second, "")
	check(resp, body, http.StatusOK, "devices with the second session")
	resp, body = consoleDo(t, c, "POST", u+"/console/logout", "", second, "")
	check(resp, body, http.StatusSeeOther, "logout")
	if cl := sessionCookie(resp); cl == nil || cl.MaxAge >= 0 || cl.Value != "" {
		t.Fatalf("logout does not clear the cookie: %+v", cl)
	}
	resp, body = consoleDo(t, c, "GET", u+"/console/devices", "", second, "")
	check(resp, body, http.StatusUnauthorized, "after logout")

	logs := e.logs.String()
	if !strings.Contains(logs, "console: admin session started") || !strings.Contains(logs, "console: sign-in refused") {
		t.Fatalf("console log lines missing (the capture is not working?):\n%s", logs)
	}
	for name, secret := range map[string]string{"admin token": admin, "device token": dev.Token, "session id": ck.Value, "second session id": second.Value} {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s appears in the log:\n%s", name, logs)
		}
		for _, l := range locations {
			if strings.Contains(l, secret) {
				t.Errorf("the %s appears in a redirect: %s", name, l)
			}
		}
	}
	if len(locations) < 4 {
		t.Fatalf("saw %d redirects, want at least 4", len(locations))
	}
}

// TestConsoleCookieSecureUnderTLS: over HTTPS the session cookie is also Secure.
func TestConsoleCookieSecureUnderTLS(t *testing.T) {
	e := newEnv(t)
	base, files := startTLS(t, e)
	conf, err := imeapi.ClientTLS(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	c := consoleClient(&http.Client{Transport: &http.Transport{TLSClientConfig: conf}})
	resp, body := consoleDo(t, c, "POST", base+"/console/login", "token="+url.QueryEscape(adminToken(t, e)), nil, "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login over TLS: %d %s", resp.StatusCode, body)
	}
	ck := sessionCookie(resp)
	if ck == nil || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie over TLS: %+v", ck)
	}
}

// TestConsolePages: a device named like a script is shown escaped; its
// failed report's code is shown in hex with its meaning, attempts and GRS
// window on the device page, the app's counts on the apps page, and its
// DO bytes on the delivery page; the last sync comes from the policy
// request.
func TestConsolePages(t *testing.T) {
	e := newEnv(t)
	admin := adminToken(t, e)
	ctx := context.Background()
	evil, _ := e.enroll(t, "<script>alert(1)</script>")
	good, _ := e.enroll(t, "pc-good")
	if _, err := evil.Policies(ctx); err != nil {
		t.Fatal(err)
	}
	app := e.apps["7zip.intunewin"]
	grs := e.clock.Now().Add(24 * time.Hour).UTC()
	do, _ := json.Marshal(map[string]int64{"BytesFromHttp": 300, "BytesFromCacheServer": 100, "BytesFromLanPeers": 700, "TotalBytesDownloaded": 1000})
	if err := evil.Report(ctx, imeapi.Report{AppID: app.ID, Version: "1", EnforcementState: imeapi.EnforcementError, ComplianceState: imeapi.ComplianceError,
		ErrorCode: 1603, ErrorMessage: "installer exit code 1603 is a failure", Attempts: 3, GRSUntil: &grs, DOStatus: do}); err != nil {
		t.Fatal(err)
	}
	if err := good.Report(ctx, imeapi.Report{AppID: app.ID, Version: "1", EnforcementState: imeapi.EnforcementSuccess, ComplianceState: imeapi.ComplianceInstalled}); err != nil {
		t.Fatal(err)
	}
	get := func(path string) string {
		t.Helper()
		code, body := e.get(t, path, admin)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		return string(body)
	}
	apps := get("/console/apps")
	row := apps[strings.Index(apps, `data-app="`+app.ID+`"`):]
	row = row[:strings.Index(row, "</tr>")]
	for _, want := range []string{`state=installed">1</a>`, `state=failed">1</a>`, `state=grs">1</a>`, "0x80070643", "Fatal error during installation"} {
		if !strings.Contains(row, want) {
			t.Errorf("apps row lacks %q:\n%s", want, row)
		}
	}
	devs := get("/console/devices?app=" + app.ID + "&state=failed")
	if strings.Contains(devs, "<script>alert") || !strings.Contains(devs, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("device name not escaped:\n%s", devs)
	}
	if strings.Contains(devs, "pc-good") {
		t.Fatalf("state=failed lists the installed device:\n%s", devs)
	}
	for _, want := range []string{"0x80070643", "installer exit code 1603 is a failure", `<td class="n">3</td>`, grs.Format("2006-01-02 15:04:05Z"), e.clock.Now().UTC().Format("2006-01-02 15:04:05Z")} {
		if !strings.Contains(devs, want) {
			t.Errorf("devices page lacks %q:\n%s", want, devs)
		}
	}
	del := get("/console/delivery")
	for _, want := range []string{`class="seg src-lan" data-bytes="700"`, `class="seg src-cache" data-bytes="100"`, `class="seg src-http" data-bytes="200"`, "70.0 %", "800 B (80.0 %)"} {
		if !strings.Contains(del, want) {
			t.Errorf("delivery page lacks %q:\n%s", want, del)
		}
	}
}

// TestConsoleTwins: a PC enrolled again under its name, in another case,
// is two rows on the devices page, each with the start of its own device
// id and when it enrolled (the service's clock); a name of its own is
// shown alone.
func TestConsoleTwins(t *testing.T) {
	e := newEnv(t)
	first, _ := e.enroll(t, "PC-7")
	firstAt := e.clock.Now().UTC()
	e.clock.Advance(26 * time.Hour)
	again, _ := e.enroll(t, "pc-7")
	againAt := e.clock.Now().UTC()
	solo, _ := e.enroll(t, "pc-8")
	code, page := e.get(t, "/console/devices", adminToken(t, e))
	if code != http.StatusOK {
		t.Fatalf("devices page: %d %s", code, page)
	}
	cell := func(id string) string {
		t.Helper()
		body := string(page)
		i := strings.Index(body, `<tr data-device="`+id+`"`)
		if i < 0 {
			t.Fatalf("no row of %s:\n%s", id, body)
		}
		row := body[i:]
		return row[:strings.Index(row, "</td>")]
	}
	for _, d := range []struct {
		id string
		at time.Time
	}{{first.DeviceID, firstAt}, {again.DeviceID, againAt}} {
		// The id's first group, unless (1 in 2³²) the other's starts the same.
		short, at := "id <code>"+d.id[:8], ", enrolled "+d.at.Format("2006-01-02 15:04:05Z")
		if c := cell(d.id); !strings.Contains(c, short) || !strings.Contains(c, at) {
			t.Errorf("row of %s: %s\nwant %s…%s", d.id, c, short, at)
		}
	}
	if c := cell(solo.DeviceID); strings.Contains(c, "device-tell") || strings.Contains(c, "enrolled") {
		t.Errorf("the one pc-8 is told apart from nothing: %s", c)
	}
}
