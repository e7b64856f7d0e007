package decrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
)

// ErrClosed is returned by a Sealer used after Close.
var ErrClosed = errors.New("sealer closed")

// Sealer encrypts a plaintext stream into the envelope: it writes a
// 32-byte MAC placeholder, the IV, then AES-256-CBC ciphertext with PKCS#7
// padding, computing the HMAC over IV‖ciphertext and the SHA-256
// FileDigest of the plaintext as it goes. Close returns the Keys with the
// MAC; the caller writes Keys.Mac over the placeholder (the first 32 bytes
// of what the Sealer wrote), since a stream cannot be rewritten.
type Sealer struct {
	w      io.Writer
	mode   cipher.BlockMode
	mac    hash.Hash
	digest hash.Hash
	keys   Keys
	buf    []byte // pending plaintext, less than sealBuf long
	n      int64  // plaintext bytes accepted
	closed bool
}

const sealBuf = 1 << 20

// NewKeys returns fresh random key material from crypto/rand.
func NewKeys() (Keys, error) {
	b := make([]byte, KeySize+KeySize+IVSize)
	if _, err := rand.Read(b); err != nil {
		return Keys{}, fmt.Errorf("decrypt: random keys: %w", err)
	}
	return Keys{EncryptionKey: b[:KeySize], MacKey: b[KeySize : 2*KeySize], IV: b[2*KeySize:], Size: -1}, nil
}

// NewSealer starts an envelope on w with the encryption key, MAC key and
// IV of k (use NewKeys for fresh ones).
func NewSealer(w io.Writer, k Keys) (*Sealer, error) {
	if len(k.EncryptionKey) != KeySize || len(k.MacKey) != KeySize || len(k.IV) != IVSize {
		return nil, fmt.Errorf("decrypt: %w: sealing needs a %d-byte key and MAC key and a %d-byte IV", ErrKey, KeySize, IVSize)
	}
	block, err := aes.NewCipher(k.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	s := &Sealer{
		w:      w,
		mode:   cipher.NewCBCEncrypter(block, k.IV),
		mac:    hmac.New(sha256.New, k.MacKey),
		digest: sha256.New(),
		keys:   Keys{EncryptionKey: k.EncryptionKey, MacKey: k.MacKey, IV: k.IV, Size: -1},
		buf:    make([]byte, 0, sealBuf+aes.BlockSize),
	}
	var head [headerSize]byte
	copy(head[MacSize:], k.IV)
	if _, err := w.Write(head[:]); err != nil {
		return nil, fmt.Errorf("decrypt: write envelope header: %w", err)
	}
	s.mac.Write(k.IV)
	return s, nil
}

// Write accepts plaintext.
func (s *Sealer) Write(p []byte) (int, error) {
	if s.closed {
		return 0, ErrClosed
	}
	s.digest.Write(p)
	total := len(p)
	for len(p) > 0 {
		n := min(len(p), sealBuf-len(s.buf))
		s.buf = append(s.buf, p[:n]...)
		p = p[n:]
		s.n += int64(n)
		if len(s.buf) == sealBuf {
			if err := s.flush(s.buf); err != nil {
				return total - len(p), err
			}
			s.buf = s.buf[:0]
		}
	}
	return total, nil
}

func (s *Sealer) flush(b []byte) error {
	s.mode.CryptBlocks(b, b)
	s.mac.Write(b)
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("decrypt: write ciphertext: %w", err)
	}
	return nil
}

// Close pads and writes the final blocks and returns the complete Keys:
// Mac, FileDigest and Size filled in. CipherSize is the envelope's length.
func (s *Sealer) Close() (k Keys, cipherSize int64, err error) {
	if s.closed {
		return Keys{}, 0, ErrClosed
	}
	s.closed = true
	pad := aes.BlockSize - len(s.buf)%aes.BlockSize
	for range pad {
		s.buf = append(s.buf, byte(pad))
	}
	if err := s.flush(s.buf); err != nil {
		return Keys{}, 0, err
	}
	k = s.keys
	k.Mac = s.mac.Sum(nil)
	k.FileDigest = s.digest.Sum(nil)
	k.Size = s.n
	cipherSize = headerSize + (s.n/aes.BlockSize+1)*aes.BlockSize
	return k, cipherSize, nil
}

// Info returns a Detection.xml for sealed keys k, named name, with the given setup file.
func (k Keys) Info(name, setupFile string) *Info {
	return &Info{
		ToolVersion:            ToolVersion,
		Name:                   name,
		UnencryptedContentSize: k.Size,
		FileName:               InnerFileName,
		SetupFile:              setupFile,
		Encryption: EncryptionInfo{
			EncryptionKey:        encodeKey(k.EncryptionKey),
			MacKey:               encodeKey(k.MacKey),
			InitializationVector: encodeKey(k.IV),
			Mac:                  encodeKey(k.Mac),
			ProfileIdentifier:    ProfileVersion1,
			FileDigest:           encodeKey(k.FileDigest),
			FileDigestAlgorithm:  DigestSHA256,
		},
	}
}
