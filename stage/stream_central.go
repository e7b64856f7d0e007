package stage

import (
	"encoding/binary"
	"io"
	"io/fs"
	"os"
)

const (
	unixIFMT  = 0o170000
	unixIFLNK = 0o120000
	unixIFREG = 0o100000
	unixIFDIR = 0o040000
)

// central reads the central directory and end records that follow the
// last entry (its first signature already read) and checks that they
// describe exactly the entries extracted, in order. Modes of Unix-made
// entries are recorded for run to apply (a symlink or special file
// declared only in the central directory is refused then).
func (s *streamer) central() error {
	rest, err := io.ReadAll(io.LimitReader(s.in, maxCentralSize+1))
	if err != nil {
		return corruptf("", "read central directory: %v", err)
	}
	if len(rest) > maxCentralSize {
		return corruptf("", "central directory larger than %d bytes", maxCentralSize)
	}
	b := rest
	take := func(n int) ([]byte, bool) {
		if len(b) < n {
			return nil, false
		}
		v := b[:n]
		b = b[n:]
		return v, true
	}
	i := 0
	for sig := uint32(sigCentral); sig == sigCentral; {
		h, ok := take(42)
		if !ok {
			return corruptf("", "truncated central directory")
		}
		madeBy := binary.LittleEndian.Uint16(h[0:])
		crc := binary.LittleEndian.Uint32(h[12:])
		csize, usize := uint64(binary.LittleEndian.Uint32(h[16:])), uint64(binary.LittleEndian.Uint32(h[20:]))
		nameLen, extraLen, commentLen := int(binary.LittleEndian.Uint16(h[24:])), int(binary.LittleEndian.Uint16(h[26:])), int(binary.LittleEndian.Uint16(h[28:]))
		external := binary.LittleEndian.Uint32(h[34:])
		offset := uint64(binary.LittleEndian.Uint32(h[38:]))
		v, ok := take(nameLen + extraLen + commentLen)
		if !ok {
			return corruptf("", "truncated central directory")
		}
		name := string(v[:nameLen])
		applyZip64(v[nameLen:nameLen+extraLen], &usize, &csize, &offset)
		if i >= len(s.entries) {
			return corruptf(name, "in the central directory but not in the stream")
		}
		e := s.entries[i]
		if name != e.name || crc != e.crc || usize != e.usize || csize != e.csize || offset != e.offset {
			return corruptf(name, "central directory disagrees with the local header of %s", quoteName(e.name))
		}
		if madeBy>>8 == creatorUnix {
			s.modes = append(s.modes, pendingMode{e: e, mode: unixMode(external >> 16)})
		}
		i++
		sigb, ok := take(4)
		if !ok {
			return corruptf("", "truncated central directory")
		}
		sig = binary.LittleEndian.Uint32(sigb)
		if sig == sigEnd64 {
			n, ok := take(8)
			if !ok {
				return corruptf("", "truncated ZIP64 end record")
			}
			if _, ok := take(int(binary.LittleEndian.Uint64(n))); !ok {
				return corruptf("", "truncated ZIP64 end record")
			}
			if loc, ok := take(20); !ok || binary.LittleEndian.Uint32(loc) != sigEnd64Loc {
				return corruptf("", "bad ZIP64 end locator")
			}
			if sigb, ok = take(4); !ok {
				return corruptf("", "truncated end record")
			}
			sig = binary.LittleEndian.Uint32(sigb)
		}
		if sig == sigEnd {
			break
		}
		if sig != sigCentral {
			return corruptf("", "unexpected signature %08x in the central directory", sig)
		}
	}
	if i != len(s.entries) {
		return corruptf("", "central directory lists %d entries, the stream held %d", i, len(s.entries))
	}
	end, ok := take(18)
	if !ok {
		return corruptf("", "truncated end record")
	}
	if n := int(binary.LittleEndian.Uint16(end[6:])); n != 0xffff && n != i&0xffff {
		return corruptf("", "end record counts %d entries, the directory %d", n, i)
	}
	if _, ok := take(int(binary.LittleEndian.Uint16(end[16:]))); !ok || len(b) != 0 {
		return corruptf("", "bytes after the end record")
	}
	return nil
}

// applyMode sets the permission bits of a Unix-made entry the way Extract
// does (owner keeps read and write; setuid, setgid and sticky dropped).
func (s *streamer) applyMode(e streamEntry, mode fs.FileMode) error {
	if err := checkKind(e.name, mode); err != nil {
		return err
	}
	perm := unixPerm(mode, e.dir)
	if perm == 0 {
		return nil
	}
	if err := os.Chmod(s.path(e.clean), perm); err != nil {
		return entryErr(e.name, err)
	}
	return nil
}
