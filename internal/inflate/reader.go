package inflate

import (
	"encoding/binary"
	"io"
)

const (
	historySize = 32 << 10  // how far back a match may reach
	windowSize  = 512 << 10 // history plus what one step decodes
	inputSize   = 64 << 10
	// maxHeader bounds a block header: 3 bits, a dynamic header's 14 bits
	// of counts, 19 precode lengths of 3 bits and 316 code lengths of at
	// most 7 bits each is 2,286 bits; any block starts with this much
	// input buffered (or all there is).
	maxHeader = 512
	// maxSymbol is the most one step of codes writes: a 258-byte match
	// copied 16 bytes at a time.
	maxSymbol = 258 + 16
)

type readerState uint8

const (
	atBlock readerState = iota
	inStored
	inCodes
	atEnd
)

// Reader decompresses a Deflate stream read from an io.Reader with the
// decoder of Decompress, through a 512 KiB window: when the window is
// full, all but the last 32 KiB has been handed out and slides away.
//
// A Reader reads its source in 64 KiB chunks, so it may read past the end
// of the Deflate stream: give it a source that ends with the stream (a
// ZIP entry's section, an io.LimitReader), not one whose later bytes
// another reader needs.
type Reader struct {
	d     Decompressor
	r     io.Reader
	buf   []byte // input; in.src is buf[:n]
	in    bitReader
	win   []byte
	out   int // bytes decoded into win
	read  int // win[read:out] is not yet handed out
	state readerState
	final bool // the current block is the last
	left  int  // bytes left of the stored block
	lt    *[litlenSize]uint32
	dt    *[distSize]uint32
	err   error // sticky; io.EOF after the final block
}

// NewReader returns a Reader of the stream in r; see Reset.
func NewReader(r io.Reader, dict []byte) *Reader {
	z := &Reader{buf: make([]byte, inputSize), win: make([]byte, windowSize)}
	z.Reset(r, dict)
	return z
}

// Reset makes z read a new stream from r, whose matches may reach back
// into the last 32 KiB of dict (nil for none).
func (z *Reader) Reset(r io.Reader, dict []byte) {
	if len(dict) > historySize {
		dict = dict[len(dict)-historySize:]
	}
	z.r, z.in = r, bitReader{src: z.buf[:0]}
	z.out = copy(z.win, dict)
	z.read, z.state, z.final, z.left, z.err = z.out, atBlock, false, 0, nil
}

// Read hands out decoded bytes.
func (z *Reader) Read(p []byte) (int, error) {
	for z.read == z.out {
		if z.err != nil {
			return 0, z.err
		}
		z.step()
	}
	n := copy(p, z.win[z.read:z.out])
	z.read += n
	return n, nil
}

// WriteTo writes the rest of the stream to w straight from the window.
func (z *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if z.read < z.out {
			n, err := w.Write(z.win[z.read:z.out])
			z.read += n
			total += int64(n)
			if err != nil {
				return total, err
			}
		}
		if z.err == io.EOF {
			return total, nil
		}
		if z.err != nil {
			return total, z.err
		}
		z.step()
	}
}

// step decodes more into the window, or sets z.err. Everything decoded so
// far has been handed out.
func (z *Reader) step() {
	if z.out > len(z.win)-maxSymbol {
		z.out = copy(z.win, z.win[z.out-historySize:z.out])
		z.read = z.out
	}
	if len(z.in.src)-z.in.pos < maxHeader && !z.in.eof {
		if err := z.fill(); err != nil {
			z.err = err
			return
		}
	}
	var err error
	switch z.state {
	case atBlock:
		err = z.block()
	case inStored:
		err = z.stored()
	case inCodes:
		z.out, err = codes(z.win, z.out, len(z.win)-maxSymbol, &z.in, z.lt, z.dt)
		switch err {
		case errPause:
			err = nil
		case nil:
			z.endBlock()
		}
	}
	if err != nil {
		z.err = z.in.fail(err)
	}
}

// fill moves the unread input to the front of buf and reads more. The
// whole bytes still in the bit buffer move too: a stored block's header
// gives them back.
func (z *Reader) fill() error {
	keep := z.in.pos - int(z.in.nb>>3)
	n := copy(z.buf, z.in.src[keep:])
	z.in.pos -= keep
	for empty := 0; n < maxHeader; {
		m, err := z.r.Read(z.buf[n:])
		n += m
		if m == 0 && err == nil {
			if empty++; empty == 100 {
				z.in.src = z.buf[:n]
				return io.ErrNoProgress
			}
		}
		if err == io.EOF {
			z.in.eof = true
			break
		}
		if err != nil {
			z.in.src = z.buf[:n]
			return err
		}
	}
	z.in.src = z.buf[:n]
	return nil
}

// block reads a block header.
func (z *Reader) block() error {
	h, err := z.in.take(3)
	if err != nil {
		return err
	}
	z.final = h&1 == 1
	switch h >> 1 {
	case 0:
		return z.storedHeader()
	case 1:
		z.lt, z.dt = &fixedLitlen, &fixedDist
	case 2:
		if err := z.d.header(&z.in); err != nil {
			return err
		}
		z.lt, z.dt = &z.d.litlen, &z.d.dist
	default:
		return ErrCorrupt
	}
	z.state = inCodes
	return nil
}

// storedHeader skips to the byte boundary and reads LEN and NLEN.
func (z *Reader) storedHeader() error {
	in := &z.in
	in.nb &^= 7
	p := in.pos + int(in.over) - int(in.nb>>3)
	in.bb, in.nb, in.over = 0, 0, 0
	if p+4 > len(in.src) {
		return io.ErrUnexpectedEOF
	}
	n := binary.LittleEndian.Uint16(in.src[p:])
	if n != ^binary.LittleEndian.Uint16(in.src[p+2:]) {
		return ErrCorrupt
	}
	in.pos = p + 4
	z.state, z.left = inStored, int(n)
	return nil
}

// stored copies what it can of the stored block.
func (z *Reader) stored() error {
	n := min(z.left, len(z.in.src)-z.in.pos, len(z.win)-z.out)
	if n == 0 && z.left > 0 {
		if z.in.eof {
			return io.ErrUnexpectedEOF
		}
		return nil // step fills or slides first
	}
	copy(z.win[z.out:], z.in.src[z.in.pos:z.in.pos+n])
	z.in.pos += n
	z.out += n
	z.left -= n
	if z.left == 0 {
		z.endBlock()
	}
	return nil
}

// endBlock moves on after a block: to the next, or to the end.
func (z *Reader) endBlock() {
	z.state = atBlock
	if !z.final {
		return
	}
	z.state = atEnd
	z.err = io.EOF
	if z.in.overrun() {
		z.err = io.ErrUnexpectedEOF
	}
}
