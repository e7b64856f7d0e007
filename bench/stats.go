package bench

import (
	"slices"
	"time"
)

// Sample is one timed run of a child process, from its rusage.
type Sample struct {
	Wall time.Duration
	User time.Duration // CPU time of the process and its waited-for descendants
	Sys  time.Duration
	// PeakRSS is the largest resident set of the process or any
	// waited-for descendant, in bytes (0 where the system does not say).
	PeakRSS int64
	// RSSFloor is the lowest PeakRSS could read: on Linux a child
	// inherits the high-water mark of the process that starts it, which
	// Local lowers to its own resident set before each run.
	RSSFloor int64
}

// Result is one contender's summary over its runs: the median of each
// measure, and every run's wall time in run order.
type Result struct {
	Name     string    `json:"name"`
	WallS    float64   `json:"wall_s"`
	UserS    float64   `json:"user_s"`
	SysS     float64   `json:"sys_s"`
	PeakRSS  int64     `json:"peak_rss_bytes"`
	RSSFloor int64     `json:"rss_floor_bytes"` // the largest Sample.RSSFloor
	WallRuns []float64 `json:"wall_runs_s"`
}

// Median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// Summarize reduces a contender's samples to their medians.
func Summarize(name string, samples []Sample) Result {
	r := Result{Name: name, WallRuns: []float64{}}
	var user, sys, rss []float64
	for _, s := range samples {
		r.WallRuns = append(r.WallRuns, s.Wall.Seconds())
		user = append(user, s.User.Seconds())
		sys = append(sys, s.Sys.Seconds())
		rss = append(rss, float64(s.PeakRSS))
		r.RSSFloor = max(r.RSSFloor, s.RSSFloor)
	}
	r.WallS = Median(r.WallRuns)
	r.UserS = Median(user)
	r.SysS = Median(sys)
	r.PeakRSS = int64(Median(rss))
	return r
}

// Ratio is how many times longer base took than ref, by median wall
// time; ok is false when ref took no measurable time.
func Ratio(base, ref Result) (ratio float64, ok bool) {
	if ref.WallS <= 0 {
		return 0, false
	}
	return base.WallS / ref.WallS, true
}

// EvenStart gives a run the same page cache as every other: dirty pages
// written back, the page cache dropped (root only; false otherwise), the
// files in warm read back in.
func EvenStart(warm ...string) (dropped bool) { return evenStart(warm...) }

// WarmMemory touches n bytes of fresh memory and frees them again, just
// before a run, so that the run's own first touches of memory (the files
// it writes on tmpfs, its heap) cost what they cost on a machine whose
// free memory is its own. A VM with free page reporting (as the 2-core
// VMs these benchmarks run on: page_reporting_order=11) hands free memory
// back to its host, and the next first touch of it costs about 2 s per
// GiB instead of 0.4 (measured with dd onto tmpfs); without this, that
// lands on whichever run writes more, the agent's Content/Incoming on top
// of IMECache. It returns the bytes touched (0 where not done: not Linux,
// or the mapping was refused).
func WarmMemory(n int64) int64 { return warmMemory(n) }

// LoadAvg is the one-minute load average, or -1 when unknown.
func LoadAvg() float64 { return loadAvg() }
