package peer

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// fromCache puts content the DO cache already holds complete at path, as
// DO serves a download from its local cache, after checking every piece
// of the cached file against hashes (what sits on disk is not trusted
// for the install because it once verified). It reports false, and
// removes the cached content, when the cache holds it but it does not
// verify; false without removal when the cache does not hold it.
func (c *Cache) fromCache(id string, size, pieceSize int64, hashes [][32]byte, path string) (bool, error) {
	ct, ok := c.Get(id)
	if !ok {
		return false, nil
	}
	ct.mu.Lock()
	src, complete := ct.path, ct.complete
	ct.mu.Unlock()
	if !complete || ct.Size != size || ct.PieceSize != pieceSize || !sameHashes(ct.hashes, hashes) {
		return false, nil
	}
	if err := verifyFile(src, ct); err != nil {
		c.opt.Logf("peer: DO cache: %s does not verify (%v); downloading it again", id, err)
		return false, c.Remove(id)
	}
	_ = os.Remove(path)
	if err := os.Link(src, path); err != nil {
		if err := copyFile(src, path); err != nil {
			return false, fmt.Errorf("peer: DO cache: %w", err)
		}
	}
	ct.mu.Lock()
	ct.used = c.opt.Clock.Now()
	ct.mu.Unlock()
	return true, c.Save(ct)
}

func sameHashes(a, b [][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var errPieceMismatch = errors.New("piece hash mismatch")

// verifyFile checks every piece of the file at path against ct's hashes.
func verifyFile(path string, ct *Content) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, ct.PieceSize)
	for i := range ct.Pieces() {
		off, n := ct.bounds(i)
		if _, err := io.ReadFull(io.NewSectionReader(f, off, n), buf[:n]); err != nil {
			return fmt.Errorf("piece %d: %w", i, err)
		}
		if sha256.Sum256(buf[:n]) != ct.Hash(i) {
			return fmt.Errorf("piece %d: %w", i, errPieceMismatch)
		}
	}
	return nil
}

// cachedStatus is the DO record of a download served from the local
// cache: complete, nothing downloaded.
func cachedStatus(id string, size int64, mode imeapi.DownloadMode) fetch.Status {
	return fetch.Status{FileId: id, FileSize: size, FileSizeInCache: size, Status: imeapi.DOComplete, DownloadMode: mode}
}
