// Package inflate decompresses a raw Deflate stream (RFC 1951) that is
// whole in memory into a buffer whose size is known in advance — a ZIP
// entry, whose compressed and uncompressed sizes the central directory
// gives. A streaming decompressor (compress/flate and its faster
// klauspost/compress twin) reads its input a byte at a time through an
// interface and writes every byte through a 32 KiB window that it then
// copies out; here the input is refilled 8 bytes at a time from a slice,
// matches are copied within the output itself, and codes are looked up in
// two-level tables. On the Go tree's source files that is about 1.5× the
// speed of klauspost/compress/flate file by file (BenchmarkDecompress) and
// 1.6× as one stream through Reader (BenchmarkReader), which runs the same
// decoder over a sliding window for streams too big to hold whole.
//
// What it accepts is what compress/flate accepts (the tests and the fuzz
// target compare the two): the same code-completeness rules, no distance
// before the start of the output, and nothing after the final block read.
package inflate

import (
	"encoding/binary"
	"errors"
	"io"
)

var (
	// ErrCorrupt is returned for a stream that breaks Deflate's rules.
	ErrCorrupt = errors.New("inflate: corrupt Deflate stream")
	// ErrTooLong is returned when the stream holds more data than dst.
	ErrTooLong = errors.New("inflate: more data than the output buffer holds")
)

// Decompressor holds the decode tables of dynamic blocks; reusing one
// saves their 13 KiB per stream. The zero value is ready to use; one
// Decompressor must not be used by two goroutines at once.
type Decompressor struct {
	litlen  [litlenSize]uint32
	dist    [distSize]uint32
	precode [precodeSize]uint32
	lens    [286 + 30]uint8
}

// bitReader is the input side: a 64-bit buffer of the next nb bits of src
// (bits above nb may hold the low bits of src[pos], never anything else),
// refilled from src[pos:]. When src is all there is (eof), it reads zero
// bytes past the end, counting them in over; a stream that consumed any of
// them was truncated. Otherwise (a Reader between refills of src) it never
// reads the last 8 bytes of src a byte at a time: codes pauses instead,
// and headers are parsed only with maxHeader bytes in src.
type bitReader struct {
	src  []byte
	pos  int
	bb   uint64
	nb   uint
	over uint
	eof  bool
}

// errShort is a bitReader without eof running out of src: a Reader bug,
// since it refills src before any header.
var errShort = errors.New("inflate: input buffer ran short")

// refill tops the buffer up to at least 56 bits.
func (b *bitReader) refill() error {
	if b.pos+8 <= len(b.src) {
		b.bb |= binary.LittleEndian.Uint64(b.src[b.pos:]) << b.nb
		b.pos += int(63-b.nb) >> 3
		b.nb |= 56
		return nil
	}
	if !b.eof {
		return errShort
	}
	for b.nb <= 56 {
		if b.pos < len(b.src) {
			b.bb |= uint64(b.src[b.pos]) << b.nb
			b.pos++
		} else if b.over++; b.over > 8 {
			return io.ErrUnexpectedEOF
		}
		b.nb += 8
	}
	return nil
}

// take consumes n ≤ 32 bits, refilling first if needed.
func (b *bitReader) take(n uint) (uint32, error) {
	if b.nb < n {
		if err := b.refill(); err != nil {
			return 0, err
		}
	}
	v := uint32(b.bb & (1<<n - 1))
	b.bb >>= n
	b.nb -= n
	return v, nil
}

// overrun reports whether bits past the end of src were consumed.
func (b *bitReader) overrun() bool { return b.over*8 > b.nb }

