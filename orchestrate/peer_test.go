package orchestrate

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/promtest"
	"github.com/imepipe/imepipe/peer"
	dto "github.com/prometheus/client_model/go"
)

// blobCounter serves the service and counts the blob bytes it sends
// (the origin's traffic).
type blobCounter struct {
	h    http.Handler
	sent atomic.Int64
}

func (b *blobCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/blobs/") {
		w = countingResponse{ResponseWriter: w, n: &b.sent}
	}
	b.h.ServeHTTP(w, r)
}

type countingResponse struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c countingResponse) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// peerAgent opens another agent on h's service (through url) with its own root.
func peerAgent(t *testing.T, h *harness, name, url string, mode imeapi.DownloadMode) *Agent {
	t.Helper()
	cfg := h.cfg
	cfg.Root = filepath.Join(h.dir, name)
	cfg.DeviceName, cfg.ServiceURL, cfg.DownloadMode, cfg.PeerAddr = name, url, &mode, "127.0.0.1:0"
	if cfg.Folders != nil { // Windows: this device's own emulated drive
		cfg.Folders = emulatedWindowsFolders(cfg.Root)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if a.PeerAddr() == "" || strings.HasSuffix(a.PeerAddr(), ":0") {
		t.Fatalf("%s: piece server address %q", name, a.PeerAddr())
	}
	return a
}

// doRecord is the DO record an agent reported for app id.
func doRecord(t *testing.T, a *Agent, id string) fetch.Status {
	t.Helper()
	st, err := a.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ap := range st.Apps {
		if ap.AppID != id {
			continue
		}
		if ap.EnforcementState != imeapi.EnforcementSuccess || ap.ComplianceState != imeapi.ComplianceInstalled {
			t.Fatalf("%s: EnforcementState %d, ComplianceState %d (%s)", a.cfg.DeviceName, ap.EnforcementState, ap.ComplianceState, ap.ErrorMessage)
		}
		var do fetch.Status
		if err := json.Unmarshal(ap.DOStatus, &do); err != nil {
			t.Fatalf("%s: DO record %s: %v", a.cfg.DeviceName, ap.DOStatus, err)
		}
		if do.BytesFromHttp+do.BytesFromPeers != do.TotalBytesDownloaded ||
			do.BytesFromLanPeers+do.BytesFromGroupPeers+do.BytesFromInternetPeers != do.BytesFromPeers {
			t.Fatalf("%s: DO record does not add up: %+v", a.cfg.DeviceName, do)
		}
		return do
	}
	t.Fatalf("%s: no status for %s", a.cfg.DeviceName, id)
	return fetch.Status{}
}

// TestPeersShareContentOnLAN: agent A downloads a package from the
// origin; B and C, on the same LAN (loopback), then take it from A (and
// each other) with every piece verified, and the origin sends them far
// less than one copy; a mode-0 agent beside them uses HTTP only.
func TestPeersShareContentOnLAN(t *testing.T) {
	const size = 6 << 20
	payload := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{7})
	_, _ = rng.Read(payload)
	app := fileApp("Shared", "required").script("payload.bin", string(payload))
	h := newHarness(t, []testApp{app}, func(c *Config) {
		c.DownloadMode, c.PeerAddr = new(imeapi.ModeLAN), "127.0.0.1:0"
	})
	if h.agent.PeerAddr() == "" {
		t.Fatal("agent A has no piece server")
	}
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	a := doRecord(t, h.agent, app.id())
	t.Logf("A: HTTP %d of %d in %s", a.BytesFromHttp, a.TotalBytesDownloaded, a.DownloadDuration)
	if a.BytesFromPeers != 0 || a.BytesFromHttp < size {
		t.Fatalf("A: want everything from HTTP: %+v", a)
	}
	pkgSize := a.FileSize
	cached, err := os.ReadDir(h.agent.layout.DOCache)
	must(t, err)
	if len(cached) != 3 { // <DoFileId>.content and .json, _policy.json
		t.Fatalf("A's DOCache after install: %v", cached)
	}
	// A's piece server also exposes the DO figures to Prometheus.
	metrics := promtest.Scrape(t, "http://"+h.agent.PeerAddr()+"/metrics")
	if got := metrics.Value(t, peer.MetricBytesFrom, dto.MetricType_COUNTER, "file="+a.FileId, "source="+peer.SourceHTTP); got != float64(a.BytesFromHttp) {
		t.Fatalf("A's /metrics: %s{http} = %v, DO record %d", peer.MetricBytesFrom, got, a.BytesFromHttp)
	}

	counter := &blobCounter{h: h.srv}
	lan := httptest.NewServer(counter)
	t.Cleanup(lan.Close)
	agents := []*Agent{peerAgent(t, h, "pc-b", lan.URL, imeapi.ModeLAN), peerAgent(t, h, "pc-c", lan.URL, imeapi.ModeLAN)}
	errs := make([]error, len(agents))
	var wg sync.WaitGroup
	for i, ag := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			errs[i] = ag.Sync(ctx)
		}()
	}
	wg.Wait()
	var fromPeers int64
	for i, ag := range agents {
		if errs[i] != nil {
			t.Fatalf("%s: sync: %v\nlog:\n%s", ag.cfg.DeviceName, errs[i], h.log())
		}
		do := doRecord(t, ag, app.id())
		t.Logf("%s: HTTP %d, LAN peers %d of %d in %s (%d peers)", ag.cfg.DeviceName, do.BytesFromHttp, do.BytesFromLanPeers, do.TotalBytesDownloaded, do.DownloadDuration, do.NumPeers)
		if do.BytesFromLanPeers == 0 || do.DownloadMode != imeapi.ModeLAN || do.TotalBytesDownloaded < pkgSize {
			t.Errorf("%s: want LAN peer bytes: %+v", ag.cfg.DeviceName, do)
		}
		if do.BytesFromHttp >= pkgSize/2 {
			t.Errorf("%s: %d of %d bytes from HTTP, want under half", ag.cfg.DeviceName, do.BytesFromHttp, pkgSize)
		}
		fromPeers += do.BytesFromLanPeers
	}
	if sent := counter.sent.Load(); sent >= pkgSize/2 {
		t.Errorf("origin sent %d bytes to B and C, want under half of %d", sent, pkgSize)
	}
	// What B and C took from peers, the peers' servers sent.
	ctx := context.Background()
	var toPeers int64
	for _, ag := range append([]*Agent{h.agent}, agents...) {
		for _, ct := range ag.doCache.List() {
			toPeers += ct.Status().BytesToLanPeers
		}
	}
	if toPeers < fromPeers {
		t.Errorf("peers sent %d bytes, B and C took %d", toPeers, fromPeers)
	}

	// Mode 0 beside them: HTTP only, and the DO cache keeps a record but
	// no content.
	before := counter.sent.Load()
	http0 := peerAgent(t, h, "pc-http", lan.URL, imeapi.ModeHTTPOnly)
	if err := http0.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	do := doRecord(t, http0, app.id())
	if do.BytesFromPeers != 0 || do.BytesFromHttp != pkgSize || do.NumPeers != 0 {
		t.Fatalf("mode 0: want HTTP only: %+v", do)
	}
	if sent := counter.sent.Load() - before; sent < pkgSize {
		t.Fatalf("mode 0: origin sent %d bytes of %d", sent, pkgSize)
	}
	ents, _ := os.ReadDir(http0.layout.DOCache)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "_policy.json "+do.FileId+".record" {
		t.Fatalf("mode 0 DOCache holds %v, want the policy and a record without content", names)
	}
	recs, err := peer.ReadStatus(http0.layout.DOCache)
	if err != nil || len(recs) != 1 || recs[0].DownloadMode != imeapi.ModeHTTPOnly || recs[0].BytesFromHttp != pkgSize ||
		recs[0].PredefinedCallerApplication != DefaultCaller || recs[0].ExpireOn == (fetch.DateTime{}) {
		t.Fatalf("mode 0 DO record %+v (%v)", recs, err)
	}
}

