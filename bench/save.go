package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/imepipe/imepipe/internal/atomicfile"
)

// Reporter is a benchmark report that can be saved: JSON (the value
// itself), text and an SVG chart.
type Reporter interface {
	WriteText(w io.Writer) error
	WriteSVG(w io.Writer) error
}

// SaveReport writes r into dir as report.json, report.txt and report.svg,
// each written whole and then renamed into place, and returns their
// paths.
func SaveReport(dir string, r Reporter) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	var js, txt, svg bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := r.WriteText(&txt); err != nil {
		return nil, err
	}
	if err := r.WriteSVG(&svg); err != nil {
		return nil, err
	}
	files := map[string][]byte{"report.json": js.Bytes(), "report.txt": txt.Bytes(), "report.svg": svg.Bytes()}
	var paths []string
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := atomicfile.Write(p, b, 0o644); err != nil {
			return paths, fmt.Errorf("bench: %w", err)
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths, nil
}
