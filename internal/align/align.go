// Package align allocates and checks buffers for direct I/O (O_DIRECT on
// Linux): the buffer address, the file offset and the length must be
// multiples of the device's logical block size; Size, the page size, is a
// multiple of every one in use.
package align

import "unsafe"

// Size is the alignment direct I/O is given here.
const Size = 4096

// Buf returns n bytes starting on a Size boundary.
func Buf(n int) []byte {
	b := make([]byte, n+Size)
	off := int(-uintptr(unsafe.Pointer(&b[0])) & (Size - 1))
	return b[off : off+n : off+n]
}

// OK reports whether p can be written with direct I/O at an aligned
// offset: its address and length are multiples of Size.
func OK(p []byte) bool {
	return len(p)%Size == 0 && (len(p) == 0 || uintptr(unsafe.Pointer(&p[0]))%Size == 0)
}
