package bench

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{4}, 4},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{9, 9, 1}, 9},
		{[]float64{5, 1, 100, 2, 3}, 3},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		if got := Median(in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if !slices.Equal(in, tt.in) {
			t.Errorf("Median reordered its input: %v", in)
		}
	}
}

func TestSummarizeAndRatio(t *testing.T) {
	s := func(wall, user, sys float64, rss int64) Sample {
		d := func(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
		return Sample{Wall: d(wall), User: d(user), Sys: d(sys), PeakRSS: rss}
	}
	imepipe := Summarize("imepipe", []Sample{s(2, 3, 1, 30), s(1, 2, 1, 10), s(3, 4, 2, 20)})
	if imepipe.WallS != 2 || imepipe.UserS != 3 || imepipe.SysS != 1 || imepipe.PeakRSS != 20 {
		t.Errorf("medians %+v", imepipe)
	}
	if !slices.Equal(imepipe.WallRuns, []float64{2, 1, 3}) {
		t.Errorf("wall runs %v, want run order", imepipe.WallRuns)
	}
	slow := Summarize("sequential-stdlib", []Sample{s(7, 1, 1, 1), s(5, 1, 1, 1)})
	if r, ok := Ratio(slow, imepipe); !ok || math.Abs(r-3) > 1e-9 {
		t.Errorf("Ratio = %v, %v; want 3", r, ok)
	}
	if _, ok := Ratio(slow, Result{}); ok {
		t.Error("Ratio over a zero time is ok")
	}
}

func TestReportShape(t *testing.T) {
	rep := &Report{Size: 4 << 20, Profile: Installer, Runs: 1, Files: 27,
		Results: []Result{{Name: NameImepipe, WallS: 1, WallRuns: []float64{1}}, {Name: NameStdlib, WallS: 3, WallRuns: []float64{3}}},
		Ratios:  map[string]float64{"sequential-stdlib/imepipe": 3}}
	rep.skip(NameTools, "unzip is not on PATH")
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"size", "profile", "runs", "results", "ratios", "skipped"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no %q in %s", k, b)
		}
	}
	res := doc["results"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "wall_s", "user_s", "sys_s", "peak_rss_bytes"} {
		if _, ok := res[k]; !ok {
			t.Errorf("no %q in result %v", k, res)
		}
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"imepipe", "sequential-stdlib", "sequential-stdlib/imepipe: 3.00×", "tools: skipped: unzip is not on PATH"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
}
