package decrypt

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// outer writes the outer ZIP of a package: two stored entries, sizes and
// CRC in the local headers, as Microsoft's tool does. The first entry is
// streamed and patched afterwards, so its local header reserves a 28-byte
// extra field: Microsoft's own padding record (0xA220), which becomes a
// ZIP64 record when the entry reaches 4 GiB, a size Microsoft's tool
// cannot write.
type outer struct {
	w       io.WriterAt
	off     int64
	modTime uint16
	modDate uint16
	entries []outerEntry
}

type outerEntry struct {
	name   string
	crc    uint32
	size   int64
	offset int64
}

const (
	sigLocal      = 0x04034b50
	sigCentral    = 0x02014b50
	sigEnd        = 0x06054b50
	sigEnd64      = 0x06064b50
	sigEnd64Loc   = 0x07064b50
	localLen      = 30
	reservedExtra = 28
	max32         = 0xffffffff
	extraZip64    = 0x0001
	extraPadding  = 0xa220
)

func newOuter(w io.WriterAt, now time.Time) *outer {
	d, t := dosTime(now)
	return &outer{w: w, modDate: d, modTime: t}
}

// begin writes a placeholder local header for name and returns the offset
// at which the entry's data starts.
func (o *outer) begin(name string) (int64, error) {
	o.entries = append(o.entries, outerEntry{name: name, offset: o.off})
	h := o.local(name, 0, 0, false)
	if err := o.write(h); err != nil {
		return 0, err
	}
	return o.off, nil
}

// finish records the streamed entry's CRC and size, which the caller has
// written directly after begin's header, and patches the header.
func (o *outer) finish(crc uint32, size int64) error {
	e := &o.entries[len(o.entries)-1]
	e.crc, e.size = crc, size
	h := o.local(e.name, crc, size, size >= max32)
	if _, err := o.w.WriteAt(h, e.offset); err != nil {
		return fmt.Errorf("decrypt: patch zip header: %w", err)
	}
	o.off = e.offset + int64(len(h)) + size
	return nil
}

// add writes a whole small entry.
func (o *outer) add(name string, data []byte, crc uint32) error {
	if _, err := o.begin(name); err != nil {
		return err
	}
	if err := o.write(data); err != nil {
		return err
	}
	return o.finish(crc, int64(len(data)))
}

// local builds a local file header with the reserved extra field.
func (o *outer) local(name string, crc uint32, size int64, zip64 bool) []byte {
	b := make([]byte, 0, localLen+len(name)+reservedExtra)
	version, sz := uint16(10), uint32(size)
	if zip64 {
		version, sz = 45, max32
	}
	b = binary.LittleEndian.AppendUint32(b, sigLocal)
	b = binary.LittleEndian.AppendUint16(b, version)
	b = binary.LittleEndian.AppendUint16(b, 0) // flags
	b = binary.LittleEndian.AppendUint16(b, 0) // stored
	b = binary.LittleEndian.AppendUint16(b, o.modTime)
	b = binary.LittleEndian.AppendUint16(b, o.modDate)
	b = binary.LittleEndian.AppendUint32(b, crc)
	b = binary.LittleEndian.AppendUint32(b, sz)
	b = binary.LittleEndian.AppendUint32(b, sz)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(name)))
	b = binary.LittleEndian.AppendUint16(b, reservedExtra)
	b = append(b, name...)
	if zip64 {
		b = binary.LittleEndian.AppendUint16(b, extraZip64)
		b = binary.LittleEndian.AppendUint16(b, 16)
		b = binary.LittleEndian.AppendUint64(b, uint64(size))
		b = binary.LittleEndian.AppendUint64(b, uint64(size))
		return appendPadding(b, reservedExtra-20)
	}
	return appendPadding(b, reservedExtra)
}

// appendPadding appends a Microsoft padding extra record of n bytes in all.
func appendPadding(b []byte, n int) []byte {
	b = binary.LittleEndian.AppendUint16(b, extraPadding)
	b = binary.LittleEndian.AppendUint16(b, uint16(n-4))
	b = binary.LittleEndian.AppendUint16(b, 0xa028) // the record's signature
	b = binary.LittleEndian.AppendUint16(b, uint16(n-8))
	return append(b, make([]byte, n-8)...)
}

