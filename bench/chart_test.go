package bench

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestSaveLocalReport: bench local's report is saved as JSON that reads
// back, text, and an SVG that is well-formed XML naming every contender.
func TestSaveLocalReport(t *testing.T) {
	rep := &Report{Size: 1 << 30, Profile: Installer, Runs: 3, Files: 10,
		Results: []Result{{Name: NameImepipe, WallS: 2, UserS: 2.5, SysS: 0.5}, {Name: NameStdlib, WallS: 8, UserS: 3, SysS: 5}},
		Ratios:  map[string]float64{NameStdlib + "/" + NameImepipe: 4}}
	dir := t.TempDir()
	paths, err := SaveReport(dir, rep)
	if err != nil || len(paths) != 3 {
		t.Fatalf("SaveReport: %v, %v", paths, err)
	}
	var back Report
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil || json.Unmarshal(b, &back) != nil || len(back.Results) != 2 {
		t.Fatalf("report.json: %v %s", err, b)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "report.svg"))
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("report.svg is not well-formed: %v", err)
		}
	}
	for _, want := range []string{NameImepipe, NameStdlib, "4.00×", "system"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("report.svg lacks %q", want)
		}
	}
}
