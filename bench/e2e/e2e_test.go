package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/bench"
	"github.com/imepipe/imepipe/orchestrate/reap"
)

// The agents re-execute this test binary as their process-tree reaper,
// and Run as its timed children.
func TestMain(m *testing.M) {
	reap.Main()
	ChildMain()
	os.Exit(m.Run())
}

// TestRunTLS: with the service over HTTPS every run still enrolls,
// downloads every byte and installs (the agents trust the generated CA).
func TestRunTLS(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("runs agents on apps whose installers are /bin/sh scripts; the Windows agent is tested by orchestrate's .cmd scenarios and e2e-msi.sh")
	}
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	rep, err := Run(context.Background(), Config{Size: 1 << 20, Profile: bench.Installer, Dir: tempDir(t), Connections: 2, Runs: 1, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 4 {
		t.Fatalf("%d results, want 4", len(rep.Results))
	}
	for _, r := range rep.Results {
		if r.DO.TotalBytesDownloaded != rep.BlobBytes {
			t.Errorf("%s: %d bytes downloaded, want %d", r.Name, r.DO.TotalBytesDownloaded, rep.BlobBytes)
		}
	}
}

// TestRunSmall runs every scenario on a small package and checks where
// each run's bytes came from: the baseline and imepipe from the origin,
// the Connected Cache run from the cache, the LAN run from its peer.
func TestRunSmall(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("runs agents on apps whose installers are /bin/sh scripts; the Windows agent is tested by orchestrate's .cmd scenarios and e2e-msi.sh")
	}
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	var steps [][2]int // Step's calls: a progress bar's view
	rep, err := Run(context.Background(), Config{Size: 3 << 20, Profile: bench.Installer, Dir: tempDir(t), Connections: 4, Runs: 2,
		Step: func(done, total int) { steps = append(steps, [2]int{done, total}) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 9 || steps[0] != [2]int{0, 8} || steps[8] != [2]int{8, 8} {
		t.Errorf("Step calls %v, want 0/8 … 8/8 (2 rounds × 4 runs)", steps)
	}
	if len(rep.Results) != 4 {
		t.Fatalf("%d results, want 4", len(rep.Results))
	}
	by := map[string]Result{}
	for _, r := range rep.Results {
		by[r.Name] = r
		if len(r.ContentRunsS) != 2 {
			t.Errorf("%s: %d rounds, want 2", r.Name, len(r.ContentRunsS))
		}
		if r.ContentS <= 0 || r.ContentS > r.WallS {
			t.Errorf("%s: content ready at %.3f s of %.3f s", r.Name, r.ContentS, r.WallS)
		}
		if r.WallS <= 0 || r.DO.TotalBytesDownloaded != rep.BlobBytes {
			t.Errorf("%s: wall %.3f s, %d bytes downloaded, want %d", r.Name, r.WallS, r.DO.TotalBytesDownloaded, rep.BlobBytes)
		}
	}
	size := rep.BlobBytes
	if r := by[NameSequential]; r.OriginBytes != size || len(r.Phases) != 5 {
		t.Errorf("sequential: origin sent %d (want %d), phases %v", r.OriginBytes, size, r.Phases)
	}
	if r := by[NameImepipe]; r.OriginBytes < size || r.DO.BytesFromHttp != size || r.DO.BytesFromCacheServer != 0 {
		t.Errorf("imepipe: origin sent %d, DO %+v", r.OriginBytes, r.DO)
	}
	// The cache run's origin bytes are the 1-byte probe of the origin's size.
	if r := by[NameMCC]; r.OriginBytes > 1024 || r.DO.BytesFromCacheServer != size {
		t.Errorf("mcc: origin sent %d, BytesFromCacheServer %d, want ≤ 1 KiB and %d", r.OriginBytes, r.DO.BytesFromCacheServer, size)
	}
	if r := by[NameLAN]; r.DO.BytesFromLanPeers == 0 || r.DO.BytesFromLanPeers+r.DO.BytesFromHttp != size {
		t.Errorf("lan: BytesFromLanPeers %d, BytesFromHttp %d, want all %d from peers or HTTP, some from peers", r.DO.BytesFromLanPeers, r.DO.BytesFromHttp, size)
	}
	// Every run measured its own process, and is compared with the floor
	// timed in the same rounds.
	if len(rep.FloorRunsS) != 2 || rep.FloorS <= 0 || rep.FloorCPUS <= 0 {
		t.Errorf("floor: %v rounds, median %.3f s, %.3f CPU s", rep.FloorRunsS, rep.FloorS, rep.FloorCPUS)
	}
	for _, r := range rep.Results {
		if runtime.GOOS == "linux" && (r.PeakRSS < 1<<20 || r.PeakRSS > 1<<30 || r.CPUS <= 0) {
			t.Errorf("%s: peak RSS %d, %.3f CPU s: want its own process's", r.Name, r.PeakRSS, r.CPUS)
		}
		if v, ok := rep.Ratios[r.Name+"/"+NameFloor]; !ok || v != r.ContentS/rep.FloorS {
			t.Errorf("%s/floor: %v, %v, want %v", r.Name, v, ok, r.ContentS/rep.FloorS)
		}
	}
	if r := by[NameImepipe]; runtime.GOOS == "linux" && (r.OriginCPUS <= 0 || r.OriginCPUS > r.WallS) {
		t.Errorf("imepipe: origin CPU %.3f s over a %.3f s run", r.OriginCPUS, r.WallS)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{NameSequential, NameMCC, "BytesFromLanPeers", "phases of ime-sequential", "peak RSS", "/floor", NameFloor} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
}

// tempDir is $E2E_DIR when set (to look at the runs' logs), else a test
// temporary folder.
func tempDir(t *testing.T) string {
	if d := os.Getenv("E2E_DIR"); d != "" {
		return d
	}
	return t.TempDir()
}

// TestSaveReport: the report is saved as JSON that reads back, text and
// an SVG that is well-formed XML naming every run.
func TestSaveReport(t *testing.T) {
	rep := &Report{Size: 1 << 20, Profile: bench.Installer, Runs: 1, Results: []Result{
		{Name: NameSequential, ContentS: 2, WallS: 2},
		{Name: NameLAN, ContentS: 1, WallS: 1.5},
	}, Ratios: map[string]float64{NameSequential + "/" + NameLAN: 2}}
	rep.Results[1].DO.TotalBytesDownloaded, rep.Results[1].DO.BytesFromLanPeers = 100, 100
	dir := t.TempDir()
	paths, err := rep.Save(dir)
	if err != nil || len(paths) != 3 {
		t.Fatalf("Save: %v, %v", paths, err)
	}
	var back Report
	b, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(b, &back); err != nil || len(back.Results) != 2 {
		t.Fatalf("report.json: %v", err)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "report.svg"))
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("report.svg is not well-formed: %v", err)
		}
	}
	for _, name := range []string{NameSequential, NameLAN, "LAN peers"} {
		if !bytes.Contains(svg, []byte(name)) {
			t.Errorf("report.svg lacks %q", name)
		}
	}
}

func TestPick(t *testing.T) {
	var s site
	all, err := s.pick(nil)
	if err != nil || len(all) != 4 {
		t.Fatalf("all runs: %d, %v", len(all), err)
	}
	some, err := s.pick([]string{NameLAN, NameImepipe})
	if err != nil || len(some) != 2 {
		t.Fatalf("two runs: %d, %v", len(some), err)
	}
	if _, err := s.pick([]string{"imepipe-wan"}); err == nil || !strings.Contains(err.Error(), `"imepipe-wan"`) {
		t.Fatalf("unknown run: %v", err)
	}
}

// TestSyncSmall: the three orders (look-ahead, the agent one app after
// another, the IME's order and passes) sync three small apps, each
// installed exactly once, and the report carries the medians and ratios.
func TestSyncSmall(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("runs agents: their apps install with /bin/sh")
	}
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	rep, err := Sync(context.Background(), SyncConfig{Apps: 3, Size: 1 << 20, Runs: 1, Dir: tempDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.AllInstalled || rep.Apps != 3 || len(rep.ImepipeRunsS) != 1 || len(rep.SequentialRunsS) != 1 || len(rep.SerialRunsS) != 1 {
		t.Fatalf("report %+v", rep)
	}
	if rep.ImepipeS <= 0 || rep.SequentialS <= 0 || rep.Ratio != rep.ImepipeS/rep.SequentialS {
		t.Errorf("times %.3f and %.3f s, ratio %.3f", rep.ImepipeS, rep.SequentialS, rep.Ratio)
	}
	if rep.SerialS <= 0 || rep.SerialRatio != rep.ImepipeS/rep.SerialS {
		t.Errorf("serial %.3f s, ratio %.3f", rep.SerialS, rep.SerialRatio)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil || !strings.Contains(b.String(), "every app installed once: true") {
		t.Errorf("text report: %v\n%s", err, b.String())
	}
}
