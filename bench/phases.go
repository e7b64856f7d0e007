package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/stage"
)

// Phase is the wall time of one step of an unpack.
type Phase struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Phases is where an unpack's time goes, measured in process: imepipe's
// two stages taken apart (decrypt.Open: HMAC, decrypt and digest in one
// pass into a staging file; stage.Extract: the parallel extraction) and
// the four passes of the sequential stdlib baseline. `imepipe unpack`
// itself overlaps the two stages without a staging file, so its wall time
// is less than the sum of its phases here.
type Phases struct {
	Imepipe []Phase `json:"imepipe"`
	Stdlib  []Phase `json:"sequential-stdlib"`
}

// MeasurePhases times the phases of unpacking pkgPath, in folders under
// work that it removes afterwards.
func MeasurePhases(ctx context.Context, pkgPath, work string) (*Phases, error) {
	pkg, f, err := decrypt.OpenFile(pkgPath)
	if err != nil {
		return nil, fmt.Errorf("bench: phases: %w", err)
	}
	defer f.Close()
	keys, err := pkg.Info.Keys()
	if err != nil {
		return nil, fmt.Errorf("bench: phases: %w", err)
	}
	if pkg.Content == nil {
		return nil, fmt.Errorf("bench: phases: %w: the inner file is compressed", decrypt.ErrNotPackage)
	}
	tmp, err := os.MkdirTemp(work, "phases-")
	if err != nil {
		return nil, fmt.Errorf("bench: phases: %w", err)
	}
	defer os.RemoveAll(tmp)
	ph := &Phases{}

	staging, err := os.Create(filepath.Join(tmp, "staging.zip"))
	if err != nil {
		return nil, fmt.Errorf("bench: phases: %w", err)
	}
	defer staging.Close()
	src, err := pkg.OpenContent()
	if err != nil {
		return nil, err
	}
	settle()
	start := time.Now()
	res, err := decrypt.Open(ctx, staging, src, keys)
	src.Close()
	if err != nil {
		return nil, fmt.Errorf("bench: phases: %w", err)
	}
	ph.Imepipe = append(ph.Imepipe, Phase{"verify+decrypt (decrypt.Open)", time.Since(start).Seconds()})
	settle()
	start = time.Now()
	if _, err := stage.Extract(ctx, staging, res.PlainSize, filepath.Join(tmp, "imepipe"), stage.Options{}); err != nil {
		return nil, fmt.Errorf("bench: phases: %w", err)
	}
	ph.Imepipe = append(ph.Imepipe, Phase{"extract (stage.Extract)", time.Since(start).Seconds()})
	staging.Close()
	os.Remove(staging.Name())
	os.RemoveAll(filepath.Join(tmp, "imepipe"))

	settle()
	start = time.Now()
	mark := func(pass string) {
		now := time.Now()
		ph.Stdlib = append(ph.Stdlib, Phase{pass, now.Sub(start).Seconds()})
		start = now
	}
	if _, err := stdlibUnpack(ctx, pkg.Content, keys, filepath.Join(tmp, "stdlib"), mark); err != nil {
		return nil, err
	}
	return ph, nil
}
