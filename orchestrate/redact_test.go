package orchestrate

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// TestSignatureRedacted: after a download the report the service holds,
// the agent's status, the DO cache record and the agent log carry the blob
// URL's shape with sig=REDACTED and never the signature value (with and
// without peering, i.e. the fetch and the peer downloader).
func TestSignatureRedacted(t *testing.T) {
	for _, peering := range []bool{false, true} {
		app := fileApp("Sig", "required")
		h := newHarness(t, []testApp{app}, func(c *Config) {
			if peering {
				c.DownloadMode, c.PeerAddr = new(imeapi.ModeLAN), "127.0.0.1:0"
			}
		})
		lp := lie(t, h)
		var sig string
		lp.set(nil, func(ci map[string]any) {
			u, _ := url.Parse(ci["UploadLocation"].(string))
			sig = u.Query().Get("sig")
		})
		h.sync()
		h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
		if len(sig) < 16 {
			t.Fatalf("no signature seen in the content info (%q)", sig)
		}
		rep := h.reported(app.id())
		var do fetch.Status
		must(t, json.Unmarshal(rep.DOStatus, &do))
		if strings.Contains(do.SourceURL, "?") || !strings.HasSuffix(do.SourceURL, ".bin") {
			t.Errorf("peering=%v: reported SourceURL %q", peering, do.SourceURL)
		}
		st, err := h.agent.Status(t.Context())
		must(t, err)
		stJSON, _ := json.Marshal(st)
		texts := map[string]string{"report": string(rep.DOStatus), "status": string(stJSON), "log": h.log()}
		logFile, err := os.ReadFile(h.agent.LogPath())
		must(t, err)
		texts["log file"] = string(logFile)
		recs, _ := filepath.Glob(filepath.Join(h.agent.layout.DOCache, "*.json"))
		if peering && len(recs) == 0 {
			t.Error("no DO cache record to check")
		}
		for _, r := range recs {
			b, err := os.ReadFile(r)
			must(t, err)
			texts[r] = string(b)
		}
		for name, text := range texts {
			if strings.Contains(text, sig) {
				t.Errorf("peering=%v: %s carries the signature", peering, name)
			}
		}
	}
}
