package console

import (
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clocktest"
)

// fakeData is a fixed fleet with one admin and one device token.
type fakeData struct {
	fleet imeapi.Status
	apps  []App
	err   error
}

func (f *fakeData) Fleet() (imeapi.Status, error) { return f.fleet, f.err }
func (f *fakeData) Apps() []App                   { return f.apps }
func (f *fakeData) TokenRole(tok string) (Role, error) {
	switch tok {
	case "admin-token-0123456789":
		return RoleAdmin, nil
	case "device-token-0123456789":
		return RoleDevice, nil
	}
	return RoleNone, nil
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func report(enf imeapi.EnforcementState, comp imeapi.ComplianceState, code int64) *imeapi.Report {
	return &imeapi.Report{AppID: "A", EnforcementState: enf, ComplianceState: comp, ErrorCode: code}
}

func TestStateOf(t *testing.T) {
	for _, c := range []struct {
		r    *imeapi.Report
		want state
	}{
		{nil, statePending},
		{report(imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0), stateInstalled},
		{report(imeapi.EnforcementSuccess, imeapi.ComplianceNotInstalled, 0), stateNotInstalled},
		{report(imeapi.EnforcementError, imeapi.ComplianceError, 1603), stateFailed},
		{report(imeapi.EnforcementRequirementsNotMet, imeapi.ComplianceNotInstalled, 0), stateNotApplicable},
		{report(imeapi.EnforcementInProgress, imeapi.ComplianceUnknown, 1618), statePending},
		{report(imeapi.EnforcementNotAttempted, imeapi.ComplianceUnknown, 0), statePending},
	} {
		if got := stateOf(imeapi.AppStatus{Report: c.r}); got != c.want {
			t.Errorf("%+v: %v, want %v", c.r, got, c.want)
		}
	}
}

// TestAppRows: devices are counted per app by state, case-insensitively
// by id; an app neither targeted nor reported is not counted; GRS counts
// only a window still open; error codes are grouped, most devices first.
func TestAppRows(t *testing.T) {
	grsOpen, grsPast := t0.Add(time.Hour), t0.Add(-time.Hour)
	failed := func(code int64, until *time.Time) *imeapi.Report {
		r := report(imeapi.EnforcementError, imeapi.ComplianceError, code)
		r.GRSUntil = until
		return r
	}
	dev := func(reps ...*imeapi.Report) imeapi.DeviceStatus {
		var as []imeapi.AppStatus
		for _, r := range reps {
			as = append(as, imeapi.AppStatus{AppID: "a", Intent: imeapi.IntentRequired, Report: r})
		}
		return imeapi.DeviceStatus{Apps: as}
	}
	fleet := imeapi.Status{Devices: []imeapi.DeviceStatus{
		dev(report(imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)),
		dev(failed(1603, &grsOpen)),
		dev(failed(1603, &grsPast)),
		dev(failed(imeapi.CodeNotDetected, nil)),
		dev(nil),
		{Apps: []imeapi.AppStatus{{AppID: "B", Intent: imeapi.IntentNotTargeted}}},
	}}
	rows := appRows([]App{{ID: "B", DisplayName: "Zeta"}, {ID: "A", DisplayName: "Alpha"}}, fleet, t0)
	if rows[0].ID != "A" || rows[1].ID != "B" {
		t.Fatalf("order %s %s", rows[0].ID, rows[1].ID)
	}
	a := rows[0]
	if a.Counts[stateInstalled] != 1 || a.Counts[stateFailed] != 3 || a.Counts[statePending] != 1 || a.InGRS != 1 {
		t.Fatalf("counts %v, GRS %d", a.Counts, a.InGRS)
	}
	if len(a.Errors) != 2 || a.Errors[0].Hex != "0x80070643" || a.Errors[0].Devices != 2 || a.Errors[1].Hex != "0x87D1041C" || a.Errors[0].Meaning == "" {
		t.Fatalf("errors %+v", a.Errors)
	}
	if rows[1].Counts != [len(stateNames)]int{} {
		t.Fatalf("an untargeted, unreported app counted: %v", rows[1].Counts)
	}
}

// TestDelivery: HTTP is the origin's share (BytesFromHttp less the cache
// server's), PercentPeerCaching the peers' share, and the chart's bars
// scale to the largest total.
func TestDelivery(t *testing.T) {
	do := func(http, cache, lan, group, inet int64) map[string]int64 {
		return map[string]int64{"BytesFromHttp": http, "BytesFromCacheServer": cache, "BytesFromLanPeers": lan,
			"BytesFromGroupPeers": group, "BytesFromInternetPeers": inet}
	}
	fleet := imeapi.Status{Devices: []imeapi.DeviceStatus{
		{Apps: []imeapi.AppStatus{{AppID: "a", DOBytes: do(400, 100, 300, 200, 100)}, {AppID: "b", DOBytes: do(500, 0, 0, 0, 0)}}},
		{Apps: []imeapi.AppStatus{{AppID: "A", DOBytes: do(0, 0, 1000, 0, 0)}, {AppID: "B"}}},
	}}
	rows := deliveryRows([]App{{ID: "A", DisplayName: "App A"}, {ID: "B", DisplayName: "App B"}}, fleet)
	all, a, b := rows[0], rows[1], rows[2]
	if a.Bytes != (bytesBySource{300, 100, 1300, 200, 100}) || a.Total != 2000 || a.Devices != 2 {
		t.Fatalf("A: %+v", a)
	}
	if math.Abs(a.PercentPeerCaching-80) > 1e-9 || a.Saved != 1700 || math.Abs(a.PercentSaved-85) > 1e-9 {
		t.Fatalf("A: peers %v%%, saved %d (%v%%)", a.PercentPeerCaching, a.Saved, a.PercentSaved)
	}
	if b.Total != 500 || b.PercentPeerCaching != 0 || b.Saved != 0 || b.Devices != 1 {
		t.Fatalf("B: %+v", b)
	}
	if all.Total != 2500 || all.Bytes[2] != 1300 || all.AppID != "" {
		t.Fatalf("all: %+v", all)
	}
	c := newChart(rows)
	var w float64
	for _, s := range c.Bars[0].Segs {
		w += s.W
	}
	if math.Abs(w-chartBarW) > 1e-6 || len(c.Bars[2].Segs) != 1 || math.Abs(c.Bars[2].Segs[0].W-chartBarW/5) > 1e-6 {
		t.Fatalf("chart: overall %v wide, B %+v", w, c.Bars[2].Segs)
	}
	if empty := newChart(deliveryRows(nil, imeapi.Status{})); len(empty.Bars) != 1 || len(empty.Bars[0].Segs) != 0 {
		t.Fatalf("empty chart %+v", empty)
	}
}

// twinFleet has devices named PC-1 and pc-1 (a re-imaged PC enrolled
// again, a day later; their ids share the first group), a third of that
// name, Pc-1, the one whose app A failed, and one pc-2; every one has app A.
func twinFleet() imeapi.Status {
	dev := func(id, name string, enrolled time.Time, r *imeapi.Report) imeapi.DeviceStatus {
		return imeapi.DeviceStatus{DeviceID: id, DeviceName: name, EnrolledAt: enrolled,
			Apps: []imeapi.AppStatus{{AppID: "A", Intent: imeapi.IntentRequired, Report: r}}}
	}
	ok := report(imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	return imeapi.Status{Devices: []imeapi.DeviceStatus{
		dev("0a1b2c3d-2222-4000-8000-000000000002", "pc-1", t0.Add(-24*time.Hour), ok),
		dev("9f8e7d6c-0000-4000-8000-000000000009", "pc-2", t0.Add(-72*time.Hour), ok),
		dev("0a1b2c3d-1111-4000-8000-000000000001", "PC-1", t0.Add(-48*time.Hour), ok),
		dev("5e5e5e5e-0000-4000-8000-000000000005", "Pc-1", t0.Add(-time.Hour), report(imeapi.EnforcementError, imeapi.ComplianceError, 1603)),
	}}
}

// TestConsoleTwinRows: devices whose names differ only in case are
// listed together, oldest enrollment first, each with the shortest start
// of its id (at least 8 characters) that tells it from the others of its
// name, also when a filter lists only one of them; a name of its own gets
// no ShortID.
func TestConsoleTwinRows(t *testing.T) {
	apps := []App{{ID: "A", DisplayName: "App A"}}
	rows := deviceRows(apps, twinFleet(), filter{}, t0)
	var got []string
	for _, r := range rows {
		got = append(got, r.DeviceName+" "+r.ShortID)
	}
	want := []string{"PC-1 0a1b2c3d-1", "pc-1 0a1b2c3d-2", "Pc-1 5e5e5e5e", "pc-2 "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("rows %q, want %q", got, want)
	}
	failed := deviceRows(apps, twinFleet(), filter{State: "failed"}, t0)
	if len(failed) != 1 || failed[0].ShortID != "5e5e5e5e" || !failed[0].EnrolledAt.Equal(t0.Add(-time.Hour)) {
		t.Fatalf("failed rows %+v, want Pc-1 with its short id and enrollment", failed)
	}
}

// TestConsoleTwinPage: on the devices page a row of a shared name shows
// its short id and enrollment time beside the name; a row of a name of
// its own is the name's link alone.
func TestConsoleTwinPage(t *testing.T) {
	clk := clocktest.New(t0)
	h := newTestHandler(&fakeData{apps: []App{{ID: "A", DisplayName: "App A"}}, fleet: twinFleet()}, clk)
	w := serve(h, "GET", "/console/devices", "", login(t, h))
	body := w.Body.String()
	cell := func(id string) string {
		t.Helper()
		i := strings.Index(body, `<tr data-device="`+id+`"`)
		if i < 0 {
			t.Fatalf("no row of %s:\n%s", id, body)
		}
		row := body[i:]
		row = row[strings.Index(row, `<td class="device-name">`):]
		return row[:strings.Index(row, "</td>")+len("</td>")]
	}
	for id, want := range map[string]string{
		"0a1b2c3d-1111-4000-8000-000000000001": `id <code>0a1b2c3d-1</code>, enrolled 2025-02-27 12:00:00Z</small></td>`,
		"0a1b2c3d-2222-4000-8000-000000000002": `id <code>0a1b2c3d-2</code>, enrolled 2025-02-28 12:00:00Z</small></td>`,
		"5e5e5e5e-0000-4000-8000-000000000005": `id <code>5e5e5e5e</code>, enrolled 2025-03-01 11:00:00Z</small></td>`,
	} {
		if c := cell(id); !strings.HasSuffix(c, want) || !strings.Contains(c, `<small class="device-tell"`) {
			t.Errorf("row of %s: %s\nwant it to end %s", id, c, want)
		}
	}
	if c, want := cell("9f8e7d6c-0000-4000-8000-000000000009"), `<td class="device-name"><a href="/console/devices/9f8e7d6c-0000-4000-8000-000000000009">pc-2</a></td>`; c != want {
		t.Errorf("row of the one pc-2: %s, want %s", c, want)
	}
}

func newTestHandler(d Data, clk *clocktest.Clock) *Handler {
	return New(Config{Data: d, Now: clk.Now, Refresh: 2 * time.Second})
}

func serve(h http.Handler, method, target, form string, cookie *http.Cookie) *httptest.ResponseRecorder {
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	r := httptest.NewRequest(method, target, body)
	if form != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func login(t *testing.T, h http.Handler) *http.Cookie {
	t.Helper()
	w := serve(h, "POST", "/console/login", "token="+url.QueryEscape("admin-token-0123456789"), nil)
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	t.Fatalf("login: %d, no cookie", w.Code)
	return nil
}

// TestHandlerAssets: pages carry the refresh (script and a no-script
// meta refresh) and a CSP; the embedded style and script are served; an
// unknown page is 404; a failing Data is 500.
func TestHandlerAssets(t *testing.T) {
	clk := clocktest.New(t0)
	d := &fakeData{apps: []App{{ID: "A", DisplayName: "App A", Version: "1"}}}
	h := newTestHandler(d, clk)
	ck := login(t, h)
	w := serve(h, "GET", "/console/apps", "", ck)
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, `data-refresh="2"`) || !strings.Contains(body, `<script src="/console/static/live.js" defer></script>`) ||
		!strings.Contains(body, `<noscript><meta http-equiv="refresh" content="2"></noscript>`) || !strings.Contains(body, "App A") {
		t.Fatalf("apps page %d:\n%s", w.Code, body)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP %q", csp)
	}
	for path, typ := range map[string]string{"/console/static/console.css": "text/css", "/console/static/live.js": "javascript"} {
		w := serve(h, "GET", path, "", nil)
		if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), typ) || w.Body.Len() < 100 {
			t.Fatalf("%s: %d %q", path, w.Code, w.Header().Get("Content-Type"))
		}
	}
	if w := serve(h, "GET", "/console/nothing", "", ck); w.Code != 404 {
		t.Fatalf("unknown page: %d", w.Code)
	}
	if w := serve(h, "GET", "/console/devices/no-such-id", "", ck); w.Code != 404 {
		t.Fatalf("unknown device: %d", w.Code)
	}
	d.err = errors.New("store down")
	if w := serve(h, "GET", "/console/delivery", "", ck); w.Code != 500 || strings.Contains(w.Body.String(), "store down") {
		t.Fatalf("failing Data: %d %s", w.Code, w.Body)
	}
}

