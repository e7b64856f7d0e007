package msi

import (
	"encoding/binary"
	"slices"
	"strings"
	"unicode/utf16"
)

// This file builds small compound files and MSIs in memory for tests and
// fuzz seeds: every stream is contiguous, small streams go to the mini
// stream, the directory is a right-leaning chain under the root.

type testStream struct {
	name []uint16
	data []byte
}

// layout says where buildCFB put things, so tests can damage them.
type layout struct {
	shift    uint
	fat      []uint32          // FAT sector numbers
	dirStart uint32            // first directory sector
	miniFAT  uint32            // first mini FAT sector
	starts   map[string]uint32 // first sector (regular streams) by raw name
}

// sectorOff returns the file offset of sector s.
func (l layout) sectorOff(s uint32) int { return (int(s) + 1) << l.shift }

// dirOff returns the file offset of directory entry id (directory sectors are contiguous).
func (l layout) dirOff(id int) int { return l.sectorOff(l.dirStart) + id*dirEntrySize }

func buildCFB(major int, streams []testStream) ([]byte, layout) {
	shift := uint(9)
	if major == 4 {
		shift = 12
	}
	ss := 1 << shift
	sectorsOf := func(n int) int { return (n + ss - 1) / ss }
	var mini []byte
	var miniFAT []uint32
	miniStart := make([]uint32, len(streams))
	for i, st := range streams {
		if len(st.data) >= miniCutoff || len(st.data) == 0 {
			continue
		}
		first := uint32(len(mini) / miniSectorSize)
		miniStart[i] = first
		n := (len(st.data) + miniSectorSize - 1) / miniSectorSize
		for j := range n {
			next := first + uint32(j) + 1
			if j == n-1 {
				next = endOfChain
			}
			miniFAT = append(miniFAT, next)
		}
		mini = append(mini, st.data...)
		mini = append(mini, make([]byte, n*miniSectorSize-len(st.data))...)
	}
	entries := 1 + len(streams)
	dirN := sectorsOf(entries * dirEntrySize)
	miniFATN := sectorsOf(len(miniFAT) * 4)
	miniN := sectorsOf(len(mini))
	content := dirN + miniFATN + miniN
	for _, st := range streams {
		if len(st.data) >= miniCutoff {
			content += sectorsOf(len(st.data))
		}
	}
	fatN := 1
	for (content+fatN)*4 > fatN*ss {
		fatN++
	}
	total := fatN + content
	fat := make([]uint32, fatN*ss/4)
	for i := range fat {
		fat[i] = freeSect
	}
	l := layout{shift: shift, starts: make(map[string]uint32)}
	next := uint32(0)
	run := func(n int) uint32 { // allocates n contiguous chained sectors
		if n == 0 {
			return endOfChain
		}
		first := next
		for j := range n {
			fat[int(first)+j] = first + uint32(j) + 1
		}
		fat[int(first)+n-1] = endOfChain
		next += uint32(n)
		return first
	}
	for range fatN {
		l.fat = append(l.fat, next)
		fat[next] = fatSect
		next++
	}
	l.dirStart = run(dirN)
	miniFATStart := run(miniFATN)
	l.miniFAT = miniFATStart
	rootStart := run(miniN)
	out := make([]byte, (total+1)*ss)
	le := binary.LittleEndian
	put := func(first uint32, data []byte) { copy(out[l.sectorOff(first):], data) }
	starts := make([]uint32, len(streams))
	for i, st := range streams {
		switch {
		case len(st.data) == 0:
			starts[i] = endOfChain
		case len(st.data) < miniCutoff:
			starts[i] = miniStart[i]
		default:
			starts[i] = run(sectorsOf(len(st.data)))
			put(starts[i], st.data)
			l.starts[string(utf16.Decode(st.name))] = starts[i]
		}
	}
	for i, v := range fat {
		le.PutUint32(out[l.sectorOff(l.fat[0])+i*4:], v)
	}
	mf := make([]byte, len(miniFAT)*4)
	for i, v := range miniFAT {
		le.PutUint32(mf[i*4:], v)
	}
	for i := len(miniFAT); i < miniFATN*ss/4; i++ {
		mf = le.AppendUint32(mf, freeSect)
	}
	if miniFATN > 0 {
		put(miniFATStart, mf)
	}
	if miniN > 0 {
		put(rootStart, mini)
	}
	entry := func(id int, name []uint16, typ byte, child, right, start uint32, size int) {
		b := out[l.dirOff(id):]
		for j, u := range name {
			le.PutUint16(b[j*2:], u)
		}
		le.PutUint16(b[64:], uint16(len(name)+1)*2)
		b[66], b[67] = typ, 1
		le.PutUint32(b[68:], noStream)
		le.PutUint32(b[72:], right)
		le.PutUint32(b[76:], child)
		le.PutUint32(b[116:], start)
		le.PutUint64(b[120:], uint64(size))
	}
	rootChild := uint32(noStream)
	if len(streams) > 0 {
		rootChild = 1
	}
	entry(0, utf16.Encode([]rune("Root Entry")), typeRoot, rootChild, noStream, rootStart, len(mini))
	for i, st := range streams {
		right := uint32(i + 2)
		if i == len(streams)-1 {
			right = noStream
		}
		entry(i+1, st.name, typeStream, noStream, right, starts[i], len(st.data))
	}
	for id := entries; id < dirN*ss/dirEntrySize; id++ { // unused entries
		b := out[l.dirOff(id):]
		le.PutUint32(b[68:], noStream)
		le.PutUint32(b[72:], noStream)
		le.PutUint32(b[76:], noStream)
	}
	h := out[:headerSize]
	copy(h, cfbSignature)
	le.PutUint16(h[0x18:], 0x3E)
	le.PutUint16(h[0x1A:], uint16(major))
	le.PutUint16(h[0x1C:], 0xFFFE)
	le.PutUint16(h[0x1E:], uint16(shift))
	le.PutUint16(h[0x20:], 6)
	if major == 4 {
		le.PutUint32(h[0x28:], uint32(dirN))
	}
	le.PutUint32(h[0x2C:], uint32(fatN))
	le.PutUint32(h[0x30:], l.dirStart)
	le.PutUint32(h[0x38:], miniCutoff)
	le.PutUint32(h[0x3C:], miniFATStart)
	le.PutUint32(h[0x40:], uint32(miniFATN))
	le.PutUint32(h[0x44:], endOfChain)
	for i := range headerDIFAT {
		v := uint32(freeSect)
		if i < len(l.fat) {
			v = l.fat[i]
		}
		le.PutUint32(h[0x4C+i*4:], v)
	}
	return out, l
}

