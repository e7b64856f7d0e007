package decrypt

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/imepipe/imepipe/internal/direct"
	"github.com/imepipe/imepipe/msi"
	"github.com/imepipe/imepipe/stage"
)

// ErrExists reports an output that exists and may not be replaced.
var ErrExists = errors.New("output exists")

// PackOptions tunes Pack.
type PackOptions struct {
	Replace  bool             // replace an existing output (IntuneWinAppUtil's -q)
	Workers  int              // compression workers; 0: one per CPU
	Progress func(n int64)    // source bytes consumed; called concurrently
	Now      func() time.Time // ZIP timestamps; nil: time.Now
	// Keys, when set, are used instead of fresh random ones (tests).
	Keys *Keys
	// CatalogFolder, when set, is IntuneWinAppUtil's -a: every file in it
	// goes into the package under CatalogsPath (Windows 10 S mode).
	CatalogFolder string
}

// PackResult describes a written package.
type PackResult struct {
	Path  string
	Info  *Info
	Files int
	Dirs  int
	Bytes int64 // setup folder bytes
	Size  int64 // package file bytes
}

// Pack makes an .intunewin of setupFolder, as IntuneWinAppUtil -c -s -o
// does, at outPath. It streams: folder → inner ZIP → seal → outer ZIP,
// in one pass over the source, in constant memory. The package is
// written to a temporary file beside outPath and renamed into place only
// when complete; on error nothing is left.
//
// Pack's errors are worded for the person packing: one line that names
// their paths (the output, never its temporary file; the setup folder's
// files) without a chain of package names, such as "out/a.intunewin
// exists (use -q to replace it)", "cannot write out/a.intunewin:
// permission denied" or "interrupted; nothing written". errors.Is and
// errors.As still see what lies beneath: ErrExists, stage.ErrUnsafePath,
// msi.ErrFormat, fs.ErrPermission, context.Canceled, *fs.PathError.
func Pack(ctx context.Context, setupFolder, setupFile, outPath string, opt PackOptions) (res PackResult, err error) {
	tmpName := ""
	defer func() { // errors are worded here, once, on the way out
		if err != nil {
			err = packFailure(ctx, err, setupFolder, outPath, tmpName)
		}
	}()
	setupRel, err := SetupFileIn(setupFolder, setupFile)
	if err != nil {
		return res, err
	}
	if _, err := os.Lstat(outPath); err == nil && !opt.Replace {
		return res, existsError(outPath, ErrExists)
	}
	name, msiInfo, err := setupInfo(setupFolder, setupRel)
	if err != nil {
		return res, err
	}
	var catalogs []catalogFile
	if opt.CatalogFolder != "" {
		if catalogs, err = readCatalogs(opt.CatalogFolder); err != nil {
			return res, err
		}
	}
	keys := opt.Keys
	if keys == nil {
		k, err := NewKeys()
		if err != nil {
			return res, err
		}
		keys = &k
	}
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	tmp, err := createPackageFile(filepath.Dir(outPath), "."+filepath.Base(outPath)+".partial-")
	if err != nil {
		return res, writeError(outPath, err)
	}
	tmpName = tmp.Name()
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	o := newOuter(tmp, now())
	start, err := o.begin(ContentsPath)
	if err != nil {
		return res, err
	}
	// The envelope, the bulk of the package, bypasses the page cache
	// where the system allows (package direct).
	dw, err := direct.NewWriter(tmp, start)
	if err != nil {
		return res, err
	}
	defer dw.Close() // on the error paths; a second Close does nothing
	cw := &crcWriter{w: dw, skip: MacSize, crc: crc32.NewIEEE()}
	sealer, err := NewSealer(cw, *keys)
	if err != nil {
		return res, err
	}
	wres, err := stage.Write(ctx, sealer, setupFolder, stage.WriteOptions{
		Workers:  opt.Workers,
		TempDir:  filepath.Dir(outPath),
		Progress: opt.Progress,
		Skip:     ownFiles(outPath, tmpName),
	})
	if err != nil {
		return res, err
	}
	k, cipherSize, err := sealer.Close()
	if cerr := dw.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}
	if cw.err != nil {
		return res, cw.err
	}
	if _, err := tmp.WriteAt(k.Mac, start); err != nil {
		return res, err
	}
	crc := crc32Combine(crc32.ChecksumIEEE(k.Mac), cw.crc.Sum32(), cipherSize-MacSize)
	if err := o.finish(crc, cipherSize); err != nil {
		return res, err
	}
	info := k.Info(name, filepath.Base(setupRel))
	info.Msi = msiInfo
	xmlData := info.Marshal()
	if err := o.add(DetectionPath, xmlData, crc32.ChecksumIEEE(xmlData)); err != nil {
		return res, err
	}
	for _, c := range catalogs {
		if err := o.add(CatalogsPath+c.name, c.data, crc32.ChecksumIEEE(c.data)); err != nil {
			return res, err
		}
	}
	if err := o.close(); err != nil {
		return res, err
	}
	if err := tmp.Sync(); err != nil {
		return res, err
	}
	if err := tmp.Close(); err != nil {
		return res, err
	}
	if !opt.Replace {
		// Link fails if outPath appeared meanwhile; rename would clobber it.
		if err := os.Link(tmp.Name(), outPath); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return res, existsError(outPath, ErrExists, err)
			}
			return res, err
		}
		os.Remove(tmp.Name())
	} else if err := os.Rename(tmp.Name(), outPath); err != nil {
		return res, err
	}
	committed = true
	return PackResult{Path: outPath, Info: info, Files: wres.Files, Dirs: wres.Dirs, Bytes: wres.Bytes, Size: o.off}, nil
}

