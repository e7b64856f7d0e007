package e2e

import (
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/dustin/go-humanize"
)

// chart geometry, in SVG user units.
const (
	chartWidth = 760
	labelWidth = 130
	barArea    = chartWidth - labelWidth - 80
	barHeight  = 18
	rowHeight  = 26
)

// sourceColors are DO's sources in the order they are stacked.
var sourceColors = []struct{ name, color string }{
	{"HTTP (origin)", "#4e79a7"}, {"cache server", "#59a14f"}, {"LAN peers", "#f28e2b"},
	{"group peers", "#b07aa1"}, {"internet peers", "#e15759"},
}

// WriteSVG draws the report: time to verified content (and the whole
// sync, lighter) per run, then each run's bytes stacked by DO source.
func (r *Report) WriteSVG(w io.Writer) error {
	var b strings.Builder
	n := len(r.Results)
	height := 70 + n*rowHeight + 60 + n*rowHeight + 30
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", chartWidth, height)
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">%s</text>`+"\n",
		html.EscapeString(fmt.Sprintf("imepipe bench e2e: %s, %s, origin %s, medians of %d", r.Profile, humanize.IBytes(uint64(r.Size)), rateText(r.OriginRate), r.Runs)))

	y := 45
	fmt.Fprintf(&b, `<text x="10" y="%d" font-weight="bold">Time to verified content in IMECache (s); lighter: whole sync</text>`+"\n", y)
	y += 12
	maxS := 0.0
	for _, res := range r.Results {
		maxS = max(maxS, res.WallS, res.ContentS)
	}
	for _, res := range r.Results {
		label(&b, y, res.Name)
		bar(&b, labelWidth, y, scale(res.WallS, maxS), "#c9d6e8")
		bar(&b, labelWidth, y, scale(res.ContentS, maxS), "#4e79a7")
		fmt.Fprintf(&b, `<text x="%d" y="%d">%.2f s</text>`+"\n", labelWidth+scale(res.WallS, maxS)+6, y+13, res.ContentS)
		y += rowHeight
	}

	y += 30
	fmt.Fprintf(&b, `<text x="10" y="%d" font-weight="bold">Bytes by Delivery Optimization source</text>`+"\n", y)
	y += 12
	var maxB int64
	for _, res := range r.Results {
		maxB = max(maxB, res.DO.TotalBytesDownloaded)
	}
	for _, res := range r.Results {
		label(&b, y, res.Name)
		x := labelWidth
		for i, v := range bySource(res) {
			wd := scale(float64(v), float64(maxB))
			if wd > 0 {
				bar(&b, x, y, wd, sourceColors[i].color)
				x += wd
			}
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", x+6, y+13, humanize.IBytes(uint64(res.DO.TotalBytesDownloaded)))
		y += rowHeight
	}
	x := labelWidth
	for _, s := range sourceColors {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", x, y+4, s.color, x+14, y+13, s.name)
		x += 14 + 7*len(s.name) + 14
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// bySource splits a run's bytes in sourceColors' order (BytesFromHttp
// includes the cache server's, as DO reports it).
func bySource(res Result) []int64 {
	d := res.DO
	return []int64{d.BytesFromHttp - d.BytesFromCacheServer, d.BytesFromCacheServer, d.BytesFromLanPeers, d.BytesFromGroupPeers, d.BytesFromInternetPeers}
}

func label(b *strings.Builder, y int, name string) {
	fmt.Fprintf(b, `<text x="10" y="%d">%s</text>`+"\n", y+13, html.EscapeString(name))
}

func bar(b *strings.Builder, x, y, w int, color string) {
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", x, y, w, barHeight, color)
}

func scale(v, maxV float64) int {
	if maxV <= 0 || v <= 0 {
		return 0
	}
	return int(v / maxV * barArea)
}

func rateText(rate int64) string {
	if rate <= 0 {
		return "at loopback speed"
	}
	return "at " + humanize.IBytes(uint64(rate)) + "/s"
}
