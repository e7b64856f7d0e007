package service

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

// appFolders counts the app folders among entries: the folders whose
// name does not begin with a dot.
func appFolders(entries []os.DirEntry) int {
	n := 0
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}

// loadCatalog loads every app folder under appsDir, caching blobs under
// blobDir. Apps that fail are reported in skipped; only an unreadable
// appsDir is an error.
func loadCatalog(ctx context.Context, appsDir string, opt loadOptions) (*catalog, error) {
	logf := opt.logf
	entries, err := os.ReadDir(appsDir)
	if err != nil {
		return nil, pathError("apps folder", appsDir, kindFolder, err)
	}
	filters, err := readFilters(filepath.Join(appsDir, FiltersFile))
	if err != nil {
		return nil, err
	}
	c := &catalog{byID: map[string]*app{}, byBlob: map[string]*app{}, byDoFile: map[string]*app{}, filters: filters}
	if n := appFolders(entries); n > 0 && opt.blobDir != "" {
		// Verifying a package reads all of it: a line first, so that a
		// start that takes a while (seconds per GiB) says why.
		logf("loading %s from %s (every package is read and verified)", plural(int64(n), "app folder"), appsDir)
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue // not an app folder (appFolders)
		}
		if err := ctx.Err(); err != nil {
			return nil, &wordedError{msg: "interrupted while loading apps", err: err}
		}
		a, check, ae := c.loadFolder(ctx, filepath.Join(appsDir, e.Name()), opt)
		c.checks = append(c.checks, check)
		if ae != nil {
			c.skipped = append(c.skipped, ae)
			logf("app skipped: %s: %s", ae.Dir, ae.Reason())
			continue
		}
		g, review := a.graph, a.review
		if len(review.Warnings) > 0 {
			logf("app %s: warnings: %s", g.ID, strings.Join(review.Warnings, "; "))
		}
		if len(review.Ignored) > 0 {
			logf("app %s: ignored fields: %s", g.ID, strings.Join(review.Ignored, ", "))
		}
		if len(review.Unsupported) > 0 {
			logf("app %s: served with unsupported settings (--allow-unsupported): %s", g.ID, strings.Join(review.Unsupported, ", "))
		}
		// Checking too: a later folder with the same id is refused as serve refuses it.
		c.byID[foldID(g.ID)] = a
		if opt.blobDir == "" {
			continue // checked, not served
		}
		c.apps = append(c.apps, a)
		c.byBlob[foldBlob(a.blob.name)] = a
		c.byDoFile[foldDoFile(a.blob.doFileID)] = a
		logf("app loaded: %s %q version %s (%s, %s)", g.ID, g.DisplayName, g.Version, plural(a.blob.size, "byte"), plural(int64(len(a.blob.pieces)), "piece"))
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

// loadFolder loads the app folder dir: its verdict, and its app when it
// is served (or, checking only, would be), else every reason to refuse
// it that one pass finds: app.json's or scripts.json's (the settings are
// then not judged), its filters, an id already served, the package's
// (its SetupFile against setupFilePath), and unsupported settings last.
func (c *catalog) loadFolder(ctx context.Context, dir string, opt loadOptions) (*app, AppCheck, *AppError) {
	g, err := readApp(filepath.Join(dir, AppFile))
	check := AppCheck{Dir: dir, ID: g.ID, DisplayName: g.DisplayName, Version: g.Version, Ignored: []string{}, Unsupported: []string{}, Warnings: []string{}}
	var (
		refused     []*AppError
		unsupported *AppError
		review      imeapi.Review
		scripts     []imeapi.AppScript
		known       *imeapi.Win32LobApp // app.json's object, to check the package against
	)
	add := func(err error) {
		var ae *AppError
		if !errors.As(err, &ae) {
			ae = &AppError{Dir: dir, File: dir, Err: fmt.Errorf("%s: %w", dir, err)}
		}
		refused = append(refused, ae)
	}
	if err != nil {
		add(err)
	} else {
		known = &g
		if scripts, err = readScripts(dir); err != nil {
			add(err)
		} else {
			review = g.ReviewScripts(scripts)
			check.Ignored, check.Unsupported, check.Warnings = review.Ignored, review.Unsupported, review.Warnings
			var bad []*AppError
			bad, unsupported = admit(dir, &g, review, c.filters, opt.allowUnsupported)
			refused = append(refused, bad...)
		}
		// Checked before the blob is cut: both would write the same
		// cache file. GUIDs match case-insensitively (fold.go).
		if prev := c.app(g.ID); prev != nil {
			refused = append(refused, &AppError{Dir: dir, File: filepath.Join(dir, AppFile), Field: "id",
				Err: fmt.Errorf("%w: %s is the id %s already served from %s (GUIDs are case-insensitive)", imeapi.ErrInvalid, g.ID, prev.graph.ID, prev.dir)})
		}
	}
	p, bad := openPackage(dir, known)
	if p != nil {
		defer p.f.Close()
	}
	refused = append(refused, bad...)
	if unsupported != nil {
		refused = append(refused, unsupported)
	}
	var a *app
	if len(refused) == 0 {
		if a, err = newApp(ctx, dir, opt.blobDir, g, scripts, p); err != nil {
			add(err)
		}
	}
	if len(refused) > 0 {
		ae := refusal(refused).(*AppError)
		check.Error = ae.Reason()
		for _, r := range refused {
			if r != unsupported {
				check.reasons = append(check.reasons, r.Reason())
			}
		}
		check.unsupported = unsupported != nil
		return nil, check, ae
	}
	check.Loaded = true
	a.review = review
	return a, check, nil
}

// pkgFile is an app folder's open .intunewin; close f when done.
type pkgFile struct {
	path string
	pkg  *decrypt.Package
	f    *os.File
	keys decrypt.Keys
	src  source
}

// openPackage opens the one .intunewin in dir and checks its keys and,
// against g (nil when app.json is unusable), its SetupFile. It returns
// the package (nil when it cannot be used) and the reasons to refuse it.
func openPackage(dir string, g *imeapi.Win32LobApp) (*pkgFile, []*AppError) {
	path, err := findPackage(dir)
	if err != nil {
		return nil, []*AppError{{Dir: dir, File: dir, Err: err}}
	}
	pkg, f, err := decrypt.OpenFile(path)
	if err != nil {
		return nil, []*AppError{{Dir: dir, File: path, Err: packageError(path, err)}}
	}
	var refused []*AppError
	if g != nil && g.SetupFilePath != "" && !strings.EqualFold(g.SetupFilePath, pkg.Info.SetupFile) {
		refused = append(refused, &AppError{Dir: dir, File: filepath.Join(dir, AppFile), Field: "setupFilePath",
			Err: fmt.Errorf("%w: %q, but the package's SetupFile is %q", imeapi.ErrInvalid, g.SetupFilePath, pkg.Info.SetupFile)})
	}
	keys, err := pkg.Info.Keys()
	if err == nil {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			return &pkgFile{path: path, pkg: pkg, f: f, keys: keys, src: source{path: path, size: st.Size(), modTime: st.ModTime()}}, refused
		}
	}
	f.Close()
	return nil, append(refused, &AppError{Dir: dir, File: path, Err: packageError(path, err)})
}

