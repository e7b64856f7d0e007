package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/imepipe/imepipe/decrypt"
)

// generatorVersion is part of every cache key: bump it when Generate's
// output changes, so that stale packages are not reused.
const generatorVersion = 1

// Cache file names inside a dataset's cache folder.
const (
	cacheManifest = "dataset.json"
	cachePackage  = "setup.intunewin"
	cacheSetup    = "setup"
)

// Packed is a generated dataset and its package, ready to be unpacked.
type Packed struct {
	Dataset
	Package      string `json:"-"` // path of the .intunewin
	PackageBytes int64  `json:"packageBytes"`
	// Setup is the generated setup folder, or "" when it was not kept.
	Setup string `json:"-"`
	// Cached says the package came from the cache.
	Cached bool `json:"-"`
}

// CacheKey names the cache folder of a dataset: profile, size, seed and
// generator version.
func CacheKey(p Profile, size int64, seed uint64) string {
	return fmt.Sprintf("%s-%d-s%d-g%d", p, size, seed, generatorVersion)
}

// Prepare returns the package of (p, size, seed) from the cache under
// out, or generates the setup folder, packs it with package decrypt and
// caches it. The setup folder is removed once packed (its file count and
// bytes are kept in the manifest) unless keepSetup is set. A cache folder
// appears only complete: it is built under a .partial name and renamed.
func Prepare(ctx context.Context, out string, p Profile, size int64, seed uint64, keepSetup bool, logf func(string, ...any)) (Packed, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	final := filepath.Join(out, CacheKey(p, size, seed))
	if pk, err := loadCache(final); err == nil {
		if keepSetup && pk.Setup == "" {
			logf("regenerating the setup folder in %s", filepath.Join(final, cacheSetup))
			if err := os.RemoveAll(filepath.Join(final, cacheSetup)); err != nil {
				return pk, fmt.Errorf("bench: %w", err)
			}
			if _, err := Generate(filepath.Join(final, cacheSetup), p, size, seed); err != nil {
				return pk, err
			}
			pk.Setup = filepath.Join(final, cacheSetup)
		}
		logf("using the cached package %s", pk.Package)
		return pk, nil
	}

	partial := final + ".partial"
	if err := os.RemoveAll(partial); err != nil {
		return Packed{}, fmt.Errorf("bench: %w", err)
	}
	if err := os.RemoveAll(final); err != nil {
		return Packed{}, fmt.Errorf("bench: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(partial)
		}
	}()
	setup := filepath.Join(partial, cacheSetup)
	logf("generating %s, %d bytes, seed %d, into %s", p, size, seed, setup)
	start := time.Now()
	ds, err := Generate(setup, p, size, seed)
	if err != nil {
		return Packed{}, err
	}
	logf("generated %d files in %.2fs", ds.Files, time.Since(start).Seconds())
	if err := ctx.Err(); err != nil {
		return Packed{}, fmt.Errorf("bench: %w", err)
	}

	logf("packing with imepipe")
	start = time.Now()
	res, err := decrypt.Pack(ctx, setup, ds.SetupFile, filepath.Join(partial, cachePackage), decrypt.PackOptions{Replace: true})
	if err != nil {
		return Packed{}, fmt.Errorf("bench: pack: %w", err)
	}
	logf("packed %d bytes into %d in %.2fs", res.Bytes, res.Size, time.Since(start).Seconds())
	if res.Files != ds.Files || res.Bytes != ds.Bytes {
		return Packed{}, fmt.Errorf("bench: pack: %w: packed %d files, %d bytes of %d files, %d bytes",
			ErrOutput, res.Files, res.Bytes, ds.Files, ds.Bytes)
	}
	if !keepSetup {
		if err := os.RemoveAll(setup); err != nil {
			return Packed{}, fmt.Errorf("bench: %w", err)
		}
	}
	pk := Packed{Dataset: ds, PackageBytes: res.Size}
	b, err := json.MarshalIndent(pk, "", "  ")
	if err != nil {
		return Packed{}, fmt.Errorf("bench: %w", err)
	}
	if err := os.WriteFile(filepath.Join(partial, cacheManifest), append(b, '\n'), 0o644); err != nil {
		return Packed{}, fmt.Errorf("bench: %w", err)
	}
	if err := os.Rename(partial, final); err != nil {
		return Packed{}, fmt.Errorf("bench: %w", err)
	}
	ok = true
	pk.Package = filepath.Join(final, cachePackage)
	if keepSetup {
		pk.Setup = filepath.Join(final, cacheSetup)
	}
	return pk, nil
}

// errCache: a cache folder that is missing or incomplete (internal).
var errCache = errors.New("no usable cache")

// loadCache reads a complete cache folder.
func loadCache(dir string) (Packed, error) {
	var pk Packed
	b, err := os.ReadFile(filepath.Join(dir, cacheManifest))
	if err != nil {
		return pk, errCache
	}
	if err := json.Unmarshal(b, &pk); err != nil || pk.Files == 0 {
		return pk, errCache
	}
	pk.Package = filepath.Join(dir, cachePackage)
	st, err := os.Stat(pk.Package)
	if err != nil || st.Size() != pk.PackageBytes {
		return pk, errCache
	}
	if t, err := Stat(filepath.Join(dir, cacheSetup)); err == nil && t.Files == pk.Files && t.Bytes == pk.Bytes {
		pk.Setup = filepath.Join(dir, cacheSetup)
	}
	pk.Cached = true
	return pk, nil
}