// fail turns an error found in the stream into io.ErrUnexpectedEOF when
// the bits that broke the rules were the zeros read past the end.
func (b *bitReader) fail(err error) error {
	if b.overrun() {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Decompress decodes the Deflate stream at the start of src into dst and
// returns the number of bytes it produced. Bytes of src after the final
// block are not looked at. A stream producing more than len(dst) bytes is
// ErrTooLong; one that ends early is io.ErrUnexpectedEOF; one that breaks
// the format is ErrCorrupt.
func (d *Decompressor) Decompress(dst, src []byte) (int, error) {
	in := bitReader{src: src, eof: true}
	out := 0
	for {
		h, err := in.take(3)
		if err != nil {
			return out, err
		}
		switch h >> 1 {
		case 0:
			out, err = stored(dst, out, &in)
		case 1:
			out, err = codes(dst, out, len(dst), &in, &fixedLitlen, &fixedDist)
		case 2:
			if err = d.header(&in); err == nil {
				out, err = codes(dst, out, len(dst), &in, &d.litlen, &d.dist)
			}
		default:
			err = ErrCorrupt
		}
		if err != nil {
			return out, in.fail(err)
		}
		if h&1 == 1 {
			if in.overrun() {
				return out, io.ErrUnexpectedEOF
			}
			return out, nil
		}
	}
}

// stored copies a stored block: the rest of the header byte is padding,
// then LEN, NLEN = ^LEN and LEN bytes.
func stored(dst []byte, out int, in *bitReader) (int, error) {
	in.nb &^= 7
	// The whole bytes still in the buffer were read ahead of pos (and
	// any zeros read past the end were not in src at all).
	p := in.pos + int(in.over) - int(in.nb>>3)
	in.bb, in.nb, in.over = 0, 0, 0
	if p+4 > len(in.src) {
		return out, io.ErrUnexpectedEOF
	}
	n := int(binary.LittleEndian.Uint16(in.src[p:]))
	if uint16(n) != ^binary.LittleEndian.Uint16(in.src[p+2:]) {
		return out, ErrCorrupt
	}
	p += 4
	if p+n > len(in.src) {
		in.pos = len(in.src)
		return out, io.ErrUnexpectedEOF
	}
	if n > len(dst)-out {
		return out, ErrTooLong
	}
	copy(dst[out:], in.src[p:p+n])
	in.pos = p + n
	return out + n, nil
}

// precodeOrder is the order in which the code-length code's lengths come.
var precodeOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// header reads a dynamic block's code lengths and builds its tables.
func (d *Decompressor) header(in *bitReader) error {
	v, err := in.take(14)
	if err != nil {
		return err
	}
	nlit, ndist, nclen := int(v&31)+257, int(v>>5&31)+1, int(v>>10)+4
	if nlit > 286 || ndist > 30 {
		return ErrCorrupt
	}
	var pl [19]uint8
	for _, s := range precodeOrder[:nclen] {
		v, err := in.take(3)
		if err != nil {
			return err
		}
		pl[s] = uint8(v)
	}
	if !build(d.precode[:], pl[:], precodeSyms[:], precodeBits) {
		return ErrCorrupt
	}
	lens := d.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		if in.nb < 16 {
			if err := in.refill(); err != nil {
				return err
			}
		}
		e := d.precode[in.bb&(precodeSize-1)]
		if e&flagBad != 0 {
			return ErrCorrupt
		}
		n := uint(e & 15)
		in.bb >>= n
		in.nb -= n
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return ErrCorrupt
			}
			v, _ := in.take(2) // 16 bits were there
			rep, val = 3+int(v), lens[i-1]
		case 17:
			v, _ := in.take(3)
			rep = 3 + int(v)
		default:
			v, _ := in.take(7)
			rep = 11 + int(v)
		}
		if i+rep > len(lens) {
			return ErrCorrupt
		}
		for range rep {
			lens[i] = val
			i++
		}
	}
	if !build(d.litlen[:], lens[:nlit], litlenSyms[:], litlenBits) ||
		!build(d.dist[:], lens[nlit:], distSyms[:], distBits) {
		return ErrCorrupt
	}
	return nil
}

// errPause is codes stopping before a symbol: out passed its limit, or
// (without eof) fewer than 8 bytes of src are left.
var errPause = errors.New("inflate: pause")

