package peer

import (
	"context"
	"crypto/sha256"
	"hash"
	"io"

	"github.com/imepipe/imepipe/fetch"
)

// tracked wraps an HTTP or cache-host source so that the pieces it
// delivers become servable to peers: each piece is hashed as it passes
// and, once the Job has written all of it, marked held if it matches its
// SHA-256 (a piece that does not match is left for the final check to
// condemn, and never served).
type tracked struct {
	fetch.Source
	ct *Content
}

// URL and Host forward to the wrapped source, for the DO record.
func (t *tracked) URL() string {
	if u, ok := t.Source.(interface{ URL() string }); ok {
		return u.URL()
	}
	return ""
}

// Host is the wrapped source's host[:port].
func (t *tracked) Host() string {
	if h, ok := t.Source.(interface{ Host() string }); ok {
		return h.Host()
	}
	return ""
}

func (t *tracked) String() string {
	if s, ok := t.Source.(interface{ String() string }); ok {
		return s.String()
	}
	return t.Kind().String()
}

// MaxConnections forwards fetch.Limiter (0: no limit).
func (t *tracked) MaxConnections() int {
	if l, ok := t.Source.(fetch.Limiter); ok {
		return l.MaxConnections()
	}
	return 0
}

func (t *tracked) Fetch(ctx context.Context, off, n int64, w io.Writer) (int64, error) {
	tw := &trackWriter{w: w, ct: t.ct, off: off, aligned: off%t.ct.PieceSize == 0, h: sha256.New()}
	return t.Source.Fetch(ctx, off, n, tw)
}

// trackWriter hashes whole pieces as the Job accepts them.
type trackWriter struct {
	w       io.Writer
	ct      *Content
	off     int64 // file offset of the next byte
	aligned bool  // the current piece was seen from its start
	h       hash.Hash
}

func (t *trackWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	p = p[:n]
	for len(p) > 0 {
		i := int(t.off / t.ct.PieceSize)
		pieceOff, pieceLen := t.ct.bounds(i)
		take := min(int64(len(p)), pieceOff+pieceLen-t.off)
		if t.aligned {
			_, _ = t.h.Write(p[:take])
		}
		t.off += take
		p = p[take:]
		if t.off == pieceOff+pieceLen {
			var sum [32]byte
			if t.aligned && [32]byte(t.h.Sum(sum[:0])) == t.ct.Hash(i) {
				t.ct.markHave(i)
			}
			t.h.Reset()
			t.aligned = true
		}
	}
	return n, err
}