// packError is an error of Pack's worded for people: msg is the whole
// line; errs, the errors it stands for, stay for errors.Is and errors.As.
type packError struct {
	msg  string
	errs []error
}

func (e *packError) Error() string   { return e.msg }
func (e *packError) Unwrap() []error { return e.errs }

func newPackError(msg string, errs ...error) error { return &packError{msg: msg, errs: errs} }

// existsError is the error for an output that may not be replaced.
func existsError(outPath string, errs ...error) error {
	return newPackError(outPath+" exists (use -q to replace it)", errs...)
}

// packFailure words err, a failed Pack's, as Pack documents: an interrupted
// pack says so whatever the step; the setup folder's paths are named as
// the user gave them, and any failure to write the temporary file or to
// rename it into place names outPath. Errors worded already, and those
// with nothing to add, pass unchanged.
func packFailure(ctx context.Context, err error, setupFolder, outPath, tmpName string) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, ErrExists) {
		msg := "interrupted; nothing written"
		if errors.Is(cerr, context.DeadlineExceeded) {
			msg = "timed out; nothing written"
		}
		return newPackError(msg, cerr, err)
	}
	var worded *packError
	if errors.As(err, &worded) {
		return err
	}
	var ue *stage.UnsafeSourceError
	if errors.As(err, &ue) {
		return newPackError(fmt.Sprintf("%s: %s in the setup folder (not packed: unsafe path)", ue.Path, ue.What), err)
	}
	var le *os.LinkError // the temporary file linked or renamed into place
	if errors.As(err, &le) {
		return writeError(outPath, err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return err
	}
	if pe.Path != tmpName && !writeOp[pe.Op] && inFolder(setupFolder, pe.Path) {
		return newPackError(fmt.Sprintf("cannot read %s: %v", pe.Path, pe.Err), err)
	}
	// The temporary file, or one of stage's spill files beside it.
	return writeError(outPath, err)
}

// writeError is the error for a failure to write the package at outPath:
// it names outPath and the system's reason, not the file the failure
// happened to (the temporary file).
func writeError(outPath string, err error) error {
	return newPackError(fmt.Sprintf("cannot write %s: %v", outPath, reason(err)), err)
}

// writeOp holds the *fs.PathError operations that only writing does: the
// setup folder is only read.
var writeOp = map[string]bool{"write": true, "sync": true, "truncate": true, "close": true}

// inFolder reports whether path, as stage walks it (folder joined with
// names), lies in folder.
func inFolder(folder, path string) bool {
	rel, err := filepath.Rel(folder, path)
	return err == nil && filepath.IsLocal(rel)
}

// ownFiles is the Skip of a pack whose output lies in its own setup
// folder (-o the same as -c, or a folder inside it): true for exactly the
// files at paths that exist now (the package's temporary file, an earlier
// package being replaced), told by their identity (os.SameFile), so a path
// to the folder through a symbolic link, a different case on Windows or
// "..", matches too. The base name is compared first (without regard to
// case on Windows), so other files cost no stat. Other packages in the
// folder are packed like any file. nil when none of paths exists.
func ownFiles(paths ...string) func(string) bool {
	var own []fs.FileInfo
	names := map[string]bool{}
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		own = append(own, fi)
		names[foldName(filepath.Base(p))] = true
	}
	if len(own) == 0 {
		return nil
	}
	return func(p string) bool {
		if !names[foldName(filepath.Base(p))] {
			return false
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return false
		}
		for _, o := range own {
			if os.SameFile(o, fi) {
				return true
			}
		}
		return false
	}
}

