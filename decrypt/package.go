package decrypt

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Paths of the two entries of the outer ZIP, in the order Microsoft's tool writes them.
const (
	ContentsPath  = "IntuneWinPackage/Contents/IntunePackage.intunewin"
	DetectionPath = "IntuneWinPackage/Metadata/Detection.xml"
)

// ErrNotPackage reports a file that is not an .intunewin package.
var ErrNotPackage = errors.New("not an .intunewin package")

// Package is an opened .intunewin: its Detection.xml and its encrypted inner file.
type Package struct {
	Info *Info
	// Content is the encrypted inner file (MAC ‖ IV ‖ ciphertext) when it is
	// stored uncompressed, as every known tool writes it; nil otherwise.
	Content *io.SectionReader
	// ContentSize is the encrypted inner file's length.
	ContentSize int64

	file *zip.File
}

// ReadPackage opens the outer ZIP of an .intunewin held in r. It reads
// only the ZIP directory and Detection.xml. Entry names are matched with
// either separator and any case, so files from third-party tools open too.
func ReadPackage(r io.ReaderAt, size int64) (*Package, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w: %w", ErrNotPackage, err)
	}
	var content, detection *zip.File
	for _, f := range zr.File {
		name := strings.ReplaceAll(f.Name, `\`, "/")
		switch {
		case strings.EqualFold(name, ContentsPath):
			content = f
		case strings.EqualFold(name, DetectionPath):
			detection = f
		}
	}
	if detection == nil {
		return nil, fmt.Errorf("decrypt: %w: no %s", ErrNotPackage, DetectionPath)
	}
	if content == nil {
		return nil, fmt.Errorf("decrypt: %w: no %s", ErrNotPackage, ContentsPath)
	}
	rc, err := detection.Open()
	if err != nil {
		return nil, fmt.Errorf("decrypt: open %s: %w", DetectionPath, err)
	}
	info, err := ParseInfo(rc)
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("decrypt: close %s: %w", DetectionPath, cerr)
	}
	if err != nil {
		return nil, err // ParseInfo's errors start "decrypt:"; the zip's read error is wrapped there
	}
	p := &Package{Info: info, ContentSize: int64(content.UncompressedSize64), file: content}
	if content.Method == zip.Store {
		off, err := content.DataOffset()
		if err != nil {
			return nil, fmt.Errorf("decrypt: %w: %w", ErrNotPackage, err)
		}
		if off+int64(content.CompressedSize64) > size || content.CompressedSize64 != content.UncompressedSize64 {
			return nil, fmt.Errorf("decrypt: %w: %s runs past the end of the file", ErrNotPackage, ContentsPath)
		}
		p.Content = io.NewSectionReader(r, off, int64(content.CompressedSize64))
	}
	return p, nil
}

// OpenContent returns a reader of the encrypted inner file.
func (p *Package) OpenContent() (io.ReadCloser, error) {
	if p.Content != nil {
		return io.NopCloser(io.NewSectionReader(p.Content, 0, p.ContentSize)), nil
	}
	rc, err := p.file.Open()
	if err != nil {
		return nil, fmt.Errorf("decrypt: open %s: %w", ContentsPath, err)
	}
	return rc, nil
}

// OpenFile opens the package at path; close the returned file when done with the Package.
func OpenFile(path string) (*Package, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("decrypt: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("decrypt: %w", err)
	}
	if st.IsDir() {
		f.Close()
		return nil, nil, fmt.Errorf("decrypt: %w: %s is a directory", ErrNotPackage, path)
	}
	p, err := ReadPackage(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, f, nil
}