// TestSessionsBounded: past maxSessions the oldest session is dropped,
// and expired ones go first (the in-memory Sessions of a Handler given
// none; the service's store has its own suite).
func TestSessionsBounded(t *testing.T) {
	clk := clocktest.New(t0)
	h := newTestHandler(&fakeData{}, clk)
	mem := h.cfg.Sessions.(*memSessions)
	live := func(c *http.Cookie) bool {
		t.Helper()
		ok, err := h.session(cookieReq(c))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	newSession := func() {
		t.Helper()
		if _, err := h.newSession(); err != nil {
			t.Fatal(err)
		}
	}
	first := login(t, h)
	clk.Advance(time.Second)
	second := login(t, h)
	for range maxSessions - 2 {
		newSession()
	}
	if !live(first) {
		t.Fatal("first session dropped before the limit")
	}
	newSession() // one past the limit: the oldest goes
	if live(first) || !live(second) {
		t.Fatal("the oldest session was not the one dropped")
	}
	if len(mem.m) != maxSessions {
		t.Fatalf("%d sessions kept", len(mem.m))
	}
	clk.Advance(DefaultSessionTTL)
	newSession()
	if len(mem.m) != 1 {
		t.Fatalf("%d sessions after all expired", len(mem.m))
	}
}

// failingSessions is a Sessions whose every call fails.
type failingSessions struct{}

func (failingSessions) StartSession([32]byte, time.Time, time.Time, int) error {
	return errors.New("store down")
}
func (failingSessions) SessionExpiry([32]byte) (time.Time, bool, error) {
	return time.Time{}, false, errors.New("store down")
}
func (failingSessions) EndSession([32]byte) error { return errors.New("store down") }

// TestSessionsFailing: a Sessions that fails makes sign-in and a page
// with a cookie 500 (no session, no cookie), never a page or a 401 that
// hides the failure, and says nothing of it to the browser.
func TestSessionsFailing(t *testing.T) {
	clk := clocktest.New(t0)
	h := New(Config{Data: &fakeData{}, Now: clk.Now, Sessions: failingSessions{}})
	w := serve(h, "POST", "/console/login", "token="+url.QueryEscape("admin-token-0123456789"), nil)
	if w.Code != 500 || len(w.Result().Cookies()) != 0 || strings.Contains(w.Body.String(), "store down") {
		t.Fatalf("login with failing sessions: %d %v %s", w.Code, w.Result().Cookies(), w.Body)
	}
	w = serve(h, "GET", "/console/apps", "", &http.Cookie{Name: CookieName, Value: "some-session"})
	if w.Code != 500 {
		t.Fatalf("page with failing sessions: %d", w.Code)
	}
}

func cookieReq(c *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/console/apps", nil)
	r.AddCookie(c)
	return r
}
