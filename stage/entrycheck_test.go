package stage

import (
	"archive/zip"
	"bytes"
	"testing"
)

// TestUnixModeAsArchiveZip: the mode ExtractStream reads from a Unix-made
// central directory record (unixMode) is the one archive/zip gives
// Extract, for every file type, so checkKind and unixPerm decide the same
// for both extractors.
func TestUnixModeAsArchiveZip(t *testing.T) {
	for _, raw := range []uint32{0o100644, 0o100755, 0o104755, 0o040755, 0o120777, 0o010644, 0o020600, 0o060600, 0o140755, 0o000644} {
		name := "e"
		if raw&unixIFMT == unixIFDIR {
			name = "d/"
		}
		z := rawZip(t, []rawEntry{{name: name, creator: unix, attrs: raw << 16}})
		zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
		if err != nil {
			t.Fatal(err)
		}
		want := zr.File[0].Mode()
		got := unixMode(raw)
		if got.Type() != want.Type() || got.Perm() != want.Perm() {
			t.Errorf("%#o: unixMode %v, archive/zip %v", raw, got, want)
		}
		isDir := want.IsDir()
		if (checkKind("e", got) == nil) != (checkKind("e", want) == nil) || unixPerm(got, isDir) != unixPerm(want, isDir) {
			t.Errorf("%#o: checks differ: %v / %v", raw, checkKind("e", got), checkKind("e", want))
		}
	}
}
