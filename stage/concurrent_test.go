package stage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// manyFiles is a ZIP of n small files in a few folders, and the tree it
// must extract to.
func manyFiles(t *testing.T, n int) ([]byte, map[string]string) {
	t.Helper()
	var entries []rawEntry
	for i := range n {
		entries = append(entries, rawEntry{name: fmt.Sprintf(`d%d\f%04d.txt`, i%7, i), data: fmt.Appendf(nil, "file %d\n", i), method: 8})
	}
	z := rawZip(t, entries)
	want := filepath.Join(t.TempDir(), "want")
	if _, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), want, Options{}); err != nil {
		t.Fatal(err)
	}
	return z, treeSums(t, want)
}

// TestConcurrentExtractsNeverMix: eight extractions (both extractors) into
// one folder at once, new or an existing empty one (filled in place). With
// Replace all succeed; without, exactly one does and the others fail with
// ErrExists. Either way the folder ends as one complete tree and nothing
// else is left beside it or in it (no temp folder, no lock file).
func TestConcurrentExtractsNeverMix(t *testing.T) {
	z, want := manyFiles(t, 400)
	for _, c := range []struct{ replace, exists bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
		replace := c.replace
		t.Run(fmt.Sprintf("replace=%v/exists=%v", replace, c.exists), func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			if c.exists {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			errs := make([]error, 8)
			// On Linux a replace is one renameat2 exchange: once the
			// folder exists it never goes missing.
			done := make(chan struct{})
			var gaps atomic.Int64
			go func() {
				seen := false
				for {
					select {
					case <-done:
						close(done)
						return
					default:
					}
					_, err := os.Lstat(dir)
					if err == nil {
						seen = true
					} else if seen {
						gaps.Add(1)
					}
				}
			}()
			var wg sync.WaitGroup
			for i := range errs {
				wg.Go(func() {
					opt := Options{Replace: replace, Workers: 2}
					if i%2 == 0 {
						_, errs[i] = Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, opt)
					} else {
						_, errs[i] = ExtractStream(context.Background(), bytes.NewReader(z), dir, opt)
					}
				})
			}
			wg.Wait()
			done <- struct{}{}
			<-done
			if runtime.GOOS == "linux" && gaps.Load() > 0 {
				t.Errorf("the folder was missing %d times between replaces", gaps.Load())
			}
			ok := 0
			for i, err := range errs {
				switch {
				case err == nil:
					ok++
				case replace || !errors.Is(err, ErrExists):
					t.Errorf("extraction %d: %v", i, err)
				}
			}
			if replace && ok != len(errs) || !replace && ok != 1 {
				t.Errorf("%d of %d succeeded", ok, len(errs))
			}
			sameTree(t, want, treeSums(t, dir))
			ents, _ := os.ReadDir(parent)
			if len(ents) != 1 {
				t.Errorf("beside the target: %v", ents)
			}
		})
	}
}

// TestSweepStale: a crashed run's temp folder (our pattern, only new and
// old inside, not held) is removed by the next extraction into the same
// folder; a live run's, a user's look-alikes and other names are not.
func TestSweepStale(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows cannot lock a folder: stale temp folders are left in place there by design (stage/lock_windows.go)")
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	mk := func(rel string) string {
		p := filepath.Join(parent, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mk(".out.partial-123/new/a/file")       // crashed mid-extraction
	mk(".out.partial-124/old/file")         // crashed mid-commit
	live := mk(".out.partial-456/new/file") // a run in progress
	keep := []string{
		live,
		mk(".out.partial-789/mine.txt"),   // not only new and old
		mk(".out.partial-12x/new/file"),   // not digits
		mk(".other.partial-123/new/file"), // another target's
		mk("out.partial/new/file"),        // the user's
		mk("out.old/file"),                // the user's
		mk(".out.partial-555"),            // a file, not a folder
	}
	hold, err := holdDir(filepath.Join(parent, ".out.partial-456"))
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	z := fixture(t)
	if _, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{".out.partial-123", ".out.partial-124"} {
		if _, err := os.Lstat(filepath.Join(parent, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale %s not removed: %v", gone, err)
		}
	}
	for _, p := range keep {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("removed what is not a stale run's: %v", err)
		}
	}
}
