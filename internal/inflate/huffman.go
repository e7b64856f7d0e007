package inflate

import "math/bits"

// A decode table maps the next bits of the stream (least significant bit
// first) to an entry. Codes up to the table's root bits are looked up in
// one step; a longer code's first root bits lead to a subtable indexed by
// its remaining bits.
//
// Entry layout (uint32):
//
//	bits 0-3   bits to consume (the code's length, or the root bits for a
//	           subtable link, or the bits past the root in a subtable)
//	bits 4-7   extra bits after the code (lengths, distances), or the
//	           subtable's index bits for a link
//	bits 8-15  flags
//	bits 16-31 value: literal byte, length or distance base, symbol, or
//	           the subtable's offset for a link
const (
	flagLiteral = 1 << 15
	flagEnd     = 1 << 14 // end of block
	flagLink    = 1 << 13
	flagBad     = 1 << 12 // no code leads here, or a symbol Deflate forbids
)

const (
	litlenBits  = 10
	distBits    = 8
	precodeBits = 7 // precode lengths are at most 7: no subtables

	// A subtable holds all codes under its root prefix, so it is 2^k
	// entries for codes k bits past the root, and a complete code needs at
	// least k+1 symbols under the prefix to reach depth k. With 286
	// literal/length symbols and k ≤ 5 the subtables need at most
	// 286/6 × 32 = 1525 entries; with 30 distance symbols and k ≤ 7, at
	// most 3 × 128 + 64 = 448. build checks the bound anyway.
	litlenSize  = 1<<litlenBits + 1536
	distSize    = 1<<distBits + 512
	precodeSize = 1 << precodeBits
)

const maxCodeLen = 15

// Per-symbol entries without their bit counts (build adds those).
var (
	litlenSyms  [288]uint32
	distSyms    [32]uint32
	precodeSyms [19]uint32
)

func init() {
	for i := range 256 {
		litlenSyms[i] = flagLiteral | uint32(i)<<16
	}
	litlenSyms[256] = flagEnd
	base := [...]uint32{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
		35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	extra := [...]uint32{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
		3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	for i := range base {
		litlenSyms[257+i] = base[i]<<16 | extra[i]<<4
	}
	litlenSyms[286], litlenSyms[287] = flagBad, flagBad
	for i := range 30 {
		// Distance codes 0-3 are 1-4; then each pair of codes doubles the
		// span with one more extra bit.
		var b, x uint32 = uint32(i) + 1, 0
		if i >= 4 {
			x = uint32(i)/2 - 1
			b = (2+uint32(i)&1)<<x + 1
		}
		distSyms[i] = b<<16 | x<<4
	}
	distSyms[30], distSyms[31] = flagBad, flagBad
	for i := range precodeSyms {
		precodeSyms[i] = uint32(i) << 16
	}
	initFixed()
}

// The fixed Huffman codes of block type 1.
var fixedLitlen [litlenSize]uint32
var fixedDist [distSize]uint32

func initFixed() {
	var lens [288]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	if !build(fixedLitlen[:], lens[:], litlenSyms[:], litlenBits) {
		panic("inflate: fixed literal/length code")
	}
	var dl [32]uint8
	for i := range dl {
		dl[i] = 5
	}
	if !build(fixedDist[:], dl[:], distSyms[:], distBits) {
		panic("inflate: fixed distance code")
	}
}

// build fills table from the code lengths of the symbols (lens[i] for
// symbol i, 0 = unused) with root bits in the first level, returning false
// for a code Deflate does not allow. Like zlib and Go's compress/flate it
// accepts complete codes, a single code of length 1 (the other bit
// pattern is invalid) and no code at all (any use is invalid).
func build(table []uint32, lens []uint8, syms []uint32, root uint) bool {
	var count [maxCodeLen + 1]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	left, n := 1, 0
	for l := 1; l <= maxCodeLen; l++ {
		n += count[l]
		left = left<<1 - count[l]
		if left < 0 {
			return false // over-subscribed
		}
	}
	if left > 0 {
		if n > 1 || (n == 1 && count[1] != 1) {
			return false // incomplete
		}
		for i := range table[:1<<root] {
			table[i] = flagBad
		}
		if n == 0 {
			return true
		}
	}

	// Symbols in canonical order: by length, then by symbol.
	var offs [maxCodeLen + 2]int
	for l := 1; l <= maxCodeLen; l++ {
		offs[l+1] = offs[l] + count[l]
	}
	var sorted [288]uint16
	for s, l := range lens {
		if l != 0 {
			sorted[offs[l]] = uint16(s)
			offs[l]++
		}
	}
	sortedSyms := sorted[:n]

	// Canonical codes, most significant bit first, walk the code space in
	// order; Deflate sends them least significant bit first, so the table
	// index is the reversed code.
	code, codeLen := 0, 0
	next := 1 << root // where the next subtable goes
	prefix, subBits, subOff := -1, 0, 0
	for i, s := range sortedSyms {
		l := int(lens[s])
		code <<= l - codeLen
		codeLen = l
		rev := reverse(code, l)
		if uint(l) <= root {
			e := syms[s] | uint32(l)
			for j := rev; j < 1<<root; j += 1 << l {
				table[j] = e
			}
		} else {
			low := rev & (1<<root - 1)
			if low != prefix {
				// A new prefix. Codes count up in canonical order, so the
				// others under it come next; its subtable spans the
				// deepest of them.
				prefix, subOff = low, next
				top, c, cl := l, code, l
				for _, t := range sortedSyms[i+1:] {
					tl := int(lens[t])
					c, cl = (c+1)<<(tl-cl), tl
					if c>>(tl-int(root)) != code>>(l-int(root)) {
						break
					}
					top = tl
				}
				subBits = top - int(root)
				next += 1 << subBits
				if next > len(table) {
					return false
				}
				table[low] = flagLink | uint32(subOff)<<16 | uint32(subBits)<<4 | uint32(root)
			}
			e := syms[s] | uint32(l-int(root))
			for j := rev >> root; j < 1<<subBits; j += 1 << (l - int(root)) {
				table[subOff+j] = e
			}
		}
		code++
	}
	return true
}

// reverse returns the low n bits of code in reverse order.
func reverse(code, n int) int {
	return int(bits.Reverse16(uint16(code)) >> (16 - n))
}
