package bench

import "syscall"

// warmMemory maps n bytes of anonymous memory, writes a byte into every
// page and unmaps it again; it returns what it touched (0 if the map is
// refused).
func warmMemory(n int64) int64 {
	if n <= 0 {
		return 0
	}
	b, err := syscall.Mmap(-1, 0, int(n), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return 0
	}
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	_ = syscall.Munmap(b)
	return n
}
