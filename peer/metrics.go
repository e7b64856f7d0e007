package peer

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metric names of the DO cache, one series per DoFileId (label file).
const (
	MetricBytesFrom        = "imepipe_do_bytes_from_total" // counter {file, source}
	MetricBytesTo          = "imepipe_do_bytes_to_total"   // counter {file, peer}
	MetricFileSize         = "imepipe_do_file_size_bytes"  // gauge {file}
	MetricCachedBytes      = "imepipe_do_cached_bytes"     // gauge {file}
	MetricDownloadDuration = "imepipe_do_download_seconds" // gauge {file}
	MetricCacheFiles       = "imepipe_do_cache_files"      // gauge: contents in the cache
)

// Values of the source label of MetricBytesFrom and of the peer label of
// MetricBytesTo. SourceHTTP excludes the cache server's bytes (they are
// SourceCacheServer), unlike DO's BytesFromHttp.
const (
	SourceHTTP          = "http"
	SourceCacheServer   = "cache_server"
	SourceLanPeers      = "lan_peers"
	SourceGroupPeers    = "group_peers"
	SourceInternetPeers = "internet_peers"
	PeerLan             = "lan"
	PeerGroup           = "group"
	PeerInternet        = "internet"
)

// cacheCollector is a prometheus.Collector over a Cache: at each scrape it
// reads every content's Status (the DO record stays the one source of
// truth; nothing is counted twice). It keeps no state of its own.
type cacheCollector struct {
	c                                        *Cache
	from, to, size, cached, duration, nfiles *prometheus.Desc
}

// NewCacheCollector returns a Collector of c's DO figures, read from
// each content's Status at scrape time: MetricBytesFrom, MetricBytesTo,
// MetricFileSize, MetricCachedBytes, MetricDownloadDuration and
// MetricCacheFiles. Register it in a registry of your own; it does not
// register itself anywhere.
func NewCacheCollector(c *Cache) prometheus.Collector {
	file := []string{"file"}
	return &cacheCollector{
		c:        c,
		from:     prometheus.NewDesc(MetricBytesFrom, "Bytes downloaded into the DO cache, by source (http excludes the cache server here).", []string{"file", "source"}, nil),
		to:       prometheus.NewDesc(MetricBytesTo, "Bytes uploaded to peers from the DO cache, by peer type.", []string{"file", "peer"}, nil),
		size:     prometheus.NewDesc(MetricFileSize, "FileSize of the DO record.", file, nil),
		cached:   prometheus.NewDesc(MetricCachedBytes, "FileSizeInCache of the DO record.", file, nil),
		duration: prometheus.NewDesc(MetricDownloadDuration, "DownloadDuration of the DO record, in seconds.", file, nil),
		nfiles:   prometheus.NewDesc(MetricCacheFiles, "Contents held in the DO cache (complete or downloading).", nil, nil),
	}
}

// Describe sends the descriptors of every metric Collect sends.
func (cc *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{cc.from, cc.to, cc.size, cc.cached, cc.duration, cc.nfiles} {
		ch <- d
	}
}

// Collect sends the current figures of every content in the cache.
func (cc *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	list := cc.c.List()
	ch <- prometheus.MustNewConstMetric(cc.nfiles, prometheus.GaugeValue, float64(len(list)))
	for _, ct := range list {
		s := ct.Status()
		f := s.FileId
		for _, x := range []struct {
			src string
			n   int64
		}{{SourceHTTP, s.BytesFromHttp - s.BytesFromCacheServer}, {SourceCacheServer, s.BytesFromCacheServer},
			{SourceLanPeers, s.BytesFromLanPeers}, {SourceGroupPeers, s.BytesFromGroupPeers}, {SourceInternetPeers, s.BytesFromInternetPeers}} {
			ch <- prometheus.MustNewConstMetric(cc.from, prometheus.CounterValue, float64(x.n), f, x.src)
		}
		for _, x := range []struct {
			typ string
			n   int64
		}{{PeerLan, s.BytesToLanPeers}, {PeerGroup, s.BytesToGroupPeers}, {PeerInternet, s.BytesToInternetPeers}} {
			ch <- prometheus.MustNewConstMetric(cc.to, prometheus.CounterValue, float64(x.n), f, x.typ)
		}
		ch <- prometheus.MustNewConstMetric(cc.size, prometheus.GaugeValue, float64(s.FileSize), f)
		ch <- prometheus.MustNewConstMetric(cc.cached, prometheus.GaugeValue, float64(s.FileSizeInCache), f)
		ch <- prometheus.MustNewConstMetric(cc.duration, prometheus.GaugeValue, time.Duration(s.DownloadDuration).Seconds(), f)
	}
}

// MetricsHandler serves, in the Prometheus exposition format, c's DO
// figures (NewCacheCollector) and the extra collectors given, from a
// registry of its own (nothing is registered globally, so two caches in
// one process never clash). It panics if a collector cannot be
// registered (a duplicate metric name), which is a programming error.
func MetricsHandler(c *Cache, extra ...prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCacheCollector(c))
	reg.MustRegister(extra...)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