// codes decodes one Huffman-coded block into dst[out:], until its end or
// until out passes limit (errPause; with limit ≤ len(dst)-maxSymbol every
// symbol begun has room). Shift counts are masked with 63 so that the
// compiler need not handle shifts past 64.
func codes(dst []byte, out, limit int, in *bitReader, lt *[litlenSize]uint32, dt *[distSize]uint32) (int, error) {
	const lmask, dmask = 1<<litlenBits - 1, 1<<distBits - 1
	src, pos, bb, nb := in.src, in.pos, in.bb, in.nb
	defer func() { in.pos, in.bb, in.nb = pos, bb, nb }()
	for {
		if out > limit {
			return out, errPause
		}
		// 48 bits cover the longest symbol: a 15-bit length code, 5 extra
		// bits, a 15-bit distance code and 13 extra bits.
		if nb < 48 {
			if pos+8 <= len(src) {
				bb |= binary.LittleEndian.Uint64(src[pos:]) << (nb & 63)
				pos += int(63-nb) >> 3
				nb |= 56
			} else if !in.eof {
				return out, errPause
			} else {
				in.pos, in.bb, in.nb = pos, bb, nb
				if err := in.refill(); err != nil {
					return out, err
				}
				pos, bb, nb = in.pos, in.bb, in.nb
			}
		}
		e := lt[bb&lmask]
		if e&flagLink != 0 {
			bb >>= litlenBits
			nb -= litlenBits
			e = lt[(e>>16)+uint32(bb&(1<<(e>>4&15)-1))]
		}
		n := uint(e & 15)
		bb >>= n & 63
		nb -= n
		if e&flagLiteral != 0 {
			// With 48 bits there, two more literal codes (15 bits at
			// most each) can be read without a refill.
			if out+3 > len(dst) {
				if out >= len(dst) {
					return out, ErrTooLong
				}
				dst[out] = byte(e >> 16)
				out++
				continue
			}
			dst[out] = byte(e >> 16)
			e = lt[bb&lmask]
			if e&flagLiteral == 0 {
				out++
				continue
			}
			n = uint(e & 15)
			bb >>= n & 63
			nb -= n
			dst[out+1] = byte(e >> 16)
			e = lt[bb&lmask]
			if e&flagLiteral == 0 {
				out += 2
				continue
			}
			n = uint(e & 15)
			bb >>= n & 63
			nb -= n
			dst[out+2] = byte(e >> 16)
			out += 3
			continue
		}
		if e&(flagEnd|flagBad) != 0 {
			if e&flagBad != 0 {
				return out, ErrCorrupt
			}
			return out, nil
		}
		x := uint(e >> 4 & 15)
		length := int(e>>16) + int(bb&(1<<(x&63)-1))
		bb >>= x & 63
		nb -= x

		e = dt[bb&dmask]
		if e&flagLink != 0 {
			bb >>= distBits
			nb -= distBits
			e = dt[(e>>16)+uint32(bb&(1<<(e>>4&15)-1))]
		}
		if e&flagBad != 0 {
			return out, ErrCorrupt
		}
		n = uint(e & 15)
		bb >>= n & 63
		nb -= n
		x = uint(e >> 4 & 15)
		dist := int(e>>16) + int(bb&(1<<(x&63)-1))
		bb >>= x & 63
		nb -= x

		if dist > out {
			return out, ErrCorrupt
		}
		if length > len(dst)-out {
			return out, ErrTooLong
		}
		if dist >= 16 && out+length+16 <= len(dst) {
			// 16 bytes at a time; with dist ≥ 16 each word read is
			// already written, overlapping or not. (Through unsafe
			// pointers instead of bounds-checked slices this loop was
			// about 5 % faster overall; not worth giving up the checks.)
			from := out - dist
			for i := 0; i < length; i += 16 {
				d, s := dst[out+i:out+i+16], dst[from+i:from+i+16]
				binary.LittleEndian.PutUint64(d, binary.LittleEndian.Uint64(s))
				binary.LittleEndian.PutUint64(d[8:], binary.LittleEndian.Uint64(s[8:]))
			}
			out += length
			continue
		}
		out = match(dst, out, dist, length)
	}
}

// match copies length bytes from dist back; dst has room for them.
func match(dst []byte, out, dist, length int) int {
	from, end := out-dist, out+length
	if dist >= length {
		copy(dst[out:end], dst[from:])
		return end
	}
	if dist == 1 {
		b := dst[from]
		for i := out; i < end; i++ {
			dst[i] = b
		}
		return end
	}
	for i := out; i < end; i++ {
		dst[i] = dst[i-dist]
	}
	return end
}
