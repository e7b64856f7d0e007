package stage

import (
	"errors"
	"fmt"

	"github.com/imepipe/imepipe/internal/inflate"
)

const (
	// wholeMax is the largest entry, compressed and uncompressed, that is
	// read and inflated whole in memory (package internal/inflate, about
	// 1.5× the speed of a streaming decompressor) rather than streamed.
	// Most files of an app's tree are below it.
	wholeMax = 1 << 20
	// wholeSlack lets the inflater copy matches 16 bytes at a time up to
	// the declared end; a stream that uses it is longer than declared,
	// which the caller's size check reports.
	wholeSlack = 32
)

// whole inflates complete Deflate streams.
type whole struct {
	d inflate.Decompressor
}

// fits reports whether an entry of these sizes is inflated whole.
func fits(csize, usize uint64) bool { return csize <= wholeMax && usize <= wholeMax }

// inflateInto returns what the Deflate stream src inflates to, expected
// to be size bytes, in dst, which has room for size+wholeSlack. A stream
// that would produce more than that is an error.
func (w *whole) inflateInto(dst, src []byte, size int) ([]byte, error) {
	dst = dst[:size+wholeSlack]
	n, err := w.d.Decompress(dst, src)
	if errors.Is(err, inflate.ErrTooLong) {
		err = fmt.Errorf("more data than the declared %d bytes", size)
	}
	return dst[:n], err
}
