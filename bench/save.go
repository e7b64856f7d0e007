package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
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
		if err := writeAtomic(p, b); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths, nil
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
