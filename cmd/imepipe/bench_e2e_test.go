package main

import (
	"encoding/json"
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
		BlobBytes int64 `json:"blob_bytes"`
		Results   []struct {
			Name string `json:"name"`
			DO   struct {
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
	}
	if got := strings.Join(names, ","); got != "ime-sequential,imepipe,imepipe-mcc,imepipe-lan" {
		t.Errorf("runs %s", got)
	}
	if len(rep.Ratios) != 3 {
		t.Errorf("ratios %v", rep.Ratios)
	}
	for _, args := range [][]string{{"bench", "--size", "lots"}, {"bench", "--origin-rate", "fast"}, {"bench", "--profile", "huge"}, {"bench", "--runs", "0"}, {"bench", "nonsense"}} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
