package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/atomicfile"
)

// PieceSize is the size of a DO piece: every piece but the last is this long.
const PieceSize = 1 << 20

// blob is an app's encrypted inner file, cut out of its .intunewin and
// cached under the data folder with its piece list.
type blob struct {
	name      string // <id>_<version>.intunewin.bin
	path      string
	doFileID  string // intunewin-bin_<id>_<version>
	size      int64
	sha256    string // hex
	pieceSize int64
	pieces    []string // hex SHA-256 per piece
	plainSize int64    // UnencryptedContentSize
	modTime   time.Time
}

// blobMeta is the cache record next to a blob: what it was cut from and its hashes.
type blobMeta struct {
	Source        string   `json:"source"`
	SourceSize    int64    `json:"sourceSize"`
	SourceModTime int64    `json:"sourceModTime"` // Unix nanoseconds
	MacHash       string   `json:"macHash"`       // SHA-256 of the Mac text: no key material on disk
	Size          int64    `json:"size"`
	SHA256        string   `json:"sha256"`
	PieceSize     int64    `json:"pieceSize"`
	Pieces        []string `json:"pieces"`
}

// BlobName is the file name under /blobs/ of an app version's content.
func BlobName(appID, version string) string { return appID + "_" + version + ".intunewin.bin" }

// cacheBlob returns the cached blob of g's package if it was cut from the
// same source, or verifies the package (HMAC and FileDigest) while
// copying its encrypted inner file and hashing its pieces, all in one pass.
// Its errors go into an AppError naming the package, so carry no
// package prefix.
func cacheBlob(ctx context.Context, blobDir string, g imeapi.Win32LobApp, pkg *decrypt.Package, keys decrypt.Keys, src source) (blob, error) {
	b := blob{
		name:      BlobName(g.ID, g.Version),
		doFileID:  imeapi.DoFileID(g.ID, g.Version),
		pieceSize: PieceSize,
		plainSize: pkg.Info.UnencryptedContentSize,
	}
	b.path = filepath.Join(blobDir, b.name)
	metaPath := b.path + ".json"
	if m, st, ok := readMeta(metaPath, b.path); ok && m.Source == src.path && m.SourceSize == src.size &&
		m.SourceModTime == src.modTime.UnixNano() && m.MacHash == hashText(pkg.Info.Encryption.Mac) &&
		m.Size == pkg.ContentSize && m.PieceSize == PieceSize {
		b.size, b.sha256, b.pieces, b.modTime = m.Size, m.SHA256, m.Pieces, st.ModTime()
		return b, nil
	}
	tmp, err := os.CreateTemp(blobDir, ".blob-*")
	if err != nil {
		return b, fmt.Errorf("cache blob: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	defer tmp.Close()
	whole := sha256.New()
	ph := newPieceHasher(PieceSize)
	if err := verifyContent(ctx, pkg, keys, io.MultiWriter(tmp, whole, ph)); err != nil {
		return b, err
	}
	b.size = ph.total
	b.sha256 = hex.EncodeToString(whole.Sum(nil))
	b.pieces = ph.finish()
	if err := tmp.Sync(); err != nil {
		return b, fmt.Errorf("cache blob: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return b, fmt.Errorf("cache blob: %w", err)
	}
	if err := os.Rename(tmp.Name(), b.path); err != nil {
		return b, fmt.Errorf("cache blob: %w", err)
	}
	st, err := os.Stat(b.path)
	if err != nil {
		return b, fmt.Errorf("cache blob: %w", err)
	}
	b.modTime = st.ModTime()
	m := blobMeta{Source: src.path, SourceSize: src.size, SourceModTime: src.modTime.UnixNano(),
		MacHash: hashText(pkg.Info.Encryption.Mac), Size: b.size, SHA256: b.sha256, PieceSize: PieceSize, Pieces: b.pieces}
	meta, err := json.Marshal(m)
	if err == nil {
		err = atomicfile.Write(metaPath, meta, 0o600)
	}
	if err != nil {
		return b, fmt.Errorf("cache blob: %w", err)
	}
	return b, nil
}

// verifyContent reads pkg's encrypted inner file once, copying every
// byte of it to w, and checks it with keys: HMAC, FileDigest, and the
// length the ZIP gives. cacheBlob cuts blobs with it; apps check runs it
// with w io.Discard, so that it refuses what serve refuses.
func verifyContent(ctx context.Context, pkg *decrypt.Package, keys decrypt.Keys, w io.Writer) error {
	rc, err := pkg.OpenContent()
	if err != nil {
		return err
	}
	defer rc.Close()
	n := &countWriter{}
	tee := io.TeeReader(rc, io.MultiWriter(w, n))
	if _, err := decrypt.Open(ctx, io.Discard, tee, keys); err != nil {
		return err
	}
	// Open stops at the end of the ciphertext; anything after it is copied too.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return fmt.Errorf("read package: %w", err)
	}
	if n.n != pkg.ContentSize {
		return fmt.Errorf("%w: encrypted content is %d bytes, the ZIP says %d", decrypt.ErrTruncated, n.n, pkg.ContentSize)
	}
	return nil
}

// countWriter counts what is written to it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// readMeta reads a cache record and checks that its blob is there with its size.
func readMeta(metaPath, blobPath string) (blobMeta, os.FileInfo, bool) {
	var m blobMeta
	data, err := os.ReadFile(metaPath)
	if err != nil || json.Unmarshal(data, &m) != nil {
		return m, nil, false
	}
	st, err := os.Stat(blobPath)
	if err != nil || !st.Mode().IsRegular() || st.Size() != m.Size {
		return m, nil, false
	}
	if want := (m.Size + m.PieceSize - 1) / max(m.PieceSize, 1); int64(len(m.Pieces)) != want {
		return m, nil, false
	}
	return m, st, true
}

// pieceHasher hashes what is written to it in fixed-size pieces.
type pieceHasher struct {
	size   int64
	h      hash.Hash
	n      int64 // bytes in the current piece
	total  int64
	pieces []string
}

func newPieceHasher(size int64) *pieceHasher { return &pieceHasher{size: size, h: sha256.New()} }

func (p *pieceHasher) Write(b []byte) (int, error) {
	written := len(b)
	for len(b) > 0 {
		take := min(int64(len(b)), p.size-p.n)
		p.h.Write(b[:take])
		p.n += take
		p.total += take
		b = b[take:]
		if p.n == p.size {
			p.pieces = append(p.pieces, hex.EncodeToString(p.h.Sum(nil)))
			p.h.Reset()
			p.n = 0
		}
	}
	return written, nil
}

// finish returns the piece list, hashing a last short piece if any.
func (p *pieceHasher) finish() []string {
	if p.n > 0 {
		p.pieces = append(p.pieces, hex.EncodeToString(p.h.Sum(nil)))
		p.h.Reset()
		p.n = 0
	}
	return p.pieces
}

// hashText is the hex SHA-256 of s.
func hashText(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
