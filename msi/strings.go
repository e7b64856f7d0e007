package msi

import "encoding/binary"

// stringPool is the database's shared string table. _StringPool starts
// with the code page (bit 31 set: string references in tables take three
// bytes instead of two), then holds a (length, refcount) pair of uint16
// per string id from 1. A pair (0, 0) is an unused id; a pair (0, high)
// says the next pair's length is the low half of a length of 64 KiB or
// more. _StringData is every string's bytes, back to back.
type stringPool struct {
	codepage int
	refSize  int      // bytes per string reference in tables: 2 or 3
	data     []byte   // _StringData
	offsets  []uint32 // string id i is data[offsets[i]:offsets[i+1]]; id 0 is ""
}

// Bounds on the pool: 8 MiB of pool is two million strings.
const (
	maxPoolBytes = 8 << 20
	maxDataBytes = maxStream
)

// parseStringPool checks and indexes a string pool.
func parseStringPool(pool, data []byte) (*stringPool, error) {
	p := &stringPool{refSize: 2, data: data}
	if len(pool)%4 != 0 {
		return nil, formatErr("_StringPool is %d bytes, not a whole number of entries", len(pool))
	}
	le := binary.LittleEndian
	if len(pool) >= 4 {
		cp := le.Uint32(pool)
		if cp&0x80000000 != 0 {
			p.refSize = 3
		}
		p.codepage = int(cp &^ 0x80000000)
	}
	count := len(pool) / 4
	p.offsets = make([]uint32, 1, count+1)
	var off uint64
	for i := 1; i < count; {
		n := uint64(le.Uint16(pool[i*4:]))
		refs := le.Uint16(pool[i*4+2:])
		i++
		if n == 0 && refs != 0 {
			if i >= count {
				return nil, formatErr("_StringPool ends inside a long string entry")
			}
			n = uint64(refs)<<16 | uint64(le.Uint16(pool[i*4:]))
			i++
		}
		if off+n > uint64(len(data)) {
			return nil, formatErr("string %d runs past _StringData (%d bytes)", len(p.offsets), len(data))
		}
		p.offsets = append(p.offsets, uint32(off))
		off += n
	}
	p.offsets = append(p.offsets, uint32(off))
	// Each id's end is the next id's start, so an unused id (length 0)
	// reads as "".
	return p, nil
}

// count returns the number of string ids, including id 0.
func (p *stringPool) count() int { return len(p.offsets) - 1 }

// raw returns string id's bytes; ok is false for an id past the pool.
func (p *stringPool) raw(id uint32) ([]byte, bool) {
	if int64(id) >= int64(p.count()) {
		return nil, false
	}
	return p.data[p.offsets[id]:p.offsets[id+1]], true
}

// get returns string id decoded from the pool's code page.
func (p *stringPool) get(id uint32) (string, bool) {
	b, ok := p.raw(id)
	if !ok {
		return "", false
	}
	return decodeText(b, p.codepage), true
}
