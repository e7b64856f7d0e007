package peer

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestCheckPieces: the check that stands in for the HMAC vouches only
// when every piece matches its hash: pieces marked as they came, and any
// not marked hashed from the file; a piece off its hash, or no hashes at
// all, fails it.
func TestCheckPieces(t *testing.T) {
	const pieceSize = 4096
	data := make([]byte, 3*pieceSize+100)
	for i := range data {
		data[i] = byte(i * 13)
	}
	var hashes [][32]byte
	for off := 0; off < len(data); off += pieceSize {
		hashes = append(hashes, sha256.Sum256(data[off:min(off+pieceSize, len(data))]))
	}
	path := filepath.Join(t.TempDir(), "content.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ct, err := newContent("intunewin-bin_00000000-0000-4000-8000-000000000001_1", int64(len(data)), pieceSize, hashes)
	if err != nil {
		t.Fatal(err)
	}
	ct.path = path
	ct.markHave(0)
	ct.markHave(2) // 1 and 3 came unhashed: the check hashes them from the file
	tr := &Transfer{ct: ct}
	if err := tr.CheckPieces(); err != nil || ct.Missing() != 0 {
		t.Fatalf("CheckPieces: %v, %d pieces missing; want nil, none", err, ct.Missing())
	}

	bad := append([]byte(nil), data...)
	bad[pieceSize+5] ^= 1
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	ct2, _ := newContent(ct.ID, int64(len(data)), pieceSize, hashes)
	ct2.path = path
	if err := (&Transfer{ct: ct2}).CheckPieces(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("CheckPieces with piece 1 off its hash: %v, want ErrCorrupt", err)
	}
	if (&Transfer{}).CheckPieces() == nil {
		t.Fatal("CheckPieces without piece hashes vouched")
	}
}
