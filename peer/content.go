package peer

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// Content is one file in the DO cache, keyed by its DoFileId: its piece
// hashes, which pieces are complete and verified, and what was uploaded.
// A Content that is still downloading grows piece by piece; only
// verified pieces are ever served. Safe for concurrent use.
type Content struct {
	ID        string
	Size      int64
	PieceSize int64
	hashes    [][32]byte

	mu       sync.Mutex
	path     string // the file pieces are read from
	f        *os.File
	have     Bitmap // complete and verified
	checked  Bitmap // hashed in this process (have pieces loaded from disk are checked on first serve)
	asking   Bitmap // pieces this peer is itself waiting for from another peer
	nhave    int
	changed  chan struct{} // closed when a piece is added, then replaced
	status   fetch.Status  // the last download record
	created  time.Time
	used     time.Time
	complete bool
	removed  bool
	cache    *Cache       // the DO cache holding it (nil: none)
	served   time.Time    // last upload to a peer (zero: none, or the server stopped)
	pinned   bool         // <id>.pin exists (as last looked at)
	saved    fetch.Status // the record last written
	hasSaved bool

	uploaded [3]atomic.Int64 // BytesTo{Lan,Group,Internet}Peers
}

func newContent(id string, size, pieceSize int64, hashes [][32]byte) (*Content, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	if size < 0 || pieceSize <= 0 {
		return nil, fmt.Errorf("%w: size %d, piece size %d", ErrHashes, size, pieceSize)
	}
	if n := int((size + pieceSize - 1) / pieceSize); n != len(hashes) {
		return nil, fmt.Errorf("%w: %d hashes for %d pieces", ErrHashes, len(hashes), n)
	}
	n := len(hashes)
	return &Content{ID: id, Size: size, PieceSize: pieceSize, hashes: hashes,
		have: NewBitmap(n), checked: NewBitmap(n), asking: NewBitmap(n), changed: make(chan struct{})}, nil
}

// Pieces is the number of pieces.
func (c *Content) Pieces() int { return len(c.hashes) }

// Hash is the SHA-256 of piece i.
func (c *Content) Hash(i int) [32]byte { return c.hashes[i] }

// bounds is the byte range of piece i.
func (c *Content) bounds(i int) (off, n int64) {
	off = int64(i) * c.PieceSize
	return off, min(c.PieceSize, c.Size-off)
}

// Has reports whether piece i is complete and verified here.
func (c *Content) Has(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.have.Has(i)
}

// Bitmap returns a copy of the verified pieces and whether all are.
func (c *Content) Bitmap() (Bitmap, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.have.Clone(), c.nhave == len(c.hashes)
}

// Missing is how many pieces are not yet verified here.
func (c *Content) Missing() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.hashes) - c.nhave
}

// markHave records piece i as written to the file and verified.
func (c *Content) markHave(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i < 0 || i >= len(c.hashes) || c.have.Has(i) {
		return
	}
	c.have.Set(i)
	c.checked.Set(i)
	c.nhave++
	close(c.changed)
	c.changed = make(chan struct{})
}

// forget drops piece i (its bytes on disk went bad).
func (c *Content) forget(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.have.Has(i) {
		c.have.Clear(i)
		c.checked.Clear(i)
		c.nhave--
		c.complete = false
	}
}