// testTable is a table to build: cells are string, int32 or nil (null).
type testTable struct {
	name string
	cols []Column
	rows [][]any
}

// testMSI describes a database to build.
type testMSI struct {
	major    int // 3 or 4
	codepage int
	longRefs bool
	tables   []testTable
	summary  map[uint32]any // pid → string or int32; nil: no SummaryInformation
	extra    []testStream
}

// Column types for test tables.
const (
	tS72 = colString | colValid | 0x400 | 72 | colKey
	tL0  = colString | colValid | 0x400 | colNullable
	tI2  = colValid | 2
	tI2N = colValid | 2 | colNullable
)

// propertyTable builds a Property table from name, value pairs.
func propertyTable(kv ...string) testTable {
	t := testTable{name: "Property", cols: []Column{{"Property", tS72}, {"Value", tL0}}}
	for i := 0; i+1 < len(kv); i += 2 {
		t.rows = append(t.rows, []any{kv[i], kv[i+1]})
	}
	return t
}

func (m testMSI) build() ([]byte, layout) {
	var strs []string
	ids := map[string]uint32{}
	intern := func(s string) uint32 {
		if s == "" {
			return 0
		}
		if id, ok := ids[s]; ok {
			return id
		}
		strs = append(strs, s)
		ids[s] = uint32(len(strs))
		return ids[s]
	}
	refSize := 2
	if m.longRefs {
		refSize = 3
	}
	encode := func(t testTable) []byte {
		var out []byte
		for c, col := range t.cols {
			w := col.width(refSize)
			for _, row := range t.rows {
				var v uint32
				switch x := row[c].(type) {
				case string:
					v = intern(x)
				case int32:
					if w == 2 {
						v = uint32(uint16(x) ^ 0x8000)
					} else {
						v = uint32(x) ^ 0x80000000
					}
				}
				out = append(out, byte(v), byte(v>>8))
				if w >= 3 {
					out = append(out, byte(v>>16))
				}
				if w == 4 {
					out = append(out, byte(v>>24))
				}
			}
		}
		return out
	}
	tables := testTable{name: "_Tables", cols: []Column{{"Name", tS72}}}
	columns := testTable{name: "_Columns", cols: []Column{{"Table", tS72}, {"Number", tI2}, {"Name", tS72}, {"Type", tI2}}}
	var streams []testStream
	for _, t := range m.tables {
		tables.rows = append(tables.rows, []any{t.name})
		for i, c := range t.cols {
			columns.rows = append(columns.rows, []any{t.name, int32(i + 1), c.Name, int32(int16(uint16(c.Type)))})
		}
	}
	for _, t := range m.tables {
		if len(t.rows) > 0 {
			streams = append(streams, testStream{encodeName(t.name, true), encode(t)})
		}
	}
	streams = append(streams,
		testStream{encodeName("_Tables", true), encode(tables)},
		testStream{encodeName("_Columns", true), encode(columns)})
	cp := uint32(m.codepage)
	if m.longRefs {
		cp |= 0x80000000
	}
	pool := binary.LittleEndian.AppendUint32(nil, cp)
	var data []byte
	for _, s := range strs {
		n := len(s)
		if n >= 0x10000 {
			pool = binary.LittleEndian.AppendUint16(pool, 0)
			pool = binary.LittleEndian.AppendUint16(pool, uint16(n>>16))
		}
		pool = binary.LittleEndian.AppendUint16(pool, uint16(n))
		pool = binary.LittleEndian.AppendUint16(pool, 1)
		data = append(data, s...)
	}
	streams = append(streams,
		testStream{encodeName("_StringPool", true), pool},
		testStream{encodeName("_StringData", true), data})
	if m.summary != nil {
		streams = append(streams, testStream{utf16.Encode([]rune("\x05SummaryInformation")), buildSummary(m.summary)})
	}
	streams = append(streams, m.extra...)
	major := m.major
	if major == 0 {
		major = 3
	}
	return buildCFB(major, streams)
}

