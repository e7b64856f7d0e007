package inflate

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/flate"
)

// goSources returns up to 16 MiB of the Go tree's source files, each as
// its own stream compressed at the default level — what a ZIP of the
// toolchain holds.
func goSources(b *testing.B) (plain, packed [][]byte, total int64) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skip("no go command to find GOROOT: ", err)
	}
	root := filepath.Join(strings.TrimSpace(string(goroot)), "src")
	filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil || total > 16<<20 {
			return filepath.SkipDir
		}
		if de.Type().IsRegular() && filepath.Ext(p) == ".go" {
			data, err := os.ReadFile(p)
			if err == nil {
				plain = append(plain, data)
				packed = append(packed, compress(b, data, 6))
				total += int64(len(data))
			}
		}
		return nil
	})
	if len(plain) == 0 {
		b.Skip("no Go sources under GOROOT")
	}
	return plain, packed, total
}

// BenchmarkDecompress inflates the Go sources file by file: this package
// into a buffer of the known size, against klauspost/compress/flate
// (reset per stream, written out through its window) as stage used it.
func BenchmarkDecompress(b *testing.B) {
	plain, packed, total := goSources(b)
	b.Run("inflate", func(b *testing.B) {
		var d Decompressor
		dst := make([]byte, 4<<20)
		b.SetBytes(total)
		for b.Loop() {
			for i, z := range packed {
				if n, err := d.Decompress(dst[:len(plain[i])], z); err != nil || n != len(plain[i]) {
					b.Fatal(n, err)
				}
			}
		}
	})
	b.Run("klauspost", func(b *testing.B) {
		fr := flate.NewReader(nil)
		var br bytes.Reader
		b.SetBytes(total)
		for b.Loop() {
			for _, z := range packed {
				br.Reset(z)
				fr.(flate.Resetter).Reset(&br, nil)
				if _, err := fr.(io.WriterTo).WriteTo(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkReader inflates the Go sources as one stream (a big file of a
// ZIP): Reader against klauspost/compress/flate, both written out from
// their windows.
func BenchmarkReader(b *testing.B) {
	plain, _, total := goSources(b)
	z := compress(b, bytes.Join(plain, nil), 6)
	b.Run("inflate", func(b *testing.B) {
		r := NewReader(nil, nil)
		b.SetBytes(total)
		for b.Loop() {
			r.Reset(bytes.NewReader(z), nil)
			if n, err := r.WriteTo(io.Discard); err != nil || n != total {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("klauspost", func(b *testing.B) {
		fr := flate.NewReader(nil)
		b.SetBytes(total)
		for b.Loop() {
			fr.(flate.Resetter).Reset(bytes.NewReader(z), nil)
			if n, err := fr.(io.WriterTo).WriteTo(io.Discard); err != nil || n != total {
				b.Fatal(n, err)
			}
		}
	})
}
