//go:build !amd64 || purego

package cbc

// Without assembly every decrypter is the standard library's.
func detectKernel() kernel { return kernelStdlib }

// availableKernels lists the implementations usable on this machine.
func availableKernels() []kernel { return []kernel{kernelStdlib} }

func (d *decrypter) decrypt(dst, src []byte) {
	panic("cbc: internal error: no assembly kernel on this platform")
}