// buildSummary writes a property set stream with one section.
func buildSummary(props map[uint32]any) []byte {
	le := binary.LittleEndian
	pids := make([]uint32, 0, len(props))
	for pid := range props {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	var vals []byte
	offs := make([]uint32, len(pids))
	base := 8 + 8*len(pids)
	for i, pid := range pids {
		offs[i] = uint32(base + len(vals))
		switch v := props[pid].(type) {
		case string:
			vals = le.AppendUint32(vals, vtLPSTR)
			vals = le.AppendUint32(vals, uint32(len(v)+1))
			vals = append(vals, v...)
			vals = append(vals, 0)
			for len(vals)%4 != 0 {
				vals = append(vals, 0)
			}
		case int32:
			vals = le.AppendUint32(vals, vtI4)
			vals = le.AppendUint32(vals, uint32(v))
		case int16:
			vals = le.AppendUint32(vals, vtI2)
			vals = le.AppendUint32(vals, uint32(uint16(v)))
		}
	}
	out := make([]byte, 48)
	le.PutUint16(out, 0xFFFE)
	le.PutUint32(out[24:], 1)
	copy(out[28:], fmtidSummary)
	le.PutUint32(out[44:], 48)
	out = le.AppendUint32(out, uint32(base+len(vals)))
	out = le.AppendUint32(out, uint32(len(pids)))
	for i, pid := range pids {
		out = le.AppendUint32(out, pid)
		out = le.AppendUint32(out, offs[i])
	}
	return append(out, vals...)
}

// encodeName is decodeName's inverse, used by tests to build files.
func encodeName(name string, table bool) []uint16 {
	var out []uint16
	if table {
		out = append(out, nameTable)
	}
	idx := func(c byte) int { return strings.IndexByte(nameAlphabet, c) }
	for i := 0; i < len(name); i++ {
		a := idx(name[i])
		if a < 0 {
			out = append(out, utf16.Encode([]rune(string(name[i])))...)
			continue
		}
		if i+1 < len(name) {
			if b := idx(name[i+1]); b >= 0 {
				out = append(out, uint16(namePair+a+b<<6))
				i++
				continue
			}
		}
		out = append(out, uint16(nameSingle+a))
	}
	return out
}
