package decrypt

import "hash/crc32"

// crc32Combine returns the IEEE CRC-32 of A‖B given crcA = CRC(A),
// crcB = CRC(B) and lenB = len(B). Pack needs it because the MAC at the
// start of the inner file is known only after everything behind it was
// written: the CRC of the rest is kept, and the MAC's CRC is combined in
// front. It works in GF(2): feeding lenB zero bytes into the CRC register
// is a linear map, built by repeated squaring of the one-zero-bit map.
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA
	}
	// odd is the operator for one zero bit (reflected polynomial).
	var odd, even [32]uint32
	odd[0] = crc32.IEEE
	row := uint32(1)
	for i := 1; i < 32; i++ {
		odd[i] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four zero bits
	// From here each square doubles the count, starting at one byte.
	for {
		gf2Square(&even, &odd)
		if lenB&1 != 0 {
			crcA = gf2Times(&even, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
		gf2Square(&odd, &even)
		if lenB&1 != 0 {
			crcA = gf2Times(&odd, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(dst, mat *[32]uint32) {
	for i := range 32 {
		dst[i] = gf2Times(mat, mat[i])
	}
}
