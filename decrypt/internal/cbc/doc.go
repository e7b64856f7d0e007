// Package cbc provides AES in CBC mode with a fast decrypter for amd64.
//
// CBC decryption is parallel across blocks (P[i] = D(C[i]) xor C[i-1]), yet
// the standard library's decrypter calls its assembly once per block. On
// amd64 with AES-NI this package decrypts 8 blocks per loop iteration, and
// 16 blocks (two per instruction) where the CPU has VAES and AVX2. Its
// cipher.BlockMode values behave exactly like those of crypto/cipher:
// CryptBlocks takes whole blocks, allows dst and src to be the same slice,
// carries the chaining value across calls, and panics with the same
// messages on bad lengths or partially overlapping buffers.
//
// What it does not do: padding (PKCS#7 is the caller's business), message
// authentication, or a faster encrypter. CBC encryption is inherently
// serial, so NewEncrypter returns the standard library's encrypter. On other
// architectures, on CPUs without AES-NI, and with the purego build tag,
// NewDecrypter returns the standard library's decrypter as well.
package cbc
