package peer

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/imepipe/imepipe/internal/promtest"
	dto "github.com/prometheus/client_model/go"
)

// TestMetrics: the cache's /metrics, parsed with the Prometheus text
// parser, has every DO family with its type and labels, and the values of
// the content's DO record (every byte from HTTP, none from peers).
func TestMetrics(t *testing.T) {
	f := newTestFile(t, 2*testPiece, 30)
	o := newOrigin(t, f, 0)
	c, err := OpenCache(t.TempDir(), CacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Download(context.Background(), DownloadConfig{Info: infoOf(f, o), Hashes: f.hashes, Path: filepath.Join(t.TempDir(), "x.bin"), Cache: c}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(MetricsHandler(c))
	defer srv.Close()
	m := promtest.Scrape(t, srv.URL)
	counter, gauge := dto.MetricType_COUNTER, dto.MetricType_GAUGE
	file := "file=" + f.id
	if got := m.Value(t, MetricBytesFrom, counter, file, "source="+SourceHTTP); got != float64(len(f.data)) {
		t.Errorf("bytes from http %v, want %d", got, len(f.data))
	}
	for _, src := range []string{SourceCacheServer, SourceLanPeers, SourceGroupPeers, SourceInternetPeers} {
		if got := m.Value(t, MetricBytesFrom, counter, file, "source="+src); got != 0 {
			t.Errorf("bytes from %s %v, want 0", src, got)
		}
	}
	for _, p := range []string{PeerLan, PeerGroup, PeerInternet} {
		if got := m.Value(t, MetricBytesTo, counter, file, "peer="+p); got != 0 {
			t.Errorf("bytes to %s %v, want 0", p, got)
		}
	}
	if got := m.Value(t, MetricFileSize, gauge, file); got != float64(len(f.data)) {
		t.Errorf("file size %v, want %d", got, len(f.data))
	}
	if got := m.Value(t, MetricCachedBytes, gauge, file); got != float64(len(f.data)) {
		t.Errorf("cached %v, want %d", got, len(f.data))
	}
	if got := m.Value(t, MetricCacheFiles, gauge); got != 1 {
		t.Errorf("cache files %v, want 1", got)
	}
	if d := m.Value(t, MetricDownloadDuration, gauge, file); d < 0 {
		t.Errorf("download seconds %v", d)
	}
	if got := m.LabelNames(t, MetricBytesFrom); !slices.Equal(got, []string{"file", "source"}) {
		t.Errorf("%s labels %v", MetricBytesFrom, got)
	}
	// Two handlers over two caches in one process: no shared registry.
	c2, err := OpenCache(t.TempDir(), CacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(MetricsHandler(c2))
	defer srv2.Close()
	if got := promtest.Scrape(t, srv2.URL).Value(t, MetricCacheFiles, gauge); got != 0 {
		t.Errorf("an empty cache reports %v files", got)
	}
}
