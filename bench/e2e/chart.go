package e2e

import (
	"fmt"
	"io"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/bench"
)

// sourceColors are DO's sources in the order they are stacked.
var sourceColors = []bench.Legend{
	{Name: "HTTP (origin)", Color: "#4e79a7"}, {Name: "cache server", Color: "#59a14f"}, {Name: "LAN peers", Color: "#f28e2b"},
	{Name: "group peers", Color: "#b07aa1"}, {Name: "internet peers", Color: "#e15759"},
}

// WriteSVG draws the report: time to verified content (and the whole
// sync, lighter) per run, then each run's bytes stacked by DO source.
func (r *Report) WriteSVG(w io.Writer) error {
	times := bench.Panel{Title: "Time to verified content in IMECache (s); lighter: whole sync"}
	bytes := bench.Panel{Title: "Bytes by Delivery Optimization source"}
	for _, res := range r.Results {
		times.Rows = append(times.Rows, bench.Row{
			Label: res.Name, Under: &bench.Segment{Value: res.WallS, Color: "#c9d6e8"},
			Segments: []bench.Segment{{Value: res.ContentS, Color: "#4e79a7"}},
			Text:     fmt.Sprintf("%.2f s", res.ContentS),
		})
		row := bench.Row{Label: res.Name, Text: humanize.IBytes(uint64(res.DO.TotalBytesDownloaded))}
		for i, v := range bySource(res) {
			row.Segments = append(row.Segments, bench.Segment{Value: float64(v), Color: sourceColors[i].Color})
		}
		bytes.Rows = append(bytes.Rows, row)
	}
	title := fmt.Sprintf("imepipe bench e2e: %s, %s, origin %s, medians of %d", r.Profile, humanize.IBytes(uint64(r.Size)), rateText(r.OriginRate), r.Runs)
	return bench.WriteSVG(w, title, []bench.Panel{times, bytes}, sourceColors)
}

// bySource splits a run's bytes in sourceColors' order (BytesFromHttp
// includes the cache server's, as DO reports it).
func bySource(res Result) []int64 {
	d := res.DO
	return []int64{d.BytesFromHttp - d.BytesFromCacheServer, d.BytesFromCacheServer, d.BytesFromLanPeers, d.BytesFromGroupPeers, d.BytesFromInternetPeers}
}

func rateText(rate int64) string {
	if rate <= 0 {
		return "at loopback speed"
	}
	return "at " + humanize.IBytes(uint64(rate)) + "/s"
}
