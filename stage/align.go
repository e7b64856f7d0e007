package stage

import "unsafe"

const (
	// directMin is the size from which a file is written with direct I/O
	// where the system has it: below it the page cache is cheaper than
	// waiting for the device on every write.
	directMin = 8 << 20
	// ioAlign is the buffer address, offset and length alignment direct
	// I/O needs: the page size, a multiple of every logical block size in
	// use.
	ioAlign = 4096
)

// alignedBuf returns n bytes starting on an ioAlign boundary.
func alignedBuf(n int) []byte {
	b := make([]byte, n+ioAlign)
	off := int(-uintptr(unsafe.Pointer(&b[0])) & (ioAlign - 1))
	return b[off : off+n : off+n]
}

// aligned reports whether p can be written with direct I/O at an aligned
// offset: its address and its length are multiples of ioAlign.
func aligned(p []byte) bool {
	return len(p)%ioAlign == 0 && (len(p) == 0 || uintptr(unsafe.Pointer(&p[0]))%ioAlign == 0)
}
