package orchestrate

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// A blob the CDN answers 404 for ends as a report whose ErrorMessage is
// one readable chain: each layer adds its step and object once, and no
// package name is repeated.
func TestBlob404ReportReadsAsOneChain(t *testing.T) {
	app := fileApp("Gone", "required")
	h := newHarness(t, []testApp{app}, nil)
	next := h.http.Config.Handler
	h.http.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/blobs/") {
			http.Error(w, "no such blob", http.StatusNotFound)
			return
		}
		next.ServeHTTP(w, r)
	})
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementError, imeapi.ComplianceError, CodeFailure)
	rep := h.reported(app.id())
	if rep == nil {
		t.Fatal("no report")
	}
	msg := rep.ErrorMessage
	// No "X: … X:": every "word: " label of the chain appears once.
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`\b(\w+): `).FindAllStringSubmatch(msg, -1) {
		if seen[m[1]] {
			t.Errorf("%q repeats in %q", m[1]+":", msg)
		}
		seen[m[1]] = true
	}
	id := app.id() + "_1"
	want := `^download intunewin-bin_` + id + `: fetch: http://127\.0\.0\.1:\d+/blobs/` + id +
		`\.intunewin\.bin\?se=\d+&sig=REDACTED: HTTP 404$`
	if !regexp.MustCompile(want).MatchString(msg) {
		t.Errorf("ErrorMessage %q\nwant the chain %s", msg, want)
	}
}
