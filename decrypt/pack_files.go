package decrypt

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CatalogsPath is the folder of the outer ZIP that Pack's CatalogFolder
// files go to, one entry per file, stored (catalog files are signed and
// public, so they are not encrypted). Microsoft's tool does not document
// where -a puts them; this layout is our choice, beside Detection.xml.
const CatalogsPath = "IntuneWinPackage/Metadata/Catalogs/"

// maxCatalog caps one catalog file (they are kilobytes; a larger one is
// almost surely the wrong folder).
const maxCatalog = 64 << 20

// createPackageFile creates a new temporary file in dir for the package,
// like os.CreateTemp but with mode 0666 before the umask (os.CreateTemp's
// is 0600), as Microsoft's tool leaves its output. The package carries
// its keys in Detection.xml as every .intunewin does and is made to be
// handed on (uploaded); whoever wants it private sets a umask.
func createPackageFile(dir, prefix string) (*os.File, error) {
	var b [8]byte
	for range 100 {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		name := filepath.Join(dir, prefix+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, os.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("no free temporary name in %s", dir)
}

// catalogFile is one file of the catalog folder.
type catalogFile struct {
	name string
	data []byte
}

// readCatalogs reads every regular file directly in dir (IntuneWinAppUtil
// -a: "all files in this folder will be treated as catalog file"), sorted
// by name. Subfolders are an error, as are names a Windows tool would
// read as paths and files over maxCatalog: the package must hold what the
// folder says, nothing less.
func readCatalogs(dir string) ([]catalogFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("catalog folder: %w", err)
	}
	var out []catalogFile
	for _, e := range ents {
		name := e.Name()
		switch {
		case e.IsDir():
			return nil, fmt.Errorf("catalog folder %s: %s is a folder; catalog files only", dir, name)
		case !e.Type().IsRegular():
			return nil, fmt.Errorf("catalog folder %s: %s is not a regular file", dir, name)
		case strings.ContainsAny(name, `\:`) || !filepath.IsLocal(name):
			return nil, fmt.Errorf("catalog folder %s: %q cannot be a package entry name", dir, name)
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(f, maxCatalog+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", name, err)
		}
		if len(data) > maxCatalog {
			return nil, fmt.Errorf("catalog %s is over %d MiB: not a catalog file", name, maxCatalog>>20)
		}
		out = append(out, catalogFile{name: name, data: data})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("catalog folder %s holds no files", dir)
	}
	return out, nil
}
