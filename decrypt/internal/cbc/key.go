package cbc

// AES key schedule in portable Go, laid out for the AES-NI decryption
// instructions. The assembly reads round keys as plain 16-byte strings in
// FIPS-197 byte order, so no byte swapping is needed.

// maxRounds is the number of rounds of AES-256, the largest key size.
const maxRounds = 14

// sbox is the AES S-box, computed at start-up from its definition
// (multiplicative inverse in GF(2^8), then the affine map) rather than
// written out as a table.
var sbox = func() (s [256]byte) {
	for x := 0; x < 256; x++ {
		inv := gfInverse(byte(x))
		s[x] = inv ^ rotl8(inv, 1) ^ rotl8(inv, 2) ^ rotl8(inv, 3) ^ rotl8(inv, 4) ^ 0x63
	}
	return s
}()

func rotl8(b byte, n uint) byte { return b<<n | b>>(8-n) }

// gfMul multiplies in GF(2^8) modulo x^8+x^4+x^3+x+1.
func gfMul(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1b
		}
		b >>= 1
	}
	return p
}

// gfInverse returns x^254, the multiplicative inverse of x (0 maps to 0).
func gfInverse(x byte) byte {
	r := byte(1)
	for i := 0; i < 254; i++ {
		r = gfMul(r, x)
	}
	return r
}

// expandKey fills enc with the encryption round keys (FIPS-197 5.2) for a
// 16, 24 or 32-byte key and returns the number of rounds.
func expandKey(key []byte, enc *[(maxRounds + 1) * 16]byte) int {
	nk := len(key) / 4
	nr := nk + 6
	copy(enc[:], key)
	rcon := byte(1)
	for i := nk; i < 4*(nr+1); i++ {
		var t [4]byte
		copy(t[:], enc[4*(i-1):4*i])
		switch {
		case i%nk == 0:
			t = [4]byte{sbox[t[1]] ^ rcon, sbox[t[2]], sbox[t[3]], sbox[t[0]]}
			rcon = gfMul(rcon, 2)
		case nk > 6 && i%nk == 4:
			t = [4]byte{sbox[t[0]], sbox[t[1]], sbox[t[2]], sbox[t[3]]}
		}
		for j := 0; j < 4; j++ {
			enc[4*i+j] = enc[4*(i-nk)+j] ^ t[j]
		}
	}
	return nr
}

// decryptionKeys turns an encryption schedule into the one AESDEC expects
// (the "equivalent inverse cipher", FIPS-197 5.3.5): round keys in reverse
// order, the inner ones passed through InvMixColumns.
func decryptionKeys(nr int, enc, dec *[(maxRounds + 1) * 16]byte) {
	for r := 0; r <= nr; r++ {
		var rk [16]byte
		copy(rk[:], enc[16*(nr-r):])
		if r != 0 && r != nr {
			for c := 0; c < 16; c += 4 {
				invMixColumn(rk[c : c+4])
			}
		}
		copy(dec[16*r:], rk[:])
	}
}

// invMixColumn applies InvMixColumns to one 4-byte column in place.
func invMixColumn(c []byte) {
	a0, a1, a2, a3 := c[0], c[1], c[2], c[3]
	c[0] = gfMul(a0, 14) ^ gfMul(a1, 11) ^ gfMul(a2, 13) ^ gfMul(a3, 9)
	c[1] = gfMul(a0, 9) ^ gfMul(a1, 14) ^ gfMul(a2, 11) ^ gfMul(a3, 13)
	c[2] = gfMul(a0, 13) ^ gfMul(a1, 9) ^ gfMul(a2, 14) ^ gfMul(a3, 11)
	c[3] = gfMul(a0, 11) ^ gfMul(a1, 13) ^ gfMul(a2, 9) ^ gfMul(a3, 14)
}
