package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// Dataset describes a generated setup folder.
type Dataset struct {
	Profile   Profile `json:"profile"`
	Size      int64   `json:"size"`
	Seed      uint64  `json:"seed"`
	Files     int     `json:"files"`
	Bytes     int64   `json:"bytes"`
	SetupFile string  `json:"setupFile"`
}

// ModTime is the modification time of every generated file and folder,
// so that the tree, and the ZIP packed from it, are the same every time.
var ModTime = time.Date(2024, 1, 2, 3, 4, 6, 0, time.UTC)

const genBuf = 1 << 20 // bytes written per call; a multiple of 8

// Generate writes the setup folder of profile p, totalling size bytes, into
// dir, which must not exist or be empty. The tree is a pure function of
// (p, size, seed): the same arguments give byte-identical files, names and
// modification times. Incompressible content comes from PCG, 8 bytes per
// step; files are written in parallel, one per CPU, each through a 1 MiB
// buffer. On error the folder is removed.
func Generate(dir string, p Profile, size int64, seed uint64) (Dataset, error) {
	ds := Dataset{Profile: p, Size: size, Seed: seed, SetupFile: SetupFile}
	files, err := plan(p, size, seed)
	if err != nil {
		return ds, err
	}
	if err := createEmpty(dir); err != nil {
		return ds, err
	}
	if err := generate(dir, files, newDictionary(seed)); err != nil {
		os.RemoveAll(dir)
		return ds, err
	}
	ds.Files = len(files)
	for _, f := range files {
		ds.Bytes += f.size
	}
	return ds, nil
}

// createEmpty makes dir, or accepts it if it is an empty folder.
func createEmpty(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("bench: %w", err)
	case len(ents) > 0:
		return fmt.Errorf("bench: %w: %s is not empty", ErrExists, dir)
	}
	return nil
}

func generate(dir string, files []fileSpec, d *dictionary) error {
	dirs := map[string]bool{}
	for _, f := range files {
		for p := path.Dir(f.path); p != "."; p = path.Dir(p) {
			dirs[p] = true
		}
	}
	sorted := make([]string, 0, len(dirs))
	for p := range dirs {
		sorted = append(sorted, p)
	}
	slices.Sort(sorted)
	for _, p := range sorted {
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(p)), 0o755); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}

	g, ctx := errgroup.WithContext(context.Background())
	work := make(chan fileSpec)
	for range runtime.GOMAXPROCS(0) {
		g.Go(func() error {
			buf := make([]byte, genBuf)
			for f := range work {
				if err := writeFile(filepath.Join(dir, filepath.FromSlash(f.path)), f, d, buf); err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(work)
		for _, f := range files {
			select {
			case work <- f:
			case <-ctx.Done():
				return nil
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	// Deepest folders first, so that setting a child's time does not
	// touch its parent's afterwards.
	slices.SortFunc(sorted, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, p := range append(sorted, ".") {
		if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(p)), ModTime, ModTime); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	return nil
}

func writeFile(name string, f fileSpec, d *dictionary, buf []byte) error {
	out, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	src := newSource(f.kind, f.seed, d)
	for left := f.size; left > 0; {
		b := buf[:min(left, int64(len(buf)))]
		src.Fill(b)
		if _, err := out.Write(b); err != nil {
			out.Close()
			return fmt.Errorf("bench: %w", err)
		}
		left -= int64(len(b))
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := os.Chtimes(name, ModTime, ModTime); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