// setAsking notes that this peer waits for piece i from another peer
// (on) or no longer does; waiters on i are woken, since a peer that is
// itself waiting for a piece must not be waited on (two peers with
// different views of who owns a piece would wait on each other).
func (c *Content) setAsking(i int, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if on {
		c.asking.Set(i)
	} else {
		c.asking.Clear(i)
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitPiece returns once piece i is held, or done is closed, or this
// peer is itself asking another peer for it; it reports whether the
// piece is held.
func (c *Content) waitPiece(i int, done <-chan struct{}) bool {
	for {
		c.mu.Lock()
		have, ch, gone, asking := c.have.Has(i), c.changed, c.removed, c.asking.Has(i)
		c.mu.Unlock()
		if have || gone || asking {
			return have
		}
		select {
		case <-ch:
		case <-done:
			return c.Has(i)
		}
	}
}

// file returns the open file pieces are read from.
func (c *Content) file() (*os.File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed {
		return nil, fmt.Errorf("%w: %s", ErrUnknown, c.ID)
	}
	if c.f == nil {
		f, err := os.Open(c.path)
		if err != nil {
			return nil, fmt.Errorf("peer: %s: %w", c.ID, err)
		}
		c.f = f
	}
	return c.f, nil
}

// ReadPiece reads verified piece i into buf (which must hold PieceSize
// bytes) and returns the piece. A piece not verified in this process is
// hashed first; a mismatch forgets it and returns ErrCorrupt.
func (c *Content) ReadPiece(i int, buf []byte) ([]byte, error) {
	if i < 0 || i >= len(c.hashes) {
		return nil, fmt.Errorf("%w: %d of %d", ErrRange, i, len(c.hashes))
	}
	c.mu.Lock()
	have, checked := c.have.Has(i), c.checked.Has(i)
	c.mu.Unlock()
	if !have {
		return nil, fmt.Errorf("%w: %s piece %d", ErrNoPiece, c.ID, i)
	}
	f, err := c.file()
	if err != nil {
		return nil, err
	}
	off, n := c.bounds(i)
	b := buf[:n]
	if _, err := io.ReadFull(io.NewSectionReader(f, off, n), b); err != nil {
		return nil, fmt.Errorf("peer: %s piece %d: %w", c.ID, i, err)
	}
	if !checked {
		if sha256.Sum256(b) != c.hashes[i] {
			c.forget(i)
			return nil, fmt.Errorf("%w: %s piece %d", ErrCorrupt, c.ID, i)
		}
		c.mu.Lock()
		c.checked.Set(i)
		c.mu.Unlock()
	}
	return b, nil
}

// openPiece opens piece i for sending without reading it here, when it
// was verified in this process: a file of its own, positioned at the
// piece, so that concurrent sends each go out with sendfile. ok is false
// when the piece is not held or not yet verified here (ReadPiece then
// reads and hashes it) or the file does not open.
func (c *Content) openPiece(i int) (f *os.File, n int64, ok bool) {
	if i < 0 || i >= len(c.hashes) {
		return nil, 0, false
	}
	c.mu.Lock()
	good := c.have.Has(i) && c.checked.Has(i) && !c.removed
	path := c.path
	c.mu.Unlock()
	if !good {
		return nil, 0, false
	}
	off, n := c.bounds(i)
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, false
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, false
	}
	return f, n, true
}

// addUploaded counts n bytes served to a peer of kind k.
func (c *Content) addUploaded(k fetch.SourceKind, n int64) {
	switch k {
	case fetch.LanPeer:
		c.uploaded[0].Add(n)
	case fetch.GroupPeer:
		c.uploaded[1].Add(n)
	case fetch.InternetPeer:
		c.uploaded[2].Add(n)
	}
}

// Status is the DO record of this content: the last download's figures
// with the upload counters of this process added and, for content a
// Cache holds, what the cache adds: Status Caching while it is being
// served to peers (an upload within CachingWindow), Complete otherwise;
// ExpireOn (last use + MaxAge) and IsPinned.
func (c *Content) Status() fetch.Status {
	var now time.Time
	if c.cache != nil {
		now = c.cache.opt.Clock.Now()
	}
	c.mu.Lock()
	s := c.status
	if s.FileId == "" {
		s.FileId, s.FileSize = c.ID, c.Size
	}
	s.FileSizeInCache = c.cachedBytes()
	if c.cache != nil && c.complete {
		s.Status = imeapi.DOComplete
		if !c.served.IsZero() && now.Sub(c.served) < c.cache.opt.CachingWindow {
			s.Status = imeapi.DOCaching
		}
		s.ExpireOn = fetch.DateTime(c.used.Add(c.cache.opt.MaxAge))
		s.IsPinned = c.pinned
	}
	c.mu.Unlock()
	s.BytesToLanPeers += c.uploaded[0].Load()
	s.BytesToGroupPeers += c.uploaded[1].Load()
	s.BytesToInternetPeers += c.uploaded[2].Load()
	return s
}

// setStatus records a download's figures (its own upload counters are
// kept apart, in uploaded).
func (c *Content) setStatus(s fetch.Status) {
	s.BytesToLanPeers, s.BytesToGroupPeers, s.BytesToInternetPeers = 0, 0, 0
	c.mu.Lock()
	c.status = s
	c.mu.Unlock()
}

// cachedBytes is the size of the verified pieces; c.mu held.
func (c *Content) cachedBytes() int64 {
	if c.nhave == len(c.hashes) {
		return c.Size
	}
	var b int64
	for i := range c.hashes {
		if c.have.Has(i) {
			_, n := c.bounds(i)
			b += n
		}
	}
	return b
}

// close releases the open file.
func (c *Content) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f != nil {
		_ = c.f.Close()
		c.f = nil
	}
}
