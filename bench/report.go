package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Report is the outcome of a benchmark: what was measured, each
// contender's medians, and the ratios of the baselines' median wall times
// to imepipe's ("sequential-stdlib/imepipe": 3 means three times slower).
type Report struct {
	Size         int64   `json:"size"`
	Profile      Profile `json:"profile"`
	Runs         int     `json:"runs"`
	Seed         uint64  `json:"seed"`
	Files        int     `json:"files"`
	PackageBytes int64   `json:"package_bytes"`
	CPUs         int     `json:"cpus"`
	Load         Load    `json:"load_avg_1m"`
	// CacheDropped says the page cache was dropped before every run (root
	// only), the package read back in: every contender starts alike.
	CacheDropped bool               `json:"page_cache_dropped"`
	Results      []Result           `json:"results"`
	Ratios       map[string]float64 `json:"ratios"`
	// Phases, when asked for, is where the time goes.
	Phases *Phases `json:"phases,omitempty"`
	// Skipped names contenders left out, with the reason.
	Skipped map[string]string `json:"skipped,omitempty"`
}

// Load is the one-minute load average before and after the runs (-1
// where unknown): the machine's business besides the benchmark.
type Load struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

func (r *Report) skip(name, why string) {
	if r.Skipped == nil {
		r.Skipped = map[string]string{}
	}
	r.Skipped[name] = why
}

// WriteText writes the report as a small table followed by the ratios.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "bench local: %s, %s in %d files, package %s, %d run(s) each, medians (%d CPUs, load %.2f → %.2f)\n",
		r.Profile, mib(r.Size), r.Files, mib(r.PackageBytes), r.Runs, r.CPUs, r.Load.Start, r.Load.End)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "contender\twall s\tuser s\tsys s\tpeak RSS\tMB/s\t")
	floored := false
	for _, res := range r.Results {
		rss := mib(res.PeakRSS)
		if res.RSSFloor > 0 && float64(res.PeakRSS) < 1.1*float64(res.RSSFloor) {
			rss, floored = "≤"+rss, true
		}
		rate := "-"
		if res.WallS > 0 {
			rate = fmt.Sprintf("%.0f", float64(r.Size)/1e6/res.WallS)
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%s\t%s\t\n", res.Name, res.WallS, res.UserS, res.SysS, rss, rate)
	}
	tw.Flush()
	if r.CacheDropped {
		b.WriteString("each run started with the page cache dropped and the package read back in\n")
	}
	if floored {
		b.WriteString("≤: peak RSS at the floor a child inherits from this process; the true peak may be lower\n")
	}
	names := make([]string, 0, len(r.Ratios))
	for n := range r.Ratios {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "%s: %.2f×\n", n, r.Ratios[n])
	}
	skipped := make([]string, 0, len(r.Skipped))
	for n := range r.Skipped {
		skipped = append(skipped, n)
	}
	slices.Sort(skipped)
	for _, n := range skipped {
		fmt.Fprintf(&b, "%s: skipped: %s\n", n, r.Skipped[n])
	}
	if r.Phases != nil {
		for _, c := range []struct {
			name string
			ph   []Phase
		}{{NameImepipe, r.Phases.Imepipe}, {NameStdlib, r.Phases.Stdlib}} {
			fmt.Fprintf(&b, "phases of %s:", c.name)
			for _, p := range c.ph {
				fmt.Fprintf(&b, " %s %.2fs;", p.Name, p.Seconds)
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mib formats a byte count in MiB (GiB from 10 GiB up).
func mib(n int64) string {
	if n >= 10<<30 {
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// WriteSVG draws the report: each contender's median wall time, then its
// CPU time split into user and system.
func (r *Report) WriteSVG(w io.Writer) error {
	wall := Panel{Title: "Wall time, median (s)"}
	cpu := Panel{Title: "CPU time, median (s): user, then system"}
	if len(r.Results) > 0 {
		wall.Title += fmt.Sprintf(", and how many times %s's", r.Results[0].Name)
	}
	for _, res := range r.Results {
		text := fmt.Sprintf("%.2f s", res.WallS)
		if v, ok := r.Ratios[res.Name+"/"+r.Results[0].Name]; ok {
			text += fmt.Sprintf(", %.2f×", v)
		}
		wall.Rows = append(wall.Rows, Row{Label: res.Name, Segments: []Segment{{Value: res.WallS, Color: "#4e79a7"}}, Text: text})
		cpu.Rows = append(cpu.Rows, Row{Label: res.Name, Segments: []Segment{{Value: res.UserS, Color: "#59a14f"}, {Value: res.SysS, Color: "#f28e2b"}},
			Text: fmt.Sprintf("%.2f + %.2f s", res.UserS, res.SysS)})
	}
	title := fmt.Sprintf("imepipe bench local: %s, %s in %d files, %d run(s) each", r.Profile, mib(r.Size), r.Files, r.Runs)
	return WriteSVG(w, title, []Panel{wall, cpu}, []Legend{{Name: "user", Color: "#59a14f"}, {Name: "system", Color: "#f28e2b"}})
}
