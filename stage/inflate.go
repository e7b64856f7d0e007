package stage

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/imepipe/imepipe/internal/inflate"
	"github.com/klauspost/compress/flate"
)

// windowSize is how far back a Deflate match may reach.
const windowSize = 32 << 10

// flateSource is what an inflater reads: a ByteScanner, so that a block
// header can be looked at and given back, and a type flate reads fast
// (*bufio.Reader or *bytes.Reader).
type flateSource interface {
	io.Reader
	io.ByteScanner
}

type inflateState uint8

const (
	atHeader inflateState = iota // a block header comes next, byte-aligned
	inStored                     // inside a stored block
	inFlate                      // the decompressor has the rest of the stream
	atEnd                        // the final block ended
)

// inflater decompresses one entry's Deflate stream. Packers write
// incompressible data as stored blocks (imepipe pack does for whole files;
// zlib does when compression would not pay), and a stored block is its own
// bytes: while the stream is a run of stored blocks from its start, the
// inflater reads them from the source straight into the caller's buffer,
// where a decompressor would copy them through its window and once more
// out of it. From the first compressed block on, flate decompresses the
// rest, primed with the last 32 KiB as its dictionary so that matches
// reaching back into the stored data resolve: internal/inflate's Reader
// when the source ends with the stream (it reads ahead in 64 KiB chunks;
// about 1.6× klauspost's speed), klauspost/compress/flate otherwise (it
// reads no byte past the stream's end).
type inflater struct {
	src     flateSource
	bounded bool            // src ends with the stream
	fast    *inflate.Reader // reused across entries
	fl      io.ReadCloser   // reused across entries
	state   inflateState
	left    int  // bytes left in the stored block
	final   bool // the stored block is the last
	hist    []byte
	buf     []byte // WriteTo's, for stored data
}

// reset starts a new stream from src; bounded says src ends with it.
func (z *inflater) reset(src flateSource, bounded bool) {
	z.src, z.bounded, z.state, z.left, z.final = src, bounded, atHeader, 0, false
	z.hist = z.hist[:0]
}

func (z *inflater) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		switch z.state {
		case atEnd:
			z.remember(p[:n])
			return n, io.EOF
		case inFlate:
			m, err := z.decompressor().Read(p[n:])
			return n + m, err
		case inStored:
			if z.left == 0 {
				z.state = atHeader
				if z.final {
					z.state = atEnd
				}
				continue
			}
			m, err := z.src.Read(p[n : n+min(len(p)-n, z.left)])
			n += m
			z.left -= m
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			if err != nil {
				return n, err
			}
		case atHeader:
			stored, err := z.header()
			if err != nil {
				return n, err
			}
			if !stored {
				if err := z.startFlate(p[:n]); err != nil {
					return n, err
				}
			}
		}
	}
	if z.state != inFlate {
		z.remember(p[:n])
	}
	return n, nil
}

// WriteTo writes the rest of the stream to w: compressed blocks straight
// from flate's window, stored ones through a buffer.
func (z *inflater) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if z.state == atHeader {
			stored, err := z.header()
			if err != nil {
				return total, err
			}
			if !stored {
				if err := z.startFlate(nil); err != nil {
					return total, err
				}
			}
		}
		if z.state == inFlate {
			n, err := z.decompressor().(io.WriterTo).WriteTo(w)
			return total + n, err
		}
		if z.buf == nil {
			z.buf = make([]byte, 64<<10)
		}
		n, rerr := z.Read(z.buf)
		if n > 0 {
			m, err := w.Write(z.buf[:n])
			total += int64(m)
			if err != nil {
				return total, err
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// header reads the next block's header. A stored block's header is read
// whole; a compressed block's first byte is given back for flate.
func (z *inflater) header() (stored bool, err error) {
	b, err := z.src.ReadByte()
	if err != nil {
		return false, unexpected(err)
	}
	if b>>1&3 != 0 {
		return false, z.src.UnreadByte()
	}
	// The rest of the header byte is padding; LEN and NLEN follow.
	var h [4]byte
	if _, err := io.ReadFull(z.src, h[:]); err != nil {
		return false, unexpected(err)
	}
	size, check := binary.LittleEndian.Uint16(h[:]), binary.LittleEndian.Uint16(h[2:])
	if size != ^check {
		return false, errStoredLength
	}
	z.state, z.left, z.final = inStored, int(size), b&1 == 1
	return true, nil
}

// startFlate hands the rest of the stream to the decompressor, primed with
// what was produced so far (out is this Read's part of it).
func (z *inflater) startFlate(out []byte) error {
	z.remember(out)
	z.state = inFlate
	switch {
	case z.bounded && z.fast == nil:
		z.fast = inflate.NewReader(z.src, z.hist)
	case z.bounded:
		z.fast.Reset(z.src, z.hist)
	case z.fl == nil:
		z.fl = flate.NewReaderDict(z.src, z.hist)
	default:
		return z.fl.(flate.Resetter).Reset(z.src, z.hist)
	}
	return nil
}

// decompressor is the one startFlate started.
func (z *inflater) decompressor() io.Reader {
	if z.bounded {
		return z.fast
	}
	return z.fl
}

// remember keeps the last windowSize bytes of output.
func (z *inflater) remember(out []byte) {
	if len(out) >= windowSize {
		z.hist = append(z.hist[:0], out[len(out)-windowSize:]...)
		return
	}
	if drop := len(z.hist) + len(out) - windowSize; drop > 0 {
		z.hist = z.hist[:copy(z.hist, z.hist[drop:])]
	}
	z.hist = append(z.hist, out...)
}

var errStoredLength = errors.New("flate: stored block length check failed")

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