// foldName is a file name as the system compares it: case folded on
// Windows.
func foldName(n string) string {
	if runtime.GOOS == "windows" {
		return strings.ToLower(n)
	}
	return n
}

// setupInfo returns Detection.xml's Name and MsiInfo for the setup file:
// for an .msi (any case), its ProductName and MsiInfo as Microsoft's tool
// records them; otherwise the file name and nil. An MSI that cannot be
// read fails the pack (the error wraps msi.ErrFormat or msi.ErrProperty).
func setupInfo(setupFolder, setupRel string) (string, *MsiInfo, error) {
	name := filepath.Base(setupRel)
	if !strings.EqualFold(filepath.Ext(setupRel), ".msi") {
		return name, nil, nil
	}
	m, err := msi.ReadInfoFile(filepath.Join(setupFolder, setupRel))
	if err != nil {
		return "", nil, fmt.Errorf("setup file %s: %w", setupRel, err)
	}
	if m.ProductName != "" {
		name = m.ProductName
	}
	return name, &MsiInfo{
		MsiProductCode: m.ProductCode, MsiProductVersion: m.ProductVersion,
		MsiPackageCode: m.PackageCode, MsiUpgradeCode: m.UpgradeCode,
		MsiExecutionContext: string(m.Context),
		MsiRequiresLogon:    m.RequiresLogon, MsiRequiresReboot: m.RequiresReboot,
		MsiIsMachineInstall: m.MachineInstall, MsiIsUserInstall: m.UserInstall,
		MsiIncludesServices: m.IncludesServices, MsiIncludesODBCDataSource: m.IncludesODBC,
		MsiContainsSystemRegistryKeys: m.SystemRegistryKeys, MsiContainsSystemFolders: m.SystemFolders,
		MsiPublisher: m.Manufacturer,
	}, nil
}

// SetupFileIn checks that setupFile names a regular file inside
// setupFolder (given relative to it, or as a path inside it) and returns
// its path relative to the folder. Its errors are worded as Pack's are
// and wrap the file system's (fs.ErrNotExist for a missing folder or file).
func SetupFileIn(setupFolder, setupFile string) (string, error) {
	st, err := os.Stat(setupFolder)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", newPackError(fmt.Sprintf("setup folder %s does not exist", setupFolder), err)
	case err != nil:
		return "", newPackError(fmt.Sprintf("cannot read setup folder %s: %v", setupFolder, reason(err)), err)
	case !st.IsDir():
		return "", fmt.Errorf("setup folder %s is not a folder", setupFolder)
	}
	rel := setupFile
	if filepath.IsAbs(setupFile) || strings.HasPrefix(filepath.Clean(setupFile), filepath.Clean(setupFolder)+string(filepath.Separator)) {
		absFolder, err1 := filepath.Abs(setupFolder)
		absFile, err2 := filepath.Abs(setupFile)
		if err1 != nil || err2 != nil {
			return "", fmt.Errorf("setup file %s: cannot resolve its path", setupFile)
		}
		if rel, err = filepath.Rel(absFolder, absFile); err != nil {
			return "", fmt.Errorf("setup file %s is not inside %s", setupFile, setupFolder)
		}
	}
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("setup file %s is not inside %s", setupFile, setupFolder)
	}
	fst, err := os.Lstat(filepath.Join(setupFolder, rel))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", newPackError(fmt.Sprintf("setup file %s does not exist in %s", setupFile, setupFolder), err)
	case err != nil:
		return "", newPackError(fmt.Sprintf("cannot read setup file %s: %v", setupFile, reason(err)), err)
	case !fst.Mode().IsRegular():
		return "", fmt.Errorf("setup file %s is not a regular file", setupFile)
	}
	return rel, nil
}

// reason is the system's reason in err, without the operation and paths
// that an *os.LinkError or *fs.PathError adds.
func reason(err error) error {
	var le *os.LinkError
	var pe *fs.PathError
	switch {
	case errors.As(err, &le):
		return le.Err
	case errors.As(err, &pe):
		return pe.Err
	}
	return err
}

// crcWriter writes sequentially through WriterAt from off, keeping the
// CRC-32 of everything after the first skip bytes.
type crcWriter struct {
	w    io.Writer
	skip int
	crc  hash.Hash32
	err  error
}

func (c *crcWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	q := p[:n]
	if c.skip > 0 {
		s := min(c.skip, len(q))
		q, c.skip = q[s:], c.skip-s
	}
	c.crc.Write(q)
	if err != nil {
		c.err = fmt.Errorf("decrypt: write package: %w", err)
	}
	return n, c.err
}
