package main

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// TestBenchE2EJSON: `imepipe bench --json` is the default benchmark, prints
// one JSON document with the four runs and their DO bytes, and rejects
// bad flags as usage errors.
func TestBenchE2EJSON(t *testing.T) {
	skipAgentsOnWindows(t)
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	code, stdout, stderr := runCLI(t, "bench", "--size", "1MiB", "--runs", "1", "--json", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		BlobBytes int64   `json:"blob_bytes"`
		FloorS    float64 `json:"floor_s"`
		Results   []struct {
			Name    string  `json:"name"`
			PeakRSS int64   `json:"peak_rss_bytes"`
			CPUS    float64 `json:"cpu_s"`
			DO      struct {
				TotalBytesDownloaded int64
				BytesFromLanPeers    int64
				BytesFromCacheServer int64
			} `json:"do"`
		} `json:"results"`
		Ratios map[string]float64 `json:"ratios"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	names := []string{}
	for _, r := range rep.Results {
		names = append(names, r.Name)
		if r.DO.TotalBytesDownloaded != rep.BlobBytes {
			t.Errorf("%s downloaded %d bytes, want %d", r.Name, r.DO.TotalBytesDownloaded, rep.BlobBytes)
		}
		if runtime.GOOS == "linux" && (r.PeakRSS <= 0 || r.CPUS <= 0) {
			t.Errorf("%s: peak_rss_bytes %d, cpu_s %v: want the run's own figures", r.Name, r.PeakRSS, r.CPUS)
		}
		if _, ok := rep.Ratios[r.Name+"/floor"]; !ok || rep.FloorS <= 0 {
			t.Errorf("%s: no ratio to the floor (floor_s %v): %v", r.Name, rep.FloorS, rep.Ratios)
		}
	}
	if got := strings.Join(names, ","); got != "ime-sequential,imepipe,imepipe-mcc,imepipe-lan" {
		t.Errorf("runs %s", got)
	}
	if len(rep.Ratios) != 3+4 { // ime-sequential/<run> and <run>/floor
		t.Errorf("ratios %v", rep.Ratios)
	}
	for _, args := range [][]string{{"bench", "--size", "lots"}, {"bench", "--origin-rate", "fast"}, {"bench", "--profile", "huge"}, {"bench", "--runs", "0"}, {"bench", "nonsense"}} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestBenchSyncJSON: `imepipe bench sync --json` prints the fields
// scripts read, every app installed, and refuses bad flags as usage.
func TestBenchSyncJSON(t *testing.T) {
	skipAgentsOnWindows(t)
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	code, stdout, stderr := runCLI(t, "bench", "sync", "--apps", "2", "--size", "1MiB", "--install-seconds", "0", "--runs", "1", "--json", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	for _, k := range []string{"apps", "size", "imepipe_s", "sequential_s", "ratio", "allInstalled"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("no %q in %s", k, stdout)
		}
	}
	if rep["apps"] != float64(2) || rep["allInstalled"] != true {
		t.Errorf("apps %v, allInstalled %v", rep["apps"], rep["allInstalled"])
	}
	for _, args := range [][]string{{"bench", "sync", "--apps", "0"}, {"bench", "sync", "--install-seconds", "-1"}, {"bench", "sync", "extra"}} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
