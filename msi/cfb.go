package msi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Special sector numbers of [MS-CFB] 2.1.
const (
	maxRegSect = 0xFFFFFFFA
	fatSect    = 0xFFFFFFFD
	endOfChain = 0xFFFFFFFE
	freeSect   = 0xFFFFFFFF
	noStream   = 0xFFFFFFFF // directory entry id "none"
)

const (
	headerSize     = 512
	headerDIFAT    = 109 // DIFAT entries held in the header
	miniSectorSize = 64
	miniCutoff     = 4096
	dirEntrySize   = 128

	// maxStream bounds any stream read whole (tables, string pool,
	// summary, directory, mini FAT); real MSIs stay far below it.
	maxStream = 64 << 20
	// maxFATSectors bounds the DIFAT list kept in memory (4 bytes each):
	// 4 Mi FAT sectors of 512 bytes map 64 GiB, beyond any real MSI.
	maxFATSectors = 4 << 20
)

var cfbSignature = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// compound is an opened compound file: the header facts, the DIFAT (the
// list of FAT sectors) and a one-sector FAT cache. FAT entries are read on
// demand, so memory does not grow with the file.
type compound struct {
	r          io.ReaderAt
	size       int64
	shift      uint   // sector shift: 9 (512) or 12 (4096)
	ss         int64  // sector size
	sectors    uint32 // sectors that start inside the file
	major      uint16
	dirStart   uint32
	miniFAT    uint32 // first mini FAT sector
	miniFATN   uint32 // mini FAT sectors
	difat      []uint32
	fatCache   []byte
	fatCacheAt int64 // index into difat of the cached FAT sector; -1: none

	entries []dirEntry // the directory, read at open
	mini    *miniStream
}

// openCompound reads and checks the header, the DIFAT and the directory.
func openCompound(r io.ReaderAt, size int64) (*compound, error) {
	if size < headerSize {
		return nil, formatErr("file is %d bytes, shorter than a compound file header", size)
	}
	var h [headerSize]byte
	if err := readFull(r, h[:], 0); err != nil {
		return nil, err
	}
	if !bytes.Equal(h[:8], cfbSignature) {
		return nil, formatErr("no compound file signature")
	}
	le := binary.LittleEndian
	c := &compound{r: r, size: size, major: le.Uint16(h[0x1A:]), fatCacheAt: -1}
	if le.Uint16(h[0x1C:]) != 0xFFFE {
		return nil, formatErr("byte order mark %#04x", le.Uint16(h[0x1C:]))
	}
	shift := le.Uint16(h[0x1E:])
	switch {
	case c.major == 3 && shift == 9, c.major == 4 && shift == 12:
	default:
		return nil, formatErr("version %d with sector shift %d", c.major, shift)
	}
	if ms := le.Uint16(h[0x20:]); ms != 6 {
		return nil, formatErr("mini sector shift %d", ms)
	}
	if co := le.Uint32(h[0x38:]); co != miniCutoff {
		return nil, formatErr("mini stream cutoff %d", co)
	}
	c.shift = uint(shift)
	c.ss = 1 << c.shift
	// Sector s starts at (s+1)*ss; a short last sector still holds data.
	c.sectors = uint32(min((size-1)/c.ss, maxRegSect))
	numFAT := le.Uint32(h[0x2C:])
	c.dirStart = le.Uint32(h[0x30:])
	c.miniFAT = le.Uint32(h[0x3C:])
	c.miniFATN = le.Uint32(h[0x40:])
	difatStart := le.Uint32(h[0x44:])
	numDIFAT := le.Uint32(h[0x48:])
	if numFAT == 0 || numFAT > c.sectors || numFAT > maxFATSectors {
		return nil, formatErr("%d FAT sectors in a file of %d sectors", numFAT, c.sectors)
	}
	if numDIFAT > c.sectors || c.miniFATN > c.sectors {
		return nil, formatErr("%d DIFAT and %d mini FAT sectors in a file of %d sectors", numDIFAT, c.miniFATN, c.sectors)
	}
	if err := c.readDIFAT(h[0x4C:], numFAT, difatStart, numDIFAT); err != nil {
		return nil, err
	}
	c.fatCache = make([]byte, c.ss)
	if err := c.readDirectory(); err != nil {
		return nil, err
	}
	return c, nil
}

