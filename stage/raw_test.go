package stage

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// rawEntry is one entry of a hand-built ZIP; every field is written as
// given, so tests can make ZIPs that lie.
type rawEntry struct {
	name    string
	data    []byte // uncompressed content
	method  uint16 // 0 or 8 compress data; anything else stores data as is
	flags   uint16
	creator uint16 // version made by (high byte: 3 for Unix)
	attrs   uint32 // external attributes
	crc     *uint32
	usize   *uint32
	csize   *uint32
	cut     int // drop this many bytes from the end of the compressed data
	garble  int // with method 8: flip the bits of the compressed byte at garble-1
	// descriptor sets flag bit 3: zero CRC and sizes in the local header,
	// a data descriptor (with signature) after the data.
	descriptor bool
	cdUsize    *uint32 // the central directory's size, if not usize
	comp       []byte  // compressed data as is, instead of compressing data
	cp437      bool    // leave the UTF-8 flag (bit 11) unset
}

func u32(v uint32) *uint32 { return &v }

// rawZip builds a ZIP from entries with local headers, central directory
// and end record written by hand.
func rawZip(t testing.TB, entries []rawEntry) []byte {
	t.Helper()
	var out, cd bytes.Buffer
	le := binary.LittleEndian
	for _, e := range entries {
		comp := e.data
		if e.comp != nil {
			comp = e.comp
		} else if e.method == 8 {
			var b bytes.Buffer
			w, _ := flate.NewWriter(&b, flate.BestSpeed)
			w.Write(e.data)
			w.Close()
			comp = b.Bytes()
		}
		comp = comp[:len(comp)-e.cut]
		if e.garble > 0 {
			comp[e.garble-1] ^= 0xff
		}
		crc, usize, csize := crc32.ChecksumIEEE(e.data), uint32(len(e.data)), uint32(len(comp))
		if e.crc != nil {
			crc = *e.crc
		}
		if e.usize != nil {
			usize = *e.usize
		}
		if e.csize != nil {
			csize = *e.csize
		}
		flags, lcrc, lcsize, lusize := e.flags|flagUTF8, crc, csize, usize
		if e.cp437 {
			flags &^= flagUTF8
		}
		if e.descriptor {
			flags |= flagDescriptor
			lcrc, lcsize, lusize = 0, 0, 0
		}
		off := uint32(out.Len())
		h := make([]byte, 0, 46)
		h = le.AppendUint32(h, sigLocal)
		h = le.AppendUint16(h, 20)
		h = le.AppendUint16(h, flags)
		h = le.AppendUint16(h, e.method)
		h = le.AppendUint16(h, 0x6000) // 12:00
		h = le.AppendUint16(h, 0x5021) // 2020-01-01
		h = le.AppendUint32(h, lcrc)
		h = le.AppendUint32(h, lcsize)
		h = le.AppendUint32(h, lusize)
		h = le.AppendUint16(h, uint16(len(e.name)))
		h = le.AppendUint16(h, 0)
		out.Write(h)
		out.WriteString(e.name)
		out.Write(comp)
		if e.descriptor {
			d := le.AppendUint32(nil, sigDescriptor)
			d = le.AppendUint32(d, crc)
			d = le.AppendUint32(d, csize)
			d = le.AppendUint32(d, usize)
			out.Write(d)
		}
		if e.cdUsize != nil {
			usize = *e.cdUsize
		}

		c := make([]byte, 0, 46)
		c = le.AppendUint32(c, sigCentral)
		c = le.AppendUint16(c, e.creator|20)
		c = le.AppendUint16(c, 20)
		c = le.AppendUint16(c, flags)
		c = le.AppendUint16(c, e.method)
		c = le.AppendUint16(c, 0x6000)
		c = le.AppendUint16(c, 0x5021)
		c = le.AppendUint32(c, crc)
		c = le.AppendUint32(c, csize)
		c = le.AppendUint32(c, usize)
		c = le.AppendUint16(c, uint16(len(e.name)))
		c = le.AppendUint16(c, 0)
		c = le.AppendUint16(c, 0)
		c = le.AppendUint16(c, 0)
		c = le.AppendUint16(c, 0)
		c = le.AppendUint32(c, e.attrs)
		c = le.AppendUint32(c, off)
		cd.Write(c)
		cd.WriteString(e.name)
	}
	start := out.Len()
	out.Write(cd.Bytes())
	end := make([]byte, 0, 22)
	end = le.AppendUint32(end, sigEnd)
	end = le.AppendUint32(end, 0)
	end = le.AppendUint16(end, uint16(len(entries)))
	end = le.AppendUint16(end, uint16(len(entries)))
	end = le.AppendUint32(end, uint32(cd.Len()))
	end = le.AppendUint32(end, uint32(start))
	end = le.AppendUint16(end, 0)
	out.Write(end)
	return out.Bytes()
}