// packageError words err, met opening or reading the package at path,
// for a line that names the package already: an archive/zip refusal as
// a truncated or corrupt package with its size, anything else as
// decrypt.Reason. It wraps err.
func packageError(path string, err error) error {
	if st, serr := os.Stat(path); errors.Is(err, zip.ErrFormat) && serr == nil {
		if st.Size() == 0 {
			return &wordedError{msg: "empty file (0 bytes)", err: err}
		}
		return &wordedError{msg: fmt.Sprintf("truncated or corrupt .intunewin (%s, no readable ZIP directory)", plural(st.Size(), "byte")), err: err}
	}
	return &wordedError{msg: decrypt.Reason(err, path), err: err}
}

// newApp is the app of folder dir: app.json's g, its scripts and its
// package p, whose blob it cuts (or finds cached) under blobDir,
// verifying it. Checking only (blobDir empty), the package is verified
// as cutting would, and nothing is written.
func newApp(ctx context.Context, dir, blobDir string, g imeapi.Win32LobApp, scripts []imeapi.AppScript, p *pkgFile) (*app, error) {
	if blobDir == "" {
		if err := verifyContent(ctx, p.pkg, p.keys, io.Discard); err != nil {
			return nil, &AppError{Dir: dir, File: p.path, Err: packageError(p.path, err)}
		}
		return &app{graph: g, dir: dir}, nil
	}
	jsonPath := filepath.Join(dir, AppFile)
	b, err := cacheBlob(ctx, blobDir, g, p.pkg, p.keys, p.src)
	if err != nil {
		return nil, &AppError{Dir: dir, File: p.path, Err: packageError(p.path, err)}
	}
	policy := g
	policy.Assignments = nil
	raw, err := json.Marshal(policy)
	if err != nil {
		return nil, &AppError{Dir: dir, File: jsonPath, Err: err}
	}
	a := &app{graph: g, dir: dir, blob: b, keys: decryptInfoOf(p.pkg.Info.Encryption), policies: map[policyKey][]byte{}, raw: raw}
	a.install, a.uninstall = g.ResolveScripts(scripts)
	// Every policy this app can appear as, encoded once.
	for _, intent := range []imeapi.Intent{imeapi.IntentAvailable, imeapi.IntentRequired, imeapi.IntentUninstall} {
		for _, prio := range []string{imeapi.PriorityNotConfigured, imeapi.PriorityForeground} {
			for _, pr := range []string{"", prio} {
				pol := imeapi.Policy{AppID: g.ID, Version: g.Version, Intent: intent, DeliveryOptimizationPriority: pr, ContentSize: b.size, App: raw,
					InstallScript: a.install, UninstallScript: a.uninstall}
				if a.policies[policyKey{intent, pr}], err = json.Marshal(pol); err != nil {
					return nil, &AppError{Dir: dir, File: jsonPath, Err: err}
				}
			}
		}
	}
	return a, nil
}

