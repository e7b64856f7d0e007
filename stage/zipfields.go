package stage

import (
	"bufio"
	"encoding/binary"
	"io"
	"time"
)

// countReader counts bytes read and reads little-endian words. It is an
// io.ByteScanner so that an inflater on it stops exactly at the end of its
// stream.
type countReader struct {
	r *bufio.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// UnreadByte gives back the last byte read by ReadByte.
func (c *countReader) UnreadByte() error {
	if err := c.r.UnreadByte(); err != nil {
		return err
	}
	c.n--
	return nil
}

func (c *countReader) u32() (uint32, error) {
	var b [4]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// applyZip64 replaces sizes (and an offset, when given) saturated at
// 0xFFFFFFFF with the values of a ZIP64 extra record, in the record's
// order, and reports whether the record was there.
func applyZip64(extra []byte, usize, csize, offset *uint64) bool {
	for len(extra) >= 4 {
		id, size := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if size > len(extra) {
			return false
		}
		field := extra[:size]
		extra = extra[size:]
		if id != extraZip64 {
			continue
		}
		for _, p := range []*uint64{usize, csize, offset} {
			if p == nil || *p != 0xffffffff {
				continue
			}
			if len(field) < 8 {
				break
			}
			*p = binary.LittleEndian.Uint64(field)
			field = field[8:]
		}
		return true
	}
	return false
}

// extendedTime returns the modification time of an extended timestamp
// extra record (0x5455), or the zero time.
func extendedTime(extra []byte) time.Time {
	for len(extra) >= 4 {
		id, size := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if size > len(extra) {
			return time.Time{}
		}
		field := extra[:size]
		extra = extra[size:]
		if id == 0x5455 && len(field) >= 5 && field[0]&1 != 0 {
			return time.Unix(int64(int32(binary.LittleEndian.Uint32(field[1:]))), 0)
		}
	}
	return time.Time{}
}

// dosToTime reads MS-DOS date and time fields as UTC, as archive/zip does.
func dosToTime(d, t uint16) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.Date(int(d>>9)+1980, time.Month(d>>5&0xf), int(d&0x1f),
		int(t>>11), int(t>>5&0x3f), int(t&0x1f)*2, 0, time.UTC)
}