// readDIFAT collects the numFAT FAT sector numbers: 109 from the header,
// the rest from the DIFAT sector chain (each sector ends with the next
// one's number).
func (c *compound) readDIFAT(head []byte, numFAT, start, numDIFAT uint32) error {
	le := binary.LittleEndian
	c.difat = make([]uint32, 0, numFAT)
	for i := 0; i < headerDIFAT && uint32(len(c.difat)) < numFAT; i++ {
		c.difat = append(c.difat, le.Uint32(head[i*4:]))
	}
	buf := make([]byte, c.ss)
	per := int(c.ss/4) - 1
	seen := make(map[uint32]bool)
	for s, n := start, uint32(0); uint32(len(c.difat)) < numFAT; n++ {
		if n >= numDIFAT {
			return formatErr("DIFAT lists %d of %d FAT sectors", len(c.difat), numFAT)
		}
		if seen[s] {
			return formatErr("DIFAT chain loops at sector %d", s)
		}
		seen[s] = true
		if err := c.readSector(s, buf); err != nil {
			return fmt.Errorf("DIFAT: %w", err)
		}
		for i := 0; i < per && uint32(len(c.difat)) < numFAT; i++ {
			c.difat = append(c.difat, le.Uint32(buf[i*4:]))
		}
		s = le.Uint32(buf[per*4:])
	}
	for i, s := range c.difat {
		if !c.valid(s) {
			return formatErr("FAT sector %d is sector %#x, outside the file", i, s)
		}
	}
	return nil
}

// valid reports whether s names a sector that starts inside the file.
func (c *compound) valid(s uint32) bool { return s < c.sectors }

// readSector reads the first len(buf) bytes of sector s (at most a
// sector); the file ending before them is ErrFormat.
func (c *compound) readSector(s uint32, buf []byte) error {
	if !c.valid(s) {
		return formatErr("sector %#x outside the file", s)
	}
	if err := readFull(c.r, buf, (int64(s)+1)<<c.shift); err != nil {
		return fmt.Errorf("sector %d: %w", s, err)
	}
	return nil
}

// next returns the FAT entry of sector s: the sector after it in its chain.
func (c *compound) next(s uint32) (uint32, error) {
	per := uint32(c.ss / 4)
	i := int64(s / per)
	if i >= int64(len(c.difat)) {
		return 0, formatErr("sector %#x has no FAT entry", s)
	}
	if c.fatCacheAt != i {
		c.fatCacheAt = -1
		if err := c.readSector(c.difat[i], c.fatCache); err != nil {
			return 0, fmt.Errorf("FAT: %w", err)
		}
		c.fatCacheAt = i
	}
	return binary.LittleEndian.Uint32(c.fatCache[(s%per)*4:]), nil
}

// chain follows the FAT from start for exactly n sectors. A sector seen
// twice, a free or special entry, or a chain that ends early is an error.
func (c *compound) chain(start uint32, n int) ([]uint32, error) {
	if uint64(n) > uint64(c.sectors) {
		return nil, formatErr("chain of %d sectors in a file of %d", n, c.sectors)
	}
	return c.follow(start, n, n)
}

// chainToEnd follows the FAT from start until ENDOFCHAIN, at most limit sectors.
func (c *compound) chainToEnd(start uint32, limit int) ([]uint32, error) {
	return c.follow(start, -1, limit)
}

// follow walks the FAT from start: for exactly want sectors, or with want
// < 0 until ENDOFCHAIN, never past limit sectors.
func (c *compound) follow(start uint32, want, limit int) ([]uint32, error) {
	var out []uint32
	if want > 0 {
		out = make([]uint32, 0, want)
	}
	seen := make(map[uint32]struct{}, max(want, 0))
	for s := start; len(out) != want; {
		switch {
		case s == endOfChain && want < 0:
			return out, nil
		case s == endOfChain:
			return nil, formatErr("chain from sector %d ends after %d of %d sectors", start, len(out), want)
		case len(out) >= limit:
			return nil, formatErr("chain from sector %d longer than %d sectors", start, limit)
		case !c.valid(s):
			return nil, formatErr("chain from sector %d reaches sector %#x, outside the file", start, s)
		}
		if _, dup := seen[s]; dup {
			return nil, formatErr("chain from sector %d loops at sector %d", start, s)
		}
		seen[s] = struct{}{}
		out = append(out, s)
		if len(out) == want {
			break
		}
		var err error
		if s, err = c.next(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readChain reads size bytes from the sectors of chain, in order.
func (c *compound) readChain(chain []uint32, size int64) ([]byte, error) {
	out := make([]byte, size)
	for i, s := range chain {
		off := int64(i) << c.shift
		if off >= size {
			break
		}
		if err := c.readSector(s, out[off:min(off+c.ss, size)]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readFull reads len(buf) bytes at off; running short is ErrFormat.
func readFull(r io.ReaderAt, buf []byte, off int64) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return formatErr("truncated at offset %d", off+int64(n))
	}
	return fmt.Errorf("read at %d: %w", off, err)
}
