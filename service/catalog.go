package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/service/filter"
)

// AppFile is the name of the Graph object in each app folder.
const AppFile = "app.json"

// FiltersFile, in the apps folder, holds the assignment filters
// (deviceAndAppManagementAssignmentFilter objects: an array, or Graph's
// {"value": [...]}). Absent: no filters.
const FiltersFile = "filters.json"

const maxAppJSON = 4 << 20 // bytes of app.json read at most

// app is one servable app: its Graph object, its cached blob and the key
// material that DecryptInfo carries.
type app struct {
	graph    imeapi.Win32LobApp
	review   imeapi.Review
	policies map[policyKey][]byte // encoded Policy, by intent and DO priority
	raw      json.RawMessage      // the policy's Graph object (assignments removed)
	dir      string
	blob     blob
	// install and uninstall are the scripts activeInstallScript and
	// activeUninstallScript name (ScriptsFile); nil: none.
	install, uninstall *imeapi.AppScript
	keys               imeapi.DecryptInfo // never logged, never sent in the clear
}

// policyKey selects one encoding of an app's policy.
type policyKey struct {
	intent   imeapi.Intent
	priority string
}

// catalog is every app the server serves, and why the others were skipped.
// Look apps up with app, appByDoFile and appByBlob: the maps are keyed by
// folded GUIDs.
type catalog struct {
	apps     []*app          // sorted by display name, then id
	byID     map[string]*app // folded id (foldID) → app
	byBlob   map[string]*app // folded blob file name (foldBlob) → app
	byDoFile map[string]*app // folded DoFileId (foldDoFile) → app
	skipped  []*AppError
	checks   []AppCheck                // every app folder's verdict, in folder order
	filters  map[string]*filter.Filter // assignment filters by folded id (FiltersFile)
}

// loadOptions says how loadCatalog loads.
type loadOptions struct {
	// blobDir caches blobs; empty: check only (apps check), no blob is
	// cut and nothing is written.
	blobDir string
	// allowUnsupported serves apps with unsupported settings (listed and logged).
	allowUnsupported bool
	logf             func(string, ...any)
}

// app returns the app with id, in any case; nil if none.
func (c *catalog) app(id string) *app { return c.byID[foldID(id)] }

// appByDoFile returns the app of a DoFileId, its GUID in any case.
func (c *catalog) appByDoFile(id string) *app { return c.byDoFile[foldDoFile(id)] }

// appByBlob returns the app of a blob file name, its GUID in any case.
func (c *catalog) appByBlob(name string) *app { return c.byBlob[foldBlob(name)] }

