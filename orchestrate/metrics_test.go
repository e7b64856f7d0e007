package orchestrate

import (
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/promtest"
	"github.com/imepipe/imepipe/peer"
	"github.com/imepipe/imepipe/service"
	dto "github.com/prometheus/client_model/go"
)

// TestMetricsAfterAgentRun: after a real sync (service + agent over
// loopback), the agent's /metrics (its piece server) and the service's,
// parsed with the Prometheus text parser, hold the families, types,
// labels and values of the agent's DO record and of what the service
// saw: every byte of the package from HTTP, one enrollment, the reports
// counted by EnforcementState, the blob bytes the service sent, requests
// by route pattern with no ids in their labels.
func TestMetricsAfterAgentRun(t *testing.T) {
	const size = 3<<20 + 12345
	payload := make([]byte, size)
	_, _ = rand.NewChaCha8([32]byte{13}).Read(payload)
	req := fileApp("Metered", "required").script("payload.bin", string(payload))
	avail := fileApp("Offered", "available")
	h := newHarness(t, []testApp{req, avail}, func(c *Config) {
		c.DownloadMode, c.PeerAddr = new(imeapi.ModeLAN), "127.0.0.1:0"
	})
	// The agent under test reaches the service through a counter of the
	// blob bytes on the wire (and the harness's report recorder); the
	// harness's own agent stays unenrolled.
	wire := &blobCounter{h: h.recordReports(h.srv)}
	ws := httptest.NewServer(wire)
	defer ws.Close()
	ag := peerAgent(t, h, "pc-metrics", ws.URL, imeapi.ModeLAN)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := ag.Sync(ctx); err != nil {
		t.Fatalf("sync: %v\nlog:\n%s", err, h.log())
	}
	do := doRecord(t, ag, req.id())
	var served service.AppInfo
	for _, a := range h.srv.Apps() {
		if a.ID == req.id() {
			served = a
		}
	}
	if do.FileSize != served.Size || do.FileId != served.DoFileID {
		t.Fatalf("DO record %s of %d bytes; the service serves %s of %d", do.FileId, do.FileSize, served.DoFileID, served.Size)
	}
	counter, gauge := dto.MetricType_COUNTER, dto.MetricType_GAUGE

	// The agent.
	am := promtest.Scrape(t, "http://"+ag.PeerAddr()+"/metrics")
	file := "file=" + do.FileId
	if got := am.Value(t, peer.MetricBytesFrom, counter, file, "source="+peer.SourceHTTP); got != float64(served.Size) || got != float64(do.BytesFromHttp) {
		t.Errorf("%s{http} = %v; the file is %d bytes, BytesFromHttp %d", peer.MetricBytesFrom, got, served.Size, do.BytesFromHttp)
	}
	if got := am.Value(t, peer.MetricBytesFrom, counter, file, "source="+peer.SourceLanPeers); got != float64(do.BytesFromLanPeers) {
		t.Errorf("%s{lan_peers} = %v, DO record %d", peer.MetricBytesFrom, got, do.BytesFromLanPeers)
	}
	if got := am.Value(t, peer.MetricFileSize, gauge, file); got != float64(do.FileSize) {
		t.Errorf("%s = %v, want %d", peer.MetricFileSize, got, do.FileSize)
	}
	if got := am.Value(t, MetricDownloadBytes, counter, "source="+peer.SourceHTTP); got != float64(served.Size) {
		t.Errorf("%s{http} = %v, want %d", MetricDownloadBytes, got, served.Size)
	}
	if got := am.Value(t, MetricDownloadBytes, counter, "source="+peer.SourceLanPeers); got != 0 {
		t.Errorf("%s{lan_peers} = %v, want 0", MetricDownloadBytes, got)
	}
	if got := am.Value(t, MetricDownloads, counter, "result=ok"); got != 1 {
		t.Errorf("%s{ok} = %v, want 1", MetricDownloads, got)
	}
	if got := am.Value(t, MetricAppResults, counter, "mode="+string(modeInstall), "enforcement_state=Success"); got != 1 {
		t.Errorf("%s{DetectInstall, Success} = %v, want 1", MetricAppResults, got)
	}
	if got := am.Value(t, MetricAppResults, counter, "mode="+string(modeDetect), "enforcement_state=NotAttempted"); got != 1 {
		t.Errorf("%s{Detect, NotAttempted} = %v, want 1", MetricAppResults, got)
	}
	if n := len(am.Family(t, MetricAppResults, counter).GetMetric()); n != 2 {
		t.Errorf("%s has %d series, want 2 (one per app)", MetricAppResults, n)
	}
	hist := am.Metric(t, MetricSyncDuration, dto.MetricType_HISTOGRAM, "kind="+SyncApp, "result=ok").GetHistogram()
	if hist.GetSampleCount() != 1 || len(hist.GetBucket()) == 0 {
		t.Errorf("%s{app, ok}: %d samples, %d buckets; want 1 sample", MetricSyncDuration, hist.GetSampleCount(), len(hist.GetBucket()))
	}

	// The service.
	ss := httptest.NewServer(h.srv.MetricsHandler())
	defer ss.Close()
	sm := promtest.Scrape(t, ss.URL)
	if got := sm.Value(t, service.MetricEnrollments, counter); got != 1 {
		t.Errorf("%s = %v, want 1", service.MetricEnrollments, got)
	}
	if got := sm.Value(t, service.MetricDevices, gauge); got != 1 {
		t.Errorf("%s = %v, want 1", service.MetricDevices, got)
	}
	byState := map[string]int{}
	for _, r := range *h.reports {
		byState[r.EnforcementState.String()]++
	}
	if byState["Success"] == 0 || byState["NotAttempted"] == 0 {
		t.Fatalf("reports posted: %v", byState)
	}
	for st, n := range byState {
		if got := sm.Value(t, service.MetricReports, counter, "enforcement_state="+st); got != float64(n) {
			t.Errorf("%s{%s} = %v; the agent posted %d", service.MetricReports, st, got, n)
		}
	}
	if n := len(sm.Family(t, service.MetricReports, counter).GetMetric()); n != len(byState) {
		t.Errorf("%s has %d series, the agent posted %d states", service.MetricReports, n, len(byState))
	}
	if got := sm.Value(t, service.MetricBlobBytes, counter, "source="+service.BlobSourceOrigin); got != float64(wire.sent.Load()) || got < float64(do.BytesFromHttp) {
		t.Errorf("%s{origin} = %v; %d blob bytes on the wire, the agent took %d over HTTP", service.MetricBlobBytes, got, wire.sent.Load(), do.BytesFromHttp)
	}
	if got := sm.Value(t, service.MetricReportedBytes, gauge, "source=http"); got != float64(do.BytesFromHttp-do.BytesFromCacheServer) {
		t.Errorf("%s{http} = %v, the DO record says %d", service.MetricReportedBytes, got, do.BytesFromHttp)
	}
	if got := sm.Value(t, service.MetricRequests, counter, "route=POST /api/v1/enroll", "code=200"); got != 1 {
		t.Errorf("%s{enroll, 200} = %v, want 1", service.MetricRequests, got)
	}
	if got := sm.Value(t, service.MetricRequests, counter, "route=GET /blobs/{name}", "code=206"); got < 1 {
		t.Errorf("%s{blobs, 206} = %v, want ranged blob requests", service.MetricRequests, got)
	}
	for _, m := range sm.Family(t, service.MetricRequests, counter).GetMetric() {
		for _, l := range m.GetLabel() {
			if v := l.GetValue(); strings.Contains(v, served.BlobName) || strings.Contains(v, req.id()) || strings.Contains(v, do.FileId) {
				t.Errorf("%s label %s=%q carries an id", service.MetricRequests, l.GetName(), v)
			}
		}
	}
	if got := sm.LabelNames(t, service.MetricRequests); strings.Join(got, ",") != "code,route" {
		t.Errorf("%s labels %v", service.MetricRequests, got)
	}
}
