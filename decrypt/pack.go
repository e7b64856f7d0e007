package decrypt

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
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
func Pack(ctx context.Context, setupFolder, setupFile, outPath string, opt PackOptions) (PackResult, error) {
	var res PackResult
	setupRel, err := SetupFileIn(setupFolder, setupFile)
	if err != nil {
		return res, err
	}
	if _, err := os.Lstat(outPath); err == nil && !opt.Replace {
		return res, fmt.Errorf("decrypt: %w: %s (use -q to replace it)", ErrExists, outPath)
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
		return res, fmt.Errorf("decrypt: %w", err)
	}
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
		return res, fmt.Errorf("decrypt: %w", err)
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
	})
	if err != nil {
		return res, fmt.Errorf("decrypt: pack %s: %w", setupFolder, err)
	}
	k, cipherSize, err := sealer.Close()
	if cerr := dw.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("decrypt: write package: %w", cerr)
	}
	if err != nil {
		return res, err
	}
	if cw.err != nil {
		return res, cw.err
	}
	if _, err := tmp.WriteAt(k.Mac, start); err != nil {
		return res, fmt.Errorf("decrypt: write MAC: %w", err)
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
		return res, fmt.Errorf("decrypt: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return res, fmt.Errorf("decrypt: %w", err)
	}
	if !opt.Replace {
		// Link fails if outPath appeared meanwhile; rename would clobber it.
		if err := os.Link(tmp.Name(), outPath); err != nil {
			return res, fmt.Errorf("decrypt: %w: %w", ErrExists, err)
		}
		os.Remove(tmp.Name())
	} else if err := os.Rename(tmp.Name(), outPath); err != nil {
		return res, fmt.Errorf("decrypt: %w", err)
	}
	committed = true
	return PackResult{Path: outPath, Info: info, Files: wres.Files, Dirs: wres.Dirs, Bytes: wres.Bytes, Size: o.off}, nil
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
		return "", nil, fmt.Errorf("decrypt: setup file %s: %w", setupRel, err)
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
// its path relative to the folder.
func SetupFileIn(setupFolder, setupFile string) (string, error) {
	st, err := os.Stat(setupFolder)
	if err != nil {
		return "", fmt.Errorf("decrypt: setup folder: %w", err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("decrypt: setup folder %s is not a directory", setupFolder)
	}
	rel := setupFile
	if filepath.IsAbs(setupFile) || strings.HasPrefix(filepath.Clean(setupFile), filepath.Clean(setupFolder)+string(filepath.Separator)) {
		absFolder, err1 := filepath.Abs(setupFolder)
		absFile, err2 := filepath.Abs(setupFile)
		if err1 != nil || err2 != nil {
			return "", fmt.Errorf("decrypt: setup file %s: cannot resolve path", setupFile)
		}
		if rel, err = filepath.Rel(absFolder, absFile); err != nil {
			return "", fmt.Errorf("decrypt: setup file %s: %w", setupFile, err)
		}
	}
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("decrypt: setup file %s is not inside %s", setupFile, setupFolder)
	}
	fst, err := os.Lstat(filepath.Join(setupFolder, rel))
	if err != nil {
		return "", fmt.Errorf("decrypt: setup file: %w", err)
	}
	if !fst.Mode().IsRegular() {
		return "", fmt.Errorf("decrypt: setup file %s is not a regular file", setupFile)
	}
	return rel, nil
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
