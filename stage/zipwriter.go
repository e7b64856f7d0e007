package stage

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// ZIP record layout (APPNOTE.TXT 4.3). Limits are variables so that tests
// can force the ZIP64 records on small inputs.
const (
	sigLocal      = 0x04034b50
	sigCentral    = 0x02014b50
	sigEnd        = 0x06054b50
	sigEnd64      = 0x06064b50
	sigEnd64Loc   = 0x07064b50
	extraZip64    = 0x0001
	flagUTF8      = 0x0800
	version20     = 20 // creator FAT (0) in the high byte, like IntuneWinAppUtil
	version45     = 45 // ZIP64
	attrDirectory = 0x10
	methodStore   = 0
	methodDeflate = 8
)

const (
	sentinel32 = 0xFFFFFFFF // "see the ZIP64 field"
	sentinel16 = 0xFFFF
)

var (
	max32 uint64 = sentinel32 // a size or offset >= max32 goes to ZIP64 fields
	max16 uint64 = sentinel16 // this many entries or more need the ZIP64 end records
)

// zipHeader is one entry as written to the local and central headers.
type zipHeader struct {
	name   string // as stored ("\"-separated; a directory ends in "\")
	method uint16
	mtime  time.Time
	crc    uint32
	csize  uint64
	usize  uint64
	dir    bool
	offset uint64 // of the local header; set by zipWriter.header
}

// zipWriter writes ZIP records to a plain io.Writer in one pass; every
// entry's sizes and CRC must be known before its header is written.
type zipWriter struct {
	w       io.Writer
	off     uint64
	entries []zipHeader
}

func (z *zipWriter) Write(p []byte) (int, error) {
	n, err := z.w.Write(p)
	z.off += uint64(n)
	return n, err
}

// header writes h's local header; the entry's csize bytes follow.
func (z *zipWriter) header(h zipHeader) error {
	if len(h.name) > 0xFFFF {
		return fmt.Errorf("stage: name too long: %.40q…", h.name)
	}
	h.offset = z.off
	zip64 := h.usize >= max32 || h.csize >= max32
	b := make([]byte, 0, 30+len(h.name)+20)
	b = le32(b, sigLocal)
	b = le16(b, neededVersion(zip64))
	b = le16(b, flagUTF8)
	b = le16(b, h.method)
	t, d := dosTime(h.mtime)
	b = le16(b, t)
	b = le16(b, d)
	b = le32(b, h.crc)
	if zip64 {
		b = le32(b, sentinel32)
		b = le32(b, sentinel32)
	} else {
		b = le32(b, uint32(h.csize))
		b = le32(b, uint32(h.usize))
	}
	b = le16(b, uint16(len(h.name)))
	if zip64 {
		b = le16(b, 20)
		b = append(b, h.name...)
		b = le16(b, extraZip64)
		b = le16(b, 16)
		b = le64(b, h.usize)
		b = le64(b, h.csize)
	} else {
		b = le16(b, 0)
		b = append(b, h.name...)
	}
	if _, err := z.Write(b); err != nil {
		return err
	}
	z.entries = append(z.entries, h)
	return nil
}

// close writes the central directory and the end records.
func (z *zipWriter) close() error {
	start := z.off
	for _, h := range z.entries {
		if err := z.central(h); err != nil {
			return err
		}
	}
	size := z.off - start
	n := uint64(len(z.entries))
	zip64 := n >= max16 || size >= max32 || start >= max32
	if zip64 {
		end64 := z.off
		b := make([]byte, 0, 56+20)
		b = le32(b, sigEnd64)
		b = le64(b, 44)
		b = le16(b, version45)
		b = le16(b, version45)
		b = le32(b, 0)
		b = le32(b, 0)
		b = le64(b, n)
		b = le64(b, n)
		b = le64(b, size)
		b = le64(b, start)
		b = le32(b, sigEnd64Loc)
		b = le32(b, 0)
		b = le64(b, end64)
		b = le32(b, 1)
		if _, err := z.Write(b); err != nil {
			return err
		}
	}
	n16, size32, start32 := uint16(n), uint32(size), uint32(start)
	if zip64 {
		n16, size32, start32 = sentinel16, sentinel32, sentinel32
	}
	b := make([]byte, 0, 22)
	b = le32(b, sigEnd)
	b = le32(b, 0) // this disk, disk with the central directory
	b = le16(b, n16)
	b = le16(b, n16)
	b = le32(b, size32)
	b = le32(b, start32)
	b = le16(b, 0) // comment length
	_, err := z.Write(b)
	return err
}

func (z *zipWriter) central(h zipHeader) error {
	var extra []byte
	usize, csize, offset := uint32(h.usize), uint32(h.csize), uint32(h.offset)
	if h.usize >= max32 || h.csize >= max32 {
		// The local header carried both sizes in its ZIP64 field; so does
		// the central one (readers may expect the pair).
		extra = le64(le64(extra, h.usize), h.csize)
		usize, csize = sentinel32, sentinel32
	}
	if h.offset >= max32 {
		extra = le64(extra, h.offset)
		offset = sentinel32
	}
	zip64 := len(extra) > 0
	var attrs uint32
	if h.dir {
		attrs = attrDirectory
	}
	b := make([]byte, 0, 46+len(h.name)+4+len(extra))
	b = le32(b, sigCentral)
	b = le16(b, neededVersion(zip64)) // made by: FAT (0) << 8 | version
	b = le16(b, neededVersion(zip64))
	b = le16(b, flagUTF8)
	b = le16(b, h.method)
	t, d := dosTime(h.mtime)
	b = le16(b, t)
	b = le16(b, d)
	b = le32(b, h.crc)
	b = le32(b, csize)
	b = le32(b, usize)
	b = le16(b, uint16(len(h.name)))
	if zip64 {
		b = le16(b, uint16(4+len(extra)))
	} else {
		b = le16(b, 0)
	}
	b = le16(b, 0) // comment length
	b = le16(b, 0) // disk number start
	b = le16(b, 0) // internal attributes
	b = le32(b, attrs)
	b = le32(b, offset)
	b = append(b, h.name...)
	if zip64 {
		b = le16(b, extraZip64)
		b = le16(b, uint16(len(extra)))
		b = append(b, extra...)
	}
	_, err := z.Write(b)
	return err
}

func neededVersion(zip64 bool) uint16 {
	if zip64 {
		return version45
	}
	return version20
}

// dosTime encodes t (in UTC: the ZIP has no time zone, and archive/zip reads
// a DOS time as UTC) with its two-second resolution, clamped to 1980–2107.
func dosTime(t time.Time) (tm, date uint16) {
	t = t.UTC()
	switch {
	case t.Year() < 1980:
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	case t.Year() > 2107:
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tm = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return tm, date
}

func le16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
func le32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func le64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }
