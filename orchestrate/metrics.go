package orchestrate

import (
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/peer"
	"github.com/prometheus/client_golang/prometheus"
)

// Metric names of the agent, served with the DO cache's (peer's) on the
// piece server's /metrics.
const (
	MetricAppResults    = "imepipe_agent_app_results_total"     // counter {mode, enforcement_state}
	MetricSyncDuration  = "imepipe_agent_sync_duration_seconds" // histogram {kind, result}
	MetricDownloadBytes = "imepipe_agent_download_bytes_total"  // counter {source}
	MetricDownloads     = "imepipe_agent_downloads_total"       // counter {result}
)

// agentMetrics are the agent's own counters, kept in the Agent (never in
// a global registry): one app processing's outcome, one sync's duration,
// one delivery's bytes by DO source. The DO cache's figures are not here:
// peer.NewCacheCollector reads them from the DO records at scrape time.
type agentMetrics struct {
	results   *prometheus.CounterVec
	syncs     *prometheus.HistogramVec
	bytes     *prometheus.CounterVec
	downloads *prometheus.CounterVec
}

func newAgentMetrics() *agentMetrics {
	m := &agentMetrics{
		results: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricAppResults,
			Help: "App processings that came to an end, by mode (DetectInstall, DetectUninstall, Detect) and EnforcementState name."},
			[]string{"mode", "enforcement_state"}),
		syncs: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricSyncDuration,
			Help:    "Duration of app and compliance syncs (poller start to stop), by kind and result (ok or error).",
			Buckets: []float64{.1, .5, 1, 5, 15, 60, 300, 900, 3600}},
			[]string{"kind", "result"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricDownloadBytes,
			Help: "Bytes of app content downloads, by DO source (the sources of " + peer.MetricBytesFrom + "), from each download's DO record."},
			[]string{"source"}),
		downloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricDownloads,
			Help: "App content downloads, by result (ok or error)."},
			[]string{"result"}),
	}
	// Every source and result from the start, at 0, so that rates and
	// absent series are not confused.
	for _, src := range []string{peer.SourceHTTP, peer.SourceCacheServer, peer.SourceLanPeers, peer.SourceGroupPeers, peer.SourceInternetPeers} {
		m.bytes.WithLabelValues(src)
	}
	m.downloads.WithLabelValues("ok")
	m.downloads.WithLabelValues("error")
	return m
}

// collectors are the Collectors to register for the agent's /metrics.
func (m *agentMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.results, m.syncs, m.bytes, m.downloads}
}

// result counts one app processing's outcome.
func (m *agentMetrics) result(md mode, r result) {
	m.results.WithLabelValues(string(md), r.enforcement.String()).Inc()
}

// sync records a sync that started at start and ends now, with *err its
// result (a pointer, to be deferred before the error is known).
func (m *agentMetrics) sync(clock Clock, kind string, start time.Time, err *error) {
	res := "ok"
	if *err != nil {
		res = "error"
	}
	m.syncs.WithLabelValues(kind, res).Observe(clock.Now().Sub(start).Seconds())
}

// download counts one delivery's bytes by DO source, from its DO record
// (BytesFromHttp less the cache server's is "http", as in peer's metrics).
func (m *agentMetrics) download(st fetch.Status, err error) {
	res := "ok"
	if err != nil {
		res = "error"
	}
	m.downloads.WithLabelValues(res).Inc()
	for _, x := range []struct {
		src string
		n   int64
	}{{peer.SourceHTTP, st.BytesFromHttp - st.BytesFromCacheServer}, {peer.SourceCacheServer, st.BytesFromCacheServer},
		{peer.SourceLanPeers, st.BytesFromLanPeers}, {peer.SourceGroupPeers, st.BytesFromGroupPeers}, {peer.SourceInternetPeers, st.BytesFromInternetPeers}} {
		if x.n > 0 {
			m.bytes.WithLabelValues(x.src).Add(float64(x.n))
		}
	}
}
