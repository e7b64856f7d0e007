package service

import (
	"io"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metric names of the service (Server.MetricsHandler).
const (
	MetricRequests      = "imepipe_service_requests_total"    // counter {route, code}
	MetricEnrollments   = "imepipe_service_enrollments_total" // counter
	MetricReports       = "imepipe_service_reports_total"     // counter {enforcement_state}
	MetricBlobBytes     = "imepipe_service_blob_bytes_total"  // counter {source}
	MetricDevices       = "imepipe_service_devices"           // gauge
	MetricReportedBytes = "imepipe_service_reported_do_bytes" // gauge {source}
)

// BlobSourceOrigin is the source label of MetricBlobBytes for the blobs
// the service sends itself (GET /blobs/{name}); blobs on BlobBaseURL are
// served elsewhere and not counted.
const BlobSourceOrigin = "origin"

// RouteUnmatched is the route label of requests no route matched (an
// unclean path, a method a route does not take).
const RouteUnmatched = "unmatched"

// metrics are one Server's: a registry of its own (two Servers in a
// process, as in tests and bench fleet, never share one).
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	enrollments prometheus.Counter
	reports     *prometheus.CounterVec
	blobBytes   *prometheus.CounterVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricRequests,
			Help: "HTTP requests answered, by route pattern (never the raw path) and status code."}, []string{"route", "code"}),
		enrollments: prometheus.NewCounter(prometheus.CounterOpts{Name: MetricEnrollments,
			Help: "Devices enrolled (successful POST /api/v1/enroll)."}),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricReports,
			Help: "App reports accepted, by EnforcementState name."}, []string{"enforcement_state"}),
		blobBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricBlobBytes,
			Help: "Bytes of app content sent by the service, by source (origin: its own /blobs/)."}, []string{"source"}),
	}
	m.blobBytes.WithLabelValues(BlobSourceOrigin)
	m.reg.MustRegister(m.requests, m.enrollments, m.reports, m.blobBytes, &storeCollector{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MetricsHandler serves the service's metrics in the Prometheus
// exposition format: requests by route and code, enrollments, reports by
// EnforcementState, blob bytes by source, enrolled devices, the DO bytes
// by source of the devices' last reports, and the Go and process
// collectors. It asks for no token: serve it on a listener of its own
// (serve --metrics-listen), never on the API's.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// observe counts one answered request: its route pattern (r.Pattern, set
// by the mux) and code, and a blob's bytes.
func (m *metrics) observe(r *http.Request, w *countingWriter) {
	route := r.Pattern
	if route == "" {
		route = RouteUnmatched
	}
	code := w.code
	if code == 0 {
		code = http.StatusOK
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	if route == routeBlob && w.n > 0 {
		m.blobBytes.WithLabelValues(BlobSourceOrigin).Add(float64(w.n))
	}
}

// report counts accepted reports.
func (m *metrics) report(reps []storedReport) {
	for _, r := range reps {
		m.reports.WithLabelValues(r.Report.EnforcementState.String()).Inc()
	}
}

// routeBlob is the pattern of the blob route.
const routeBlob = "GET /blobs/{name}"

// countingWriter records the status code and body bytes of an answer. It
// keeps the underlying writer's ReadFrom (sendfile for blobs) and its
// ResponseController features (Unwrap).
type countingWriter struct {
	http.ResponseWriter
	code int
	n    int64
}

func (w *countingWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// ReadFrom copies r through the underlying writer's ReadFrom when it has one.
func (w *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.n += n
	return n, err
}

// Unwrap is the underlying writer, for http.ResponseController.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// storeCollector reads the state store at scrape time: the number of
// enrolled devices, and the DO bytes by source of every device's last
// report of each app (what the fleet took from HTTP, the cache server
// and peers, as the devices' DO records say).
type storeCollector struct{ s *Server }

var (
	devicesDesc  = prometheus.NewDesc(MetricDevices, "Enrolled devices.", nil, nil)
	reportedDesc = prometheus.NewDesc(MetricReportedBytes,
		"DO bytes by source in the devices' last report of each app (http excludes the cache server).", []string{"source"}, nil)
)

// reportedSources maps the DO record's fields to the source label, as
// peer's imepipe_do_bytes_from_total names them.
var reportedSources = []struct{ field, source string }{
	{"BytesFromCacheServer", "cache_server"}, {"BytesFromLanPeers", "lan_peers"},
	{"BytesFromGroupPeers", "group_peers"}, {"BytesFromInternetPeers", "internet_peers"},
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- devicesDesc
	ch <- reportedDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	devs, err := c.s.st.devices()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(devicesDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(devicesDesc, prometheus.GaugeValue, float64(len(devs)))
	sum := map[string]int64{}
	for _, d := range devs {
		reps, err := c.s.st.reports(d.ID)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(reportedDesc, err)
			return
		}
		for _, rep := range reps {
			b := doBytes(rep.Report.DOStatus)
			sum["http"] += b["BytesFromHttp"] - b["BytesFromCacheServer"]
			for _, x := range reportedSources {
				sum[x.source] += b[x.field]
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(reportedDesc, prometheus.GaugeValue, float64(sum["http"]), "http")
	for _, x := range reportedSources {
		ch <- prometheus.MustNewConstMetric(reportedDesc, prometheus.GaugeValue, float64(sum[x.source]), x.source)
	}
}