// loadCatalog loads every app folder under appsDir, caching blobs under
// blobDir. Apps that fail are reported in skipped; only an unreadable
// appsDir is an error.
func loadCatalog(ctx context.Context, appsDir string, opt loadOptions) (*catalog, error) {
	logf := opt.logf
	entries, err := os.ReadDir(appsDir)
	if err != nil {
		return nil, fmt.Errorf("service: apps folder: %w", err)
	}
	filters, err := filter.ReadFile(filepath.Join(appsDir, FiltersFile))
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	c := &catalog{byID: map[string]*app{}, byBlob: map[string]*app{}, byDoFile: map[string]*app{}, filters: filters}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("service: load apps: %w", err)
		}
		dir := filepath.Join(appsDir, e.Name())
		var a *app
		g, err := readApp(filepath.Join(dir, AppFile))
		check := AppCheck{Dir: dir, ID: g.ID, DisplayName: g.DisplayName, Version: g.Version, Ignored: []string{}, Unsupported: []string{}, Warnings: []string{}}
		var review imeapi.Review
		var scripts []imeapi.AppScript
		if err == nil {
			scripts, err = readScripts(dir)
		}
		if err == nil {
			review = g.ReviewScripts(scripts)
			check.Ignored, check.Unsupported, check.Warnings = review.Ignored, review.Unsupported, review.Warnings
			err = admit(dir, &g, review, filters, opt.allowUnsupported)
		}
		if err == nil {
			// Checked before the blob is cut: both would write the same
			// cache file. GUIDs match case-insensitively (fold.go).
			if prev, dup := c.byID[foldID(g.ID)]; dup {
				err = &AppError{Dir: dir, File: filepath.Join(dir, AppFile), Field: "id",
					Err: fmt.Errorf("%w: %s is the id %s already served from %s (GUIDs are case-insensitive)", imeapi.ErrInvalid, g.ID, prev.graph.ID, prev.dir)}
			}
		}
		if err == nil {
			a, err = loadApp(ctx, dir, opt.blobDir, g, scripts)
		}
		if err != nil {
			var ae *AppError
			if !errors.As(err, &ae) {
				ae = &AppError{Dir: dir, File: dir, Err: err}
			}
			c.skipped = append(c.skipped, ae)
			check.Error = ae.Reason()
			c.checks = append(c.checks, check)
			logf("app skipped: %v", ae)
			continue
		}
		check.Loaded = true
		c.checks = append(c.checks, check)
		a.review = review
		if len(review.Warnings) > 0 {
			logf("app %s: warnings: %s", g.ID, strings.Join(review.Warnings, "; "))
		}
		if len(review.Ignored) > 0 {
			logf("app %s: ignored fields: %s", g.ID, strings.Join(review.Ignored, ", "))
		}
		if len(review.Unsupported) > 0 {
			logf("app %s: served with unsupported settings (--allow-unsupported): %s", g.ID, strings.Join(review.Unsupported, ", "))
		}
		if opt.blobDir == "" {
			continue // checked, not served
		}
		c.apps = append(c.apps, a)
		c.byID[foldID(a.graph.ID)] = a
		c.byBlob[foldBlob(a.blob.name)] = a
		c.byDoFile[foldDoFile(a.blob.doFileID)] = a
		logf("app loaded: %s %q version %s (%d bytes, %d pieces)", a.graph.ID, a.graph.DisplayName, a.graph.Version, a.blob.size, len(a.blob.pieces))
	}
	sort.Slice(c.apps, func(i, j int) bool {
		a, b := c.apps[i].graph, c.apps[j].graph
		if a.DisplayName != b.DisplayName {
			return a.DisplayName < b.DisplayName
		}
		return a.ID < b.ID
	})
	return c, nil
}

// loadApp verifies the package of one app folder whose app.json is g
// (and ScriptsFile scripts), and cuts (or finds cached) its blob.
func loadApp(ctx context.Context, dir, blobDir string, g imeapi.Win32LobApp, scripts []imeapi.AppScript) (*app, error) {
	jsonPath := filepath.Join(dir, AppFile)
	pkgPath, err := findPackage(dir)
	if err != nil {
		return nil, &AppError{Dir: dir, File: dir, Err: err}
	}
	pkg, f, err := decrypt.OpenFile(pkgPath)
	if err != nil {
		return nil, &AppError{Dir: dir, File: pkgPath, Err: err}
	}
	defer f.Close()
	if g.SetupFilePath != "" && !strings.EqualFold(g.SetupFilePath, pkg.Info.SetupFile) {
		return nil, &AppError{Dir: dir, File: jsonPath, Field: "setupFilePath",
			Err: fmt.Errorf("%w: %q, but the package's SetupFile is %q", imeapi.ErrInvalid, g.SetupFilePath, pkg.Info.SetupFile)}
	}
	keys, err := pkg.Info.Keys()
	if err != nil {
		return nil, &AppError{Dir: dir, File: pkgPath, Err: err}
	}
	st, err := f.Stat()
	if err != nil {
		return nil, &AppError{Dir: dir, File: pkgPath, Err: err}
	}
	if blobDir == "" {
		return &app{graph: g, dir: dir}, nil // apps check: verified, nothing written
	}
	b, err := cacheBlob(ctx, blobDir, g, pkg, keys, source{path: pkgPath, size: st.Size(), modTime: st.ModTime()})
	if err != nil {
		return nil, &AppError{Dir: dir, File: pkgPath, Err: err}
	}
	policy := g
	policy.Assignments = nil
	raw, err := json.Marshal(policy)
	if err != nil {
		return nil, &AppError{Dir: dir, File: jsonPath, Err: err}
	}
	a := &app{graph: g, dir: dir, blob: b, keys: decryptInfoOf(pkg.Info.Encryption), policies: map[policyKey][]byte{}, raw: raw}
	a.install, a.uninstall = g.ResolveScripts(scripts)
	// Every policy this app can appear as, encoded once.
	for _, intent := range []imeapi.Intent{imeapi.IntentAvailable, imeapi.IntentRequired, imeapi.IntentUninstall} {
		for _, prio := range []string{imeapi.PriorityNotConfigured, imeapi.PriorityForeground} {
			for _, pr := range []string{"", prio} {
				p := imeapi.Policy{AppID: g.ID, Version: g.Version, Intent: intent, DeliveryOptimizationPriority: pr, ContentSize: b.size, App: raw,
					InstallScript: a.install, UninstallScript: a.uninstall}
				if a.policies[policyKey{intent, pr}], err = json.Marshal(p); err != nil {
					return nil, &AppError{Dir: dir, File: jsonPath, Err: err}
				}
			}
		}
	}
	return a, nil
}

