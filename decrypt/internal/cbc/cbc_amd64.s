//go:build amd64 && !purego

#include "textflag.h"

// CBC decryption: P[i] = D(C[i]) xor C[i-1], with C[-1] = IV.
//
// Every block decrypts independently, so the kernels decrypt a group of
// blocks side by side (hiding AESDEC's latency), then xor each with the
// ciphertext block before it. All ciphertext the group needs, including
// the next chaining value, is read before any plaintext is stored, so dst
// may be exactly src (in-place decryption).
//
// Register use, both kernels:
//	CX  rounds - 1 (the number of AESDEC rounds between the first xor and AESDECLAST)
//	AX  decryption key schedule: dk[0] is xored in, dk[1..nr-1] feed AESDEC,
//	    dk[nr] feeds AESDECLAST (see decryptionKeys in key.go)
//	R8  pointer to the chaining value, written back on return
//	SI  src, DI dst, DX blocks left
//	BX  current round key pointer, R9 round counter
//	X9  chaining value C[i-1]; X8/Y8 current round key

// Apply one round instruction with key register K to the eight SSE states.
#define ROUND8(op, K) \
	op K, X0; op K, X1; op K, X2; op K, X3; \
	op K, X4; op K, X5; op K, X6; op K, X7

#define ROUND4(op, K) \
	op K, X0; op K, X1; op K, X2; op K, X3

// func decryptAESNI(nr int, dk *byte, iv *[16]byte, dst, src *byte, n int)
TEXT ·decryptAESNI(SB), NOSPLIT, $0-48
	MOVQ nr+0(FP), CX
	MOVQ dk+8(FP), AX
	MOVQ iv+16(FP), R8
	MOVQ dst+24(FP), DI
	MOVQ src+32(FP), SI
	MOVQ n+40(FP), DX
	DECQ CX
	MOVOU (R8), X9

loop8:
	CMPQ DX, $8
	JB   tail4

	// Load eight ciphertext blocks and apply the first round key.
	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3
	MOVOU 64(SI), X4
	MOVOU 80(SI), X5
	MOVOU 96(SI), X6
	MOVOU 112(SI), X7
	MOVOU (AX), X8
	ROUND8(PXOR, X8)

	MOVQ AX, BX
	MOVQ CX, R9

rounds8:
	ADDQ $16, BX
	MOVOU (BX), X8
	ROUND8(AESDEC, X8)
	DECQ R9
	JNZ  rounds8

	MOVOU 16(BX), X8
	ROUND8(AESDECLAST, X8)

	// Chain: block i is xored with ciphertext block i-1. MOVOU to a
	// temporary first, since SSE PXOR from memory needs alignment.
	PXOR  X9, X0
	MOVOU 0(SI), X8
	PXOR  X8, X1
	MOVOU 16(SI), X8
	PXOR  X8, X2
	MOVOU 32(SI), X8
	PXOR  X8, X3
	MOVOU 48(SI), X8
	PXOR  X8, X4
	MOVOU 64(SI), X8
	PXOR  X8, X5
	MOVOU 80(SI), X8
	PXOR  X8, X6
	MOVOU 96(SI), X8
	PXOR  X8, X7
	MOVOU 112(SI), X9 // next chaining value, read before any store

	MOVOU X0, 0(DI)
	MOVOU X1, 16(DI)
	MOVOU X2, 32(DI)
	MOVOU X3, 48(DI)
	MOVOU X4, 64(DI)
	MOVOU X5, 80(DI)
	MOVOU X6, 96(DI)
	MOVOU X7, 112(DI)

	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $8, DX
	JMP  loop8

tail4:
	// Four blocks at a time, the same steps as above.
	CMPQ DX, $4
	JB   tail1

	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3
	MOVOU (AX), X8
	ROUND4(PXOR, X8)

	MOVQ AX, BX
	MOVQ CX, R9

rounds4:
	ADDQ $16, BX
	MOVOU (BX), X8
	ROUND4(AESDEC, X8)
	DECQ R9
	JNZ  rounds4

	MOVOU 16(BX), X8
	ROUND4(AESDECLAST, X8)

	PXOR  X9, X0
	MOVOU 0(SI), X8
	PXOR  X8, X1
	MOVOU 16(SI), X8
	PXOR  X8, X2
	MOVOU 32(SI), X8
	PXOR  X8, X3
	MOVOU 48(SI), X9

	MOVOU X0, 0(DI)
	MOVOU X1, 16(DI)
	MOVOU X2, 32(DI)
	MOVOU X3, 48(DI)

	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $4, DX