// TestPeerAgentAnnouncesCacheAtStart: content left in DOCache by an
// earlier run is announced at start, so a new agent gets it from the
// restarted one rather than the origin.
func TestPeerAgentAnnouncesCacheAtStart(t *testing.T) {
	const size = 3 << 20
	payload := make([]byte, size)
	_, _ = rand.NewChaCha8([32]byte{9}).Read(payload)
	app := fileApp("Again", "required").script("payload.bin", string(payload))
	h := newHarness(t, []testApp{app}, func(c *Config) {
		c.DownloadMode, c.PeerAddr = new(imeapi.ModeLAN), "127.0.0.1:0"
	})
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	// A restarts with a new port: its old registration points nowhere.
	must(t, h.agent.Close())
	h.open()
	select {
	case <-h.agent.peer.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the restarted agent did not announce its DO cache")
	}
	counter := &blobCounter{h: h.srv}
	lan := httptest.NewServer(counter)
	t.Cleanup(lan.Close)
	b := peerAgent(t, h, "pc-b", lan.URL, imeapi.ModeLAN)
	must(t, b.Sync(context.Background()))
	do := doRecord(t, b, app.id())
	if do.BytesFromLanPeers == 0 || do.BytesFromHttp >= do.FileSize/2 {
		t.Fatalf("B after A's restart: %+v\nlog:\n%s", do, h.log())
	}
}

// TestReinstallFromDOCache: an app installed, uninstalled and installed
// again is taken from the agent's DO cache the second time (nothing
// downloaded, FileSizeInCache the whole file), and still verified.
func TestReinstallFromDOCache(t *testing.T) {
	payload := make([]byte, 2<<20)
	_, _ = rand.NewChaCha8([32]byte{11}).Read(payload)
	app := fileApp("Reinstall", "available").script("payload.bin", string(payload))
	h := newHarness(t, []testApp{app}, func(c *Config) {
		c.DownloadMode, c.PeerAddr = new(imeapi.ModeLAN), "127.0.0.1:0"
	})
	ctx := context.Background()
	if _, err := h.agent.Install(ctx, app.id()); err != nil {
		t.Fatal(err)
	}
	first := doRecord(t, h.agent, app.id())
	if first.TotalBytesDownloaded == 0 {
		t.Fatalf("first install downloaded nothing: %+v", first)
	}
	if _, err := h.agent.Uninstall(ctx, app.id()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.agent.Install(ctx, app.id()); err != nil {
		t.Fatal(err)
	}
	again := doRecord(t, h.agent, app.id())
	if again.TotalBytesDownloaded != 0 || again.FileSizeInCache != first.FileSize || again.PredefinedCallerApplication != DefaultCaller {
		t.Fatalf("reinstall: %+v, want nothing downloaded and %d bytes in cache", again, first.FileSize)
	}
	if _, err := os.Stat(h.programFiles("Reinstall", "app.txt")); err != nil {
		t.Fatalf("not installed again: %v", err)
	}
}