// close writes the central directory and the end records (ZIP64 ones when needed).
func (o *outer) close() error {
	start := o.off
	var cd []byte
	for _, e := range o.entries {
		var extra []byte
		sz, off, version := uint32(e.size), uint32(e.offset), uint16(10)
		if e.size >= max32 {
			sz = max32
			extra = binary.LittleEndian.AppendUint64(extra, uint64(e.size))
			extra = binary.LittleEndian.AppendUint64(extra, uint64(e.size))
		}
		if e.offset >= max32 {
			off = max32
			extra = binary.LittleEndian.AppendUint64(extra, uint64(e.offset))
		}
		if extra != nil {
			version = 45
			extra = append(binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, extraZip64), uint16(len(extra))), extra...)
		}
		cd = binary.LittleEndian.AppendUint32(cd, sigCentral)
		cd = binary.LittleEndian.AppendUint16(cd, 45) // made by: version 4.5, MS-DOS
		cd = binary.LittleEndian.AppendUint16(cd, version)
		cd = binary.LittleEndian.AppendUint16(cd, 0)
		cd = binary.LittleEndian.AppendUint16(cd, 0)
		cd = binary.LittleEndian.AppendUint16(cd, o.modTime)
		cd = binary.LittleEndian.AppendUint16(cd, o.modDate)
		cd = binary.LittleEndian.AppendUint32(cd, e.crc)
		cd = binary.LittleEndian.AppendUint32(cd, sz)
		cd = binary.LittleEndian.AppendUint32(cd, sz)
		cd = binary.LittleEndian.AppendUint16(cd, uint16(len(e.name)))
		cd = binary.LittleEndian.AppendUint16(cd, uint16(len(extra)))
		cd = binary.LittleEndian.AppendUint16(cd, 0) // comment
		cd = binary.LittleEndian.AppendUint16(cd, 0) // disk
		cd = binary.LittleEndian.AppendUint16(cd, 0) // internal attributes
		cd = binary.LittleEndian.AppendUint32(cd, 0) // external attributes
		cd = binary.LittleEndian.AppendUint32(cd, off)
		cd = append(cd, e.name...)
		cd = append(cd, extra...)
	}
	end := start + int64(len(cd))
	n := uint16(len(o.entries))
	cdOff := uint32(start)
	if start >= max32 {
		cdOff = max32
		cd = binary.LittleEndian.AppendUint32(cd, sigEnd64)
		cd = binary.LittleEndian.AppendUint64(cd, 44)
		cd = binary.LittleEndian.AppendUint16(cd, 45)
		cd = binary.LittleEndian.AppendUint16(cd, 45)
		cd = binary.LittleEndian.AppendUint32(cd, 0)
		cd = binary.LittleEndian.AppendUint32(cd, 0)
		cd = binary.LittleEndian.AppendUint64(cd, uint64(n))
		cd = binary.LittleEndian.AppendUint64(cd, uint64(n))
		cd = binary.LittleEndian.AppendUint64(cd, uint64(end-start))
		cd = binary.LittleEndian.AppendUint64(cd, uint64(start))
		cd = binary.LittleEndian.AppendUint32(cd, sigEnd64Loc)
		cd = binary.LittleEndian.AppendUint32(cd, 0)
		cd = binary.LittleEndian.AppendUint64(cd, uint64(end))
		cd = binary.LittleEndian.AppendUint32(cd, 1)
	}
	cd = binary.LittleEndian.AppendUint32(cd, sigEnd)
	cd = binary.LittleEndian.AppendUint16(cd, 0)
	cd = binary.LittleEndian.AppendUint16(cd, 0)
	cd = binary.LittleEndian.AppendUint16(cd, n)
	cd = binary.LittleEndian.AppendUint16(cd, n)
	cd = binary.LittleEndian.AppendUint32(cd, uint32(end-start))
	cd = binary.LittleEndian.AppendUint32(cd, cdOff)
	cd = binary.LittleEndian.AppendUint16(cd, 0)
	return o.write(cd)
}

func (o *outer) write(b []byte) error {
	if _, err := o.w.WriteAt(b, o.off); err != nil {
		return fmt.Errorf("decrypt: write zip: %w", err)
	}
	o.off += int64(len(b))
	return nil
}

// dosTime converts t to MS-DOS date and time fields.
func dosTime(t time.Time) (date, tm uint16) {
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tm = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, tm
}
