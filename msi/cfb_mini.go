package msi

import (
	"encoding/binary"
	"fmt"
)

// miniStream is the root entry's stream, cut into 64-byte mini sectors
// for the small streams, with its mini FAT.
type miniStream struct {
	c     *compound
	fat   []byte   // the mini FAT, 4 bytes an entry
	chain []uint32 // the root stream's sectors
	size  int64    // the root stream's size
}

// miniStream loads the mini FAT and the root chain once.
func (c *compound) miniStream() (*miniStream, error) {
	if c.mini != nil {
		return c.mini, nil
	}
	root := &c.entries[0]
	if c.miniFATN == 0 || root.size == 0 {
		return nil, formatErr("small stream but no mini stream")
	}
	if int64(c.miniFATN)<<c.shift > maxStream {
		return nil, formatErr("mini FAT of %d sectors", c.miniFATN)
	}
	fatChain, err := c.chain(c.miniFAT, int(c.miniFATN))
	if err != nil {
		return nil, chainErr("mini FAT", err)
	}
	fat, err := c.readChain(fatChain, int64(len(fatChain))<<c.shift)
	if err != nil {
		return nil, chainErr("mini FAT", err)
	}
	rootChain, err := c.chain(root.start, int((root.size+c.ss-1)>>c.shift))
	if err != nil {
		return nil, chainErr("mini stream", err)
	}
	c.mini = &miniStream{c: c, fat: fat, chain: rootChain, size: root.size}
	return c.mini, nil
}

// read returns size bytes of the small stream starting at mini sector start.
func (m *miniStream) read(start uint32, size int64) ([]byte, error) {
	n := int((size + miniSectorSize - 1) / miniSectorSize)
	entries := uint32(len(m.fat) / 4)
	out := make([]byte, size)
	seen := make(map[uint32]struct{}, n)
	s := start
	for i := range n {
		if s >= entries || int64(s+1)*miniSectorSize > m.size {
			return nil, formatErr("mini sector %#x outside the mini stream", s)
		}
		if _, dup := seen[s]; dup {
			return nil, formatErr("mini chain from %d loops at mini sector %d", start, s)
		}
		seen[s] = struct{}{}
		off := int64(s) * miniSectorSize
		sec := m.chain[off>>m.c.shift]
		dst := out[int64(i)*miniSectorSize : min(int64(i+1)*miniSectorSize, size)]
		if err := readFull(m.c.r, dst, (int64(sec)+1)<<m.c.shift+off&(m.c.ss-1)); err != nil {
			return nil, fmt.Errorf("mini stream: %w", err)
		}
		if i+1 < n {
			s = binary.LittleEndian.Uint32(m.fat[s*4:])
		}
	}
	return out, nil
}
