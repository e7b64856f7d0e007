package cbc

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
)

// BlockSize is the AES block size, and the size of an IV.
const BlockSize = aes.BlockSize

// ErrIVLength is returned when an IV is not exactly BlockSize bytes.
var ErrIVLength = errors.New("cbc: IV length must be 16 bytes")

// kernel names an implementation of CBC decryption.
type kernel int

const (
	kernelStdlib kernel = iota // crypto/cipher's decrypter
	kernelAESNI                // 8 blocks in flight with AES-NI (SSE)
	kernelVAES                 // 16 blocks in flight with VAES on 256-bit registers
)

func (k kernel) String() string {
	switch k {
	case kernelAESNI:
		return "aesni"
	case kernelVAES:
		return "vaes"
	default:
		return "stdlib"
	}
}

// bestKernel is the fastest implementation this CPU supports; tests
// override it to exercise the others.
var bestKernel = detectKernel()

// NewDecrypter returns a CBC decrypter for AES with a 16, 24 or 32-byte key
// and a 16-byte IV. It behaves like cipher.NewCBCDecrypter(aes.NewCipher(key), iv)
// but is several times faster on amd64 with AES-NI. A bad key size gives
// an error wrapping aes.KeySizeError; a bad IV gives ErrIVLength.
func NewDecrypter(key, iv []byte) (cipher.BlockMode, error) {
	return newDecrypter(key, iv, bestKernel)
}

// NewEncrypter returns a CBC encrypter for AES. CBC encryption cannot be
// parallelised, so this is the standard library's encrypter with the same
// argument checks as NewDecrypter.
func NewEncrypter(key, iv []byte) (cipher.BlockMode, error) {
	block, err := newBlock(key, iv)
	if err != nil {
		return nil, err
	}
	return cipher.NewCBCEncrypter(block, iv), nil
}

func newBlock(key, iv []byte) (cipher.Block, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cbc: key: %w", err)
	}
	if len(iv) != BlockSize {
		return nil, ErrIVLength
	}
	return block, nil
}

func newDecrypter(key, iv []byte, k kernel) (cipher.BlockMode, error) {
	block, err := newBlock(key, iv)
	if err != nil {
		return nil, err
	}
	if k == kernelStdlib {
		return cipher.NewCBCDecrypter(block, iv), nil
	}
	d := &decrypter{kernel: k}
	var enc [(maxRounds + 1) * 16]byte
	d.rounds = expandKey(key, &enc)
	decryptionKeys(d.rounds, &enc, &d.keys)
	copy(d.iv[:], iv)
	return d, nil
}
