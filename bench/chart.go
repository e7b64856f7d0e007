package bench

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// Panel is one horizontal bar chart of a report: a row per contender, each
// bar made of stacked segments, with a text after it.
type Panel struct {
	Title string
	Rows  []Row
}

// Row is one bar.
type Row struct {
	Label    string
	Segments []Segment // stacked left to right; a segment may overlay: see Under
	Text     string
	// Under is drawn first, from the left, behind the segments (a lighter
	// total behind its part, say).
	Under *Segment
}

// Segment is a length in the panel's unit and its colour.
type Segment struct {
	Value float64
	Color string
}

// Legend names a colour under the chart.
type Legend struct{ Name, Color string }

// chart geometry, in SVG user units.
const (
	chartWidth = 760
	labelWidth = 140
	barArea    = chartWidth - labelWidth - 140
	barHeight  = 18
	rowHeight  = 26
)

// WriteSVG draws panels one under the other, each scaled to its own
// longest bar, with a title on top and the legend at the bottom.
func WriteSVG(w io.Writer, title string, panels []Panel, legend []Legend) error {
	var b strings.Builder
	height := 40
	for _, p := range panels {
		height += 40 + len(p.Rows)*rowHeight
	}
	if len(legend) > 0 {
		height += 30
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", chartWidth, height)
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	y := 45
	for _, p := range panels {
		fmt.Fprintf(&b, `<text x="10" y="%d" font-weight="bold">%s</text>`+"\n", y, html.EscapeString(p.Title))
		y += 12
		longest := 0.0
		for _, r := range p.Rows {
			sum := 0.0
			for _, s := range r.Segments {
				sum += s.Value
			}
			if r.Under != nil {
				sum = max(sum, r.Under.Value)
			}
			longest = max(longest, sum)
		}
		for _, r := range p.Rows {
			fmt.Fprintf(&b, `<text x="10" y="%d">%s</text>`+"\n", y+13, html.EscapeString(r.Label))
			end := labelWidth
			if r.Under != nil {
				wd := scale(r.Under.Value, longest)
				rect(&b, labelWidth, y, wd, r.Under.Color)
				end = labelWidth + wd
			}
			x := labelWidth
			for _, s := range r.Segments {
				if wd := scale(s.Value, longest); wd > 0 {
					rect(&b, x, y, wd, s.Color)
					x += wd
				}
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", max(x, end)+6, y+13, html.EscapeString(r.Text))
			y += rowHeight
		}
		y += 28
	}
	x := labelWidth
	for _, l := range legend {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			x, y-8, l.Color, x+14, y+1, html.EscapeString(l.Name))
		x += 14 + 7*len(l.Name) + 14
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func rect(b *strings.Builder, x, y, w int, color string) {
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", x, y, w, barHeight, color)
}

func scale(v, longest float64) int {
	if longest <= 0 || v <= 0 {
		return 0
	}
	return int(v / longest * barArea)
}
