package orchestrate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// seedIncoming copies the service's blob of app into the agent's
// Incoming folder, flipping one byte when corrupt is set.
func seedIncoming(t *testing.T, h *harness, app testApp, corrupt bool) int64 {
	t.Helper()
	blob, err := os.ReadFile(filepath.Join(h.dir, "data", "blobs", app.id()+"_1.intunewin.bin"))
	must(t, err)
	if corrupt {
		blob[len(blob)/2] ^= 0x40
	}
	must(t, os.WriteFile(filepath.Join(h.agent.layout.Incoming, app.id()+"_1.bin"), blob, 0o644))
	return int64(len(blob))
}

func reportedDO(t *testing.T, h *harness, id string) fetch.Status {
	t.Helper()
	rep := h.reported(id)
	if rep == nil {
		t.Fatalf("no report for %s", id)
	}
	var do fetch.Status
	must(t, json.Unmarshal(rep.DOStatus, &do))
	return do
}

// TestStaleCacheIsVerified: the IME says "Content cache found, skip
// downloading" and then fails on a damaged cached file; the agent verifies
// the cached .bin and downloads again when it does not verify.
func TestStaleCacheIsVerified(t *testing.T) {
	bad := fileApp("Stale", "required")
	good := fileApp("Fresh", "required")
	h := newHarness(t, []testApp{bad, good}, nil)
	size := seedIncoming(t, h, bad, true)
	seedIncoming(t, h, good, false)
	h.sync()
	h.wantState(bad.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	h.wantState(good.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if do := reportedDO(t, h, bad.id()); do.TotalBytesDownloaded != size || do.Status != imeapi.DOComplete {
		t.Fatalf("damaged cache: downloaded %d of %d (%s)", do.TotalBytesDownloaded, size, do.Status)
	}
	if do := reportedDO(t, h, good.id()); do.TotalBytesDownloaded != 0 || do.FileSizeInCache == 0 {
		t.Fatalf("verified cache should be reused: %+v", do)
	}
	log := h.log()
	if !strings.Contains(log, "does not verify") || !strings.Contains(log, "Cached content verified") {
		t.Fatalf("log lacks the cache verdicts:\n%s", log)
	}
}

// TestTruncatedCacheIsDiscarded: a short cached file (size mismatch) is
// discarded too.
func TestTruncatedCacheIsDiscarded(t *testing.T) {
	app := fileApp("Short", "required")
	h := newHarness(t, []testApp{app}, nil)
	size := seedIncoming(t, h, app, false)
	bin := filepath.Join(h.agent.layout.Incoming, app.id()+"_1.bin")
	must(t, os.Truncate(bin, size/2))
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if do := reportedDO(t, h, app.id()); do.TotalBytesDownloaded != size {
		t.Fatalf("downloaded %d, want %d", do.TotalBytesDownloaded, size)
	}
}

// TestTamperedOriginInstallsNothing: the origin serves content with one
// byte flipped. The unpack that runs during the download must not leave
// anything in IMECache (nor a .partial), and nothing is installed.
func TestTamperedOriginInstallsNothing(t *testing.T) {
	app := fileApp("Tampered", "required")
	h := newHarness(t, []testApp{app}, nil)
	blob := filepath.Join(h.dir, "data", "blobs", app.id()+"_1.intunewin.bin")
	b, err := os.ReadFile(blob)
	must(t, err)
	b[len(b)/2] ^= 0x40
	must(t, os.WriteFile(blob, b, 0o644))
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementError, imeapi.ComplianceError, CodeFailure)
	if _, err := os.Stat(h.programFiles("Tampered", "app.txt")); err == nil {
		t.Fatal("the installer ran on tampered content")
	}
	ents, _ := os.ReadDir(h.agent.layout.IMECache)
	if len(ents) != 0 {
		t.Fatalf("IMECache holds %v after tampered content", ents)
	}
}
