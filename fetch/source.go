package fetch

import (
	"context"
	"io"
)

// SourceKind says where bytes come from, in Delivery Optimization's terms.
type SourceKind int

// The kinds of source, matching the DO telemetry columns.
const (
	HTTP         SourceKind = iota // the origin (CDN, blob store)
	CacheServer                    // a Connected Cache host; counts as HTTP too
	LanPeer                        // a peer on the same LAN
	GroupPeer                      // a peer in the same group
	InternetPeer                   // a peer elsewhere
	numKinds
)

var kindNames = [numKinds]string{"HTTP", "CacheServer", "LanPeer", "GroupPeer", "InternetPeer"}

func (k SourceKind) String() string {
	if k < 0 || k >= numKinds {
		return "Unknown"
	}
	return kindNames[k]
}

// IsPeer reports whether k is one of the peer kinds, whose pieces must be
// verified against the piece-hash list before use.
func (k SourceKind) IsPeer() bool { return k == LanPeer || k == GroupPeer || k == InternetPeer }

// Meta is what a source says about the content.
type Meta struct {
	Size         int64
	ETag         string // empty when the source has none (peers)
	LastModified string
	Ranges       bool // ranged reads are supported; otherwise Fetch may read from 0
}

// Source is one place that can supply byte ranges of the file.
//
// Fetch writes exactly the n bytes at off to w, in order, and returns how
// many it wrote; a partial write followed by an error is fine (completed
// pieces are kept). It returns an error wrapping ErrNotHave when it does
// not hold the range (a peer missing pieces), ErrChanged when the content
// no longer matches Stat, and a PermanentError when retrying cannot help.
// Fetch must honour ctx. Sources are used from several goroutines.
type Source interface {
	Kind() SourceKind
	Stat(ctx context.Context) (Meta, error)
	Fetch(ctx context.Context, off, n int64, w io.Writer) (int64, error)
}

// Limiter is optionally implemented by a Source that can serve only a few
// requests at once (a peer); the Job gives it at most that many.
type Limiter interface {
	MaxConnections() int
}
