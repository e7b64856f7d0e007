package console

import (
	"fmt"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/imeapi"
)

// The Delivery Optimization sources a report's DO record counts, in
// chart order. BytesFromHttp includes BytesFromCacheServer, as in
// Get-DeliveryOptimizationStatus, so HTTP here is the origin's share.
var sources = [...]struct{ Name, Class string }{
	{"HTTP (origin)", "src-http"},
	{"Cache server", "src-cache"},
	{"LAN peers", "src-lan"},
	{"Group peers", "src-group"},
	{"Internet peers", "src-internet"},
}

// bytesBySource is one DO record's (or a sum of records') bytes per source.
type bytesBySource [len(sources)]int64

func fromDO(m map[string]int64) bytesBySource {
	return bytesBySource{m["BytesFromHttp"] - m["BytesFromCacheServer"], m["BytesFromCacheServer"],
		m["BytesFromLanPeers"], m["BytesFromGroupPeers"], m["BytesFromInternetPeers"]}
}

func (b bytesBySource) total() int64 {
	var n int64
	for _, v := range b {
		n += v
	}
	return n
}

// deliveryRow is one app's (or the fleet's) downloads.
type deliveryRow struct {
	Label   string
	AppID   string // "" for the overall row
	Devices int    // reports with a DO record
	Bytes   bytesBySource
	Total   int64
	// PercentPeerCaching is the peers' share of the bytes, as DO computes it.
	PercentPeerCaching float64
	// Saved is what did not come from the origin (cache server and peers).
	Saved        int64
	PercentSaved float64
}

// sourceCell is one source's figure in a table.
type sourceCell struct {
	Name, Class string
	Bytes       int64
}

// Cells pairs each source's name with its bytes, for the table.
func (r deliveryRow) Cells() []sourceCell {
	out := make([]sourceCell, len(sources))
	for i, s := range sources {
		out[i] = sourceCell{s.Name, s.Class, r.Bytes[i]}
	}
	return out
}

func (r *deliveryRow) finish() {
	r.Total = r.Bytes.total()
	if r.Total > 0 {
		peers := r.Bytes[2] + r.Bytes[3] + r.Bytes[4]
		r.PercentPeerCaching = 100 * float64(peers) / float64(r.Total)
		r.Saved = r.Total - r.Bytes[0]
		r.PercentSaved = 100 * float64(r.Saved) / float64(r.Total)
	}
}

// deliveryRows sums the DO records of the last reports per app, and
// overall (the first row).
func deliveryRows(apps []App, fleet imeapi.Status) []deliveryRow {
	all := deliveryRow{Label: "All apps"}
	rows := make([]deliveryRow, len(apps))
	idx := map[string]int{}
	for i, a := range apps {
		rows[i] = deliveryRow{Label: a.DisplayName, AppID: a.ID}
		idx[strings.ToLower(a.ID)] = i
	}
	for _, d := range fleet.Devices {
		for _, as := range d.Apps {
			i, ok := idx[strings.ToLower(as.AppID)]
			if !ok || len(as.DOBytes) == 0 {
				continue
			}
			b := fromDO(as.DOBytes)
			for k, v := range b {
				rows[i].Bytes[k] += v
				all.Bytes[k] += v
			}
			rows[i].Devices++
			all.Devices++
		}
	}
	all.finish()
	for i := range rows {
		rows[i].finish()
	}
	return append([]deliveryRow{all}, rows...)
}

// The chart's geometry, in SVG user units.
const (
	chartLabelW = 200
	chartBarW   = 560
	chartRowH   = 30
	chartBarH   = 20
	chartLegend = 34
)

// chart is a horizontal stacked bar per row, scaled to the largest total.
type chart struct {
	Width, Height int
	BarX          int
	Bars          []bar
	Legend        []legendItem
}

type bar struct {
	Y, TextY  int
	Label     string
	TotalX    float64
	TotalText string
	Segs      []segment
}

type segment struct {
	X, W         float64
	Class, Title string
	Bytes        int64
}

type legendItem struct {
	X, TextX int
	Class    string
	Name     string
}

func newChart(rows []deliveryRow) chart {
	c := chart{Width: chartLabelW + chartBarW + 120, BarX: chartLabelW, Height: chartLegend + len(rows)*chartRowH + 8}
	for i, s := range sources {
		c.Legend = append(c.Legend, legendItem{X: i * 150, TextX: i*150 + 18, Class: s.Class, Name: s.Name})
	}
	var most int64
	for _, r := range rows {
		most = max(most, r.Total)
	}
	for i, r := range rows {
		y := chartLegend + i*chartRowH
		b := bar{Y: y, TextY: y + chartBarH*3/4, Label: r.Label, TotalText: humanize.IBytes(uint64(max(r.Total, 0)))}
		x := float64(chartLabelW)
		for k, s := range sources {
			if r.Bytes[k] <= 0 || most == 0 {
				continue
			}
			w := float64(chartBarW) * float64(r.Bytes[k]) / float64(most)
			b.Segs = append(b.Segs, segment{X: x, W: w, Class: s.Class, Bytes: r.Bytes[k],
				Title: fmt.Sprintf("%s: %s from %s", r.Label, humanize.IBytes(uint64(r.Bytes[k])), s.Name)})
			x += w
		}
		b.TotalX = x + 6
		c.Bars = append(c.Bars, b)
	}
	return c
}