// readFilters reads the assignment filters at path (FiltersFile); its
// error names the file once, with filter's reason.
func readFilters(path string) (map[string]*filter.Filter, error) {
	filters, err := filter.ReadFile(path)
	if err == nil {
		return filters, nil
	}
	var pe *fs.PathError
	why := strings.TrimPrefix(strings.TrimPrefix(err.Error(), filter.ErrFile.Error()+": "), path+": ")
	if errors.As(err, &pe) {
		why = sysReason(err, kindFile)
	}
	return nil, &wordedError{msg: "filters file " + path + ": " + why, err: err}
}

// plural is n and noun, with an s unless n is 1.
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// readApp decodes and validates an app.json; errors name the file and field.
func readApp(path string) (imeapi.Win32LobApp, error) {
	var g imeapi.Win32LobApp
	dir := filepath.Dir(path)
	fail := func(field string, err error) (imeapi.Win32LobApp, error) {
		return g, &AppError{Dir: dir, File: path, Field: field, Err: err}
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fail("", &wordedError{msg: "missing", err: err})
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fail("", &wordedError{msg: pe.Err.Error(), err: err}) // the line names the file
	}
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

// findPackage returns the one .intunewin in dir; its errors name dir.
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
		return "", &wordedError{msg: fmt.Sprintf("no .intunewin in %s: put exactly one package beside %s", dir, AppFile), err: imeapi.ErrInvalid}
	case 1:
		return filepath.Join(dir, found[0]), nil
	default:
		return "", &wordedError{msg: fmt.Sprintf("%d .intunewin in %s (%s): keep exactly one beside %s", len(found), dir, strings.Join(found, ", "), AppFile), err: imeapi.ErrInvalid}
	}
}

// source identifies the .intunewin a blob was cut from, to tell whether a cached blob is current.
type source struct {
	path    string
	size    int64
	modTime time.Time
}