tail1:
	// The last 0 to 3 blocks, one at a time.
	TESTQ DX, DX
	JZ    done

	MOVOU (SI), X0
	MOVOU X0, X10     // keep the ciphertext: it is the next chaining value
	MOVOU (AX), X8
	PXOR  X8, X0

	MOVQ AX, BX
	MOVQ CX, R9

rounds1:
	ADDQ   $16, BX
	MOVOU  (BX), X8
	AESDEC X8, X0
	DECQ   R9
	JNZ    rounds1

	MOVOU      16(BX), X8
	AESDECLAST X8, X0
	PXOR       X9, X0
	MOVOU      X10, X9
	MOVOU      X0, (DI)

	ADDQ $16, SI
	ADDQ $16, DI
	DECQ DX
	JMP  tail1

done:
	MOVOU X9, (R8)
	RET

// Apply one VEX round instruction with key register K to the eight
// 256-bit states (two blocks each).
#define VROUND8(op, K) \
	op K, Y0, Y0; op K, Y1, Y1; op K, Y2, Y2; op K, Y3, Y3; \
	op K, Y4, Y4; op K, Y5, Y5; op K, Y6, Y6; op K, Y7, Y7

// func decryptVAES(nr int, dk *byte, iv *[16]byte, dst, src *byte, n int)
// n is a positive multiple of 16.
TEXT ·decryptVAES(SB), NOSPLIT, $0-48
	MOVQ nr+0(FP), CX
	MOVQ dk+8(FP), AX
	MOVQ iv+16(FP), R8
	MOVQ dst+24(FP), DI
	MOVQ src+32(FP), SI
	MOVQ n+40(FP), DX
	DECQ CX
	VMOVDQU (R8), X9

loop16:
	// Yk holds blocks 2k and 2k+1.
	VMOVDQU        0(SI), Y0
	VMOVDQU        32(SI), Y1
	VMOVDQU        64(SI), Y2
	VMOVDQU        96(SI), Y3
	VMOVDQU        128(SI), Y4
	VMOVDQU        160(SI), Y5
	VMOVDQU        192(SI), Y6
	VMOVDQU        224(SI), Y7
	VBROADCASTI128 (AX), Y8
	VROUND8(VPXOR, Y8)

	MOVQ AX, BX
	MOVQ CX, R9

rounds16:
	ADDQ           $16, BX
	VBROADCASTI128 (BX), Y8
	VROUND8(VAESDEC, Y8)
	DECQ           R9
	JNZ            rounds16

	VBROADCASTI128 16(BX), Y8
	VROUND8(VAESDECLAST, Y8)

	// Chain: Y0 pairs with (chaining value, C0); Yk (k > 0) with the
	// 32 bytes starting one block before its own, which VEX reads
	// unaligned straight from memory.
	VINSERTI128 $1, 0(SI), Y9, Y10
	VPXOR       Y10, Y0, Y0
	VPXOR       16(SI), Y1, Y1
	VPXOR       48(SI), Y2, Y2
	VPXOR       80(SI), Y3, Y3
	VPXOR       112(SI), Y4, Y4
	VPXOR       144(SI), Y5, Y5
	VPXOR       176(SI), Y6, Y6
	VPXOR       208(SI), Y7, Y7
	VMOVDQU     240(SI), X9 // next chaining value, read before any store

	VMOVDQU Y0, 0(DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	VMOVDQU Y4, 128(DI)
	VMOVDQU Y5, 160(DI)
	VMOVDQU Y6, 192(DI)
	VMOVDQU Y7, 224(DI)

	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $16, DX
	JNZ  loop16

	VMOVDQU X9, (R8)
	VZEROUPPER
	RET

// func cpuidVAES() bool
TEXT ·cpuidVAES(SB), NOSPLIT, $0-1
	// Leaf 7 exists only if leaf 0 reports a maximum of at least 7.
	XORL  AX, AX
	XORL  CX, CX
	CPUID
	CMPL  AX, $7
	JB    no
	MOVL  $7, AX
	XORL  CX, CX
	CPUID
	SHRL  $9, CX
	ANDL  $1, CX
	MOVB  CX, ret+0(FP)
	RET

no:
	MOVB $0, ret+0(FP)
	RET