// readApp decodes and validates an app.json; errors name the file and field.
func readApp(path string) (imeapi.Win32LobApp, error) {
	var g imeapi.Win32LobApp
	dir := filepath.Dir(path)
	fail := func(field string, err error) (imeapi.Win32LobApp, error) {
		return g, &AppError{Dir: dir, File: path, Field: field, Err: err}
	}
	f, err := os.Open(path)
	if err != nil {
		return fail("", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxAppJSON+1))
	if err != nil {
		return fail("", err)
	}
	if len(data) > maxAppJSON {
		return fail("", fmt.Errorf("%w: larger than %d bytes", imeapi.ErrInvalid, maxAppJSON))
	}
	// Before the decode, which would silently keep the last of two.
	var dk *dupKeyError
	if err := checkDuplicateKeys(data); errors.As(err, &dk) {
		line, col := position(data, dk.Offset)
		return fail(dk.Path, fmt.Errorf("%w: %v (line %d, column %d)", imeapi.ErrInvalid, dk, line, col))
	}
	if err := json.Unmarshal(data, &g); err != nil {
		var fe *imeapi.FieldError
		if errors.As(err, &fe) {
			return fail(fe.Field, fe.Err)
		}
		field, msg := describeJSONError(data, err)
		return fail(field, fmt.Errorf("%w: %s", imeapi.ErrInvalid, msg))
	}
	// A create body has no id (Graph assigns one on create): the folder's
	// name gives one, the same at every load; Review warns.
	g.AssignID(filepath.Base(dir))
	if err := g.Validate(); err != nil {
		var fe *imeapi.FieldError
		if errors.As(err, &fe) {
			return fail(fe.Field, fe.Err)
		}
		return fail("", err)
	}
	return g, nil
}

// findPackage returns the one .intunewin in dir.
func findPackage(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var found []string
	for _, e := range entries {
		if !strings.EqualFold(filepath.Ext(e.Name()), ".intunewin") {
			continue
		}
		// A symlink to a package is fine; a folder or device is not.
		if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && st.Mode().IsRegular() {
			found = append(found, e.Name())
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w: no .intunewin file", imeapi.ErrInvalid)
	case 1:
		return filepath.Join(dir, found[0]), nil
	default:
		return "", fmt.Errorf("%w: %d .intunewin files (%s), want one", imeapi.ErrInvalid, len(found), strings.Join(found, ", "))
	}
}

// source identifies the .intunewin a blob was cut from, to tell whether a cached blob is current.
type source struct {
	path    string
	size    int64
	modTime time.Time
}
