package peer

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// MetricsHandler serves the DO figures of every content in c in the
// Prometheus text exposition format (version 0.0.4), written by hand:
// imepipe_do_bytes_from_total{file,source}, imepipe_do_bytes_to_total{file,peer},
// imepipe_do_file_size_bytes, imepipe_do_cached_bytes and
// imepipe_do_download_seconds, one series per DoFileId.
func MetricsHandler(c *Cache) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = WriteMetrics(w, c)
	})
}

// WriteMetrics writes the metrics of MetricsHandler to w.
func WriteMetrics(w io.Writer, c *Cache) error {
	bw := bufio.NewWriter(w)
	type series struct{ labels, value string }
	fams := []struct {
		name, typ, help string
		rows            []series
	}{
		{"imepipe_do_bytes_from_total", "counter", "Bytes downloaded, by source (BytesFromHttp excludes the cache server here).", nil},
		{"imepipe_do_bytes_to_total", "counter", "Bytes uploaded to peers, by peer type.", nil},
		{"imepipe_do_file_size_bytes", "gauge", "FileSize.", nil},
		{"imepipe_do_cached_bytes", "gauge", "FileSizeInCache.", nil},
		{"imepipe_do_download_seconds", "gauge", "DownloadDuration.", nil},
	}
	for _, ct := range c.List() {
		s := ct.Status()
		f := `file="` + escapeLabel(s.FileId) + `"`
		for _, x := range []struct {
			src string
			n   int64
		}{{"http", s.BytesFromHttp - s.BytesFromCacheServer}, {"cache_server", s.BytesFromCacheServer},
			{"lan_peers", s.BytesFromLanPeers}, {"group_peers", s.BytesFromGroupPeers}, {"internet_peers", s.BytesFromInternetPeers}} {
			fams[0].rows = append(fams[0].rows, series{f + `,source="` + x.src + `"`, fmt.Sprint(x.n)})
		}
		for _, x := range []struct {
			typ string
			n   int64
		}{{"lan", s.BytesToLanPeers}, {"group", s.BytesToGroupPeers}, {"internet", s.BytesToInternetPeers}} {
			fams[1].rows = append(fams[1].rows, series{f + `,peer="` + x.typ + `"`, fmt.Sprint(x.n)})
		}
		fams[2].rows = append(fams[2].rows, series{f, fmt.Sprint(s.FileSize)})
		fams[3].rows = append(fams[3].rows, series{f, fmt.Sprint(s.FileSizeInCache)})
		fams[4].rows = append(fams[4].rows, series{f, fmt.Sprintf("%g", time.Duration(s.DownloadDuration).Seconds())})
	}
	for _, fam := range fams {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", fam.name, fam.help, fam.name, fam.typ)
		for _, r := range fam.rows {
			fmt.Fprintf(bw, "%s{%s} %s\n", fam.name, r.labels, r.value)
		}
	}
	return bw.Flush()
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
