package msi

import (
	"encoding/binary"
	"fmt"
)

// Directory entry object types ([MS-CFB] 2.6.1).
const (
	typeUnused  = 0
	typeStorage = 1
	typeStream  = 2
	typeRoot    = 5
)

// dirEntry is one directory entry: its raw UTF-16 name, type, tree links,
// first sector and size.
type dirEntry struct {
	name               []uint16
	typ                byte
	left, right, child uint32
	start              uint32
	size               int64
}

// maxDirBytes bounds the directory read at open (128 bytes an entry).
const maxDirBytes = 16 << 20

// readDirectory reads the whole directory chain and checks the root entry.
func (c *compound) readDirectory() error {
	chain, err := c.chainToEnd(c.dirStart, int(maxDirBytes/c.ss))
	if err != nil {
		return chainErr("directory", err)
	}
	if len(chain) == 0 {
		return formatErr("empty directory")
	}
	data, err := c.readChain(chain, int64(len(chain))<<c.shift)
	if err != nil {
		return chainErr("directory", err)
	}
	le := binary.LittleEndian
	n := len(data) / dirEntrySize
	c.entries = make([]dirEntry, n)
	for i := range c.entries {
		b := data[i*dirEntrySize : (i+1)*dirEntrySize]
		e := &c.entries[i]
		e.typ = b[66]
		if e.typ == typeUnused {
			continue
		}
		nameLen := int(le.Uint16(b[64:]))
		if nameLen > 64 || nameLen%2 != 0 {
			return formatErr("directory entry %d: name length %d", i, nameLen)
		}
		if nameLen >= 2 {
			e.name = make([]uint16, nameLen/2-1)
			for j := range e.name {
				e.name[j] = le.Uint16(b[j*2:])
			}
		}
		e.left, e.right, e.child = le.Uint32(b[68:]), le.Uint32(b[72:]), le.Uint32(b[76:])
		e.start = le.Uint32(b[116:])
		e.size = int64(le.Uint64(b[120:]))
		if c.major == 3 {
			e.size = int64(le.Uint32(b[120:])) // v3: the high half is not reliable
		}
		if e.size < 0 || e.size > c.size {
			return formatErr("directory entry %d declares %d bytes in a file of %d", i, e.size, c.size)
		}
	}
	if c.entries[0].typ != typeRoot {
		return formatErr("directory entry 0 is not the root storage")
	}
	return nil
}

// rootChildren walks the red-black tree of the root storage's children
// and returns their entry ids, in tree order. A link outside the
// directory, a link to an unused entry or an entry reached twice (a
// cycle) is an error.
func (c *compound) rootChildren() ([]uint32, error) {
	var out []uint32
	seen := make([]bool, len(c.entries))
	stack := []uint32{c.entries[0].child}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if id == noStream {
			continue
		}
		if id == 0 || int64(id) >= int64(len(c.entries)) {
			return nil, formatErr("directory link to entry %d of %d", id, len(c.entries))
		}
		if seen[id] {
			return nil, formatErr("directory cycle at entry %d", id)
		}
		seen[id] = true
		e := &c.entries[id]
		if e.typ != typeStream && e.typ != typeStorage {
			return nil, formatErr("directory entry %d has type %d", id, e.typ)
		}
		out = append(out, id)
		stack = append(stack, e.right, e.left)
	}
	return out, nil
}

// readStream reads the whole stream of entry e, at most limit bytes.
// Streams under the cutoff live in the mini stream.
func (c *compound) readStream(e *dirEntry, limit int64) ([]byte, error) {
	if e.size > limit {
		return nil, formatErr("stream of %d bytes, more than the %d allowed", e.size, limit)
	}
	if e.size == 0 {
		return nil, nil
	}
	if e.size < miniCutoff {
		m, err := c.miniStream()
		if err != nil {
			return nil, err
		}
		return m.read(e.start, e.size)
	}
	chain, err := c.chain(e.start, int((e.size+c.ss-1)>>c.shift))
	if err != nil {
		return nil, err
	}
	return c.readChain(chain, e.size)
}

// chainErr names the structure a chain error was found in.
func chainErr(what string, err error) error {
	return fmt.Errorf("%s: %w", what, err)
}
