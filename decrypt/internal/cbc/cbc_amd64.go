//go:build amd64 && !purego

package cbc

import "golang.org/x/sys/cpu"

// decryptAESNI decrypts n blocks from src to dst (which may be equal) with
// the decryption schedule dk of nr rounds, starting from and updating the
// chaining value *iv. It keeps 8 blocks in flight.
//
//go:noescape
func decryptAESNI(nr int, dk *byte, iv *[BlockSize]byte, dst, src *byte, n int)

// decryptVAES is decryptAESNI with 16 blocks in flight on 256-bit
// registers; n must be a positive multiple of 16.
//
//go:noescape
func decryptVAES(nr int, dk *byte, iv *[BlockSize]byte, dst, src *byte, n int)

// cpuidVAES reports the VAES bit of CPUID leaf 7 (ECX bit 9). x/sys/cpu
// only reports it on AVX-512 machines, but the 256-bit VEX form needs just
// AVX2.
func cpuidVAES() bool

func detectKernel() kernel {
	switch {
	case !cpu.X86.HasAES:
		return kernelStdlib
	case cpu.X86.HasAVX2 && cpuidVAES():
		return kernelVAES
	default:
		return kernelAESNI
	}
}

// availableKernels lists the implementations usable on this machine.
func availableKernels() []kernel {
	ks := []kernel{kernelStdlib}
	if cpu.X86.HasAES {
		ks = append(ks, kernelAESNI)
		if cpu.X86.HasAVX2 && cpuidVAES() {
			ks = append(ks, kernelVAES)
		}
	}
	return ks
}

// vaesChunk is the number of blocks decryptVAES handles per iteration.
const vaesChunk = 16

// maxCall bounds the blocks per assembly call (256 KiB, tens of
// microseconds), since the goroutine cannot be preempted inside one.
const maxCall = 1 << 14

func (d *decrypter) decrypt(dst, src []byte) {
	for len(src) > 0 {
		n := min(len(src)/BlockSize, maxCall)
		done := 0
		if d.kernel == kernelVAES && n >= vaesChunk {
			done = n &^ (vaesChunk - 1)
			decryptVAES(d.rounds, &d.keys[0], &d.iv, &dst[0], &src[0], done)
		}
		if done < n {
			off := done * BlockSize
			decryptAESNI(d.rounds, &d.keys[0], &d.iv, &dst[off], &src[off], n-done)
		}
		dst, src = dst[n*BlockSize:], src[n*BlockSize:]
	}
}
