package msi

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Summary is the SummaryInformation stream ([MS-OLEPS] property set,
// FMTID_SummaryInformation), with Windows Installer's meaning of each
// property. Absent properties are zero.
type Summary struct {
	Codepage       int    // PID 1
	Title          string // PID 2
	Subject        string // PID 3: the product name
	Author         string // PID 4: the manufacturer
	Keywords       string // PID 5
	Comments       string // PID 6
	Template       string // PID 7: platform;languages
	LastAuthor     string // PID 8
	RevisionNumber string // PID 9: the package code
	PageCount      int32  // PID 14: minimum installer version
	WordCount      int32  // PID 15: source image flags
	CharCount      int32  // PID 16
	AppName        string // PID 18: the authoring tool
	Security       int32  // PID 19
}

// Summary information property ids and variant types.
const (
	vtI2     = 2
	vtI4     = 3
	vtLPSTR  = 30
	maxProps = 4096
)

// fmtidSummary is F29F85E0-4FF9-1068-AB91-08002B27B3D9 as stored.
var fmtidSummary = []byte{0xE0, 0x85, 0x9F, 0xF2, 0xF9, 0x4F, 0x68, 0x10, 0xAB, 0x91, 0x08, 0x00, 0x2B, 0x27, 0xB3, 0xD9}

// Summary reads the SummaryInformation stream. A database without one
// has an empty Summary.
func (db *Database) Summary() (Summary, error) {
	n := streamName{"\x05SummaryInformation", false}
	if _, ok := db.streams[n]; !ok {
		return Summary{}, nil
	}
	b, err := db.stream(n, 1<<20)
	if err != nil {
		return Summary{}, fmt.Errorf("msi: %w", err)
	}
	s, err := parseSummary(b)
	if err != nil {
		return Summary{}, fmt.Errorf("msi: SummaryInformation: %w", err)
	}
	return s, nil
}

// parseSummary decodes the first property set of a property set stream.
// Strings are decoded after all properties are read, as the code page
// (PID 1) may come after them.
func parseSummary(b []byte) (Summary, error) {
	var s Summary
	le := binary.LittleEndian
	if len(b) < 48 || le.Uint16(b) != 0xFFFE {
		return s, formatErr("not a property set stream")
	}
	if le.Uint32(b[24:]) < 1 || !bytes.Equal(b[28:44], fmtidSummary) {
		return s, formatErr("no summary information property set")
	}
	off := int64(le.Uint32(b[44:]))
	if off < 48 || off+8 > int64(len(b)) {
		return s, formatErr("property set at %d in a stream of %d bytes", off, len(b))
	}
	set := b[off:]
	size := int64(le.Uint32(set))
	count := int64(le.Uint32(set[4:]))
	if size < 8 || size > int64(len(set)) {
		return s, formatErr("property set of %d bytes in %d", size, len(set))
	}
	set = set[:size]
	if count > maxProps || 8+count*8 > size {
		return s, formatErr("%d properties in a set of %d bytes", count, size)
	}
	strs := make(map[uint32][]byte)
	for i := range count {
		pid := le.Uint32(set[8+i*8:])
		po := int64(le.Uint32(set[12+i*8:]))
		if po < 8 || po+4 > size {
			return s, formatErr("property %d at %d in a set of %d bytes", pid, po, size)
		}
		v := set[po:]
		switch le.Uint16(v) {
		case vtI2:
			if len(v) < 6 {
				return s, formatErr("property %d truncated", pid)
			}
			setInt(&s, pid, int32(int16(le.Uint16(v[4:]))))
		case vtI4:
			if len(v) < 8 {
				return s, formatErr("property %d truncated", pid)
			}
			setInt(&s, pid, int32(le.Uint32(v[4:])))
		case vtLPSTR:
			if len(v) < 8 {
				return s, formatErr("property %d truncated", pid)
			}
			n := int64(le.Uint32(v[4:]))
			if n > int64(len(v))-8 {
				return s, formatErr("property %d: string of %d bytes past the set", pid, n)
			}
			str := v[8 : 8+n]
			if i := bytes.IndexByte(str, 0); i >= 0 {
				str = str[:i]
			}
			strs[pid] = str
		}
	}
	for pid, raw := range strs {
		text := decodeText(raw, s.Codepage)
		switch pid {
		case 2:
			s.Title = text
		case 3:
			s.Subject = text
		case 4:
			s.Author = text
		case 5:
			s.Keywords = text
		case 6:
			s.Comments = text
		case 7:
			s.Template = text
		case 8:
			s.LastAuthor = text
		case 9:
			s.RevisionNumber = text
		case 18:
			s.AppName = text
		}
	}
	return s, nil
}

func setInt(s *Summary, pid uint32, v int32) {
	switch pid {
	case 1:
		s.Codepage = int(uint16(v)) // stored as VT_I2; 1252, 65001 read as unsigned
	case 14:
		s.PageCount = v
	case 15:
		s.WordCount = v
	case 16:
		s.CharCount = v
	case 19:
		s.Security = v
	}
}
