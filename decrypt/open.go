package decrypt

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/imepipe/imepipe/decrypt/internal/cbc"
)

// Errors Open returns, wrapped with detail.
var (
	// ErrMAC: the HMAC does not match; the file was altered or the MAC key is wrong.
	ErrMAC = errors.New("HMAC mismatch: package altered or wrong MAC key")
	// ErrPieces: OpenOptions.PiecesChecked, standing in for the HMAC, did
	// not vouch for every byte.
	ErrPieces = errors.New("ciphertext not verified by its piece hashes")
	// ErrDigest: the plaintext's SHA-256 differs from FileDigest.
	ErrDigest = errors.New("FileDigest mismatch: decrypted content differs from what was packed")
	// ErrIV: the file's IV is not the one given.
	ErrIV = errors.New("IV mismatch")
	// ErrPadding: the last block's PKCS#7 padding is invalid (wrong key or IV, or corrupt).
	ErrPadding = errors.New("bad PKCS#7 padding: wrong key or IV, or corrupt content")
	// ErrTruncated: the encrypted file is shorter than its structure requires.
	ErrTruncated = errors.New("encrypted content truncated")
	// ErrSize: the plaintext is not UnencryptedContentSize long.
	ErrSize = errors.New("decrypted size differs from UnencryptedContentSize")
)

// Result says what Open read, wrote and checked.
type Result struct {
	CipherSize    int64  // bytes of the encrypted file: MAC ‖ IV ‖ ciphertext
	PlainSize     int64  // bytes written to dst
	Digest        []byte // SHA-256 of the plaintext
	MacChecked    bool   // HMAC compared (needs MacKey)
	DigestChecked bool   // FileDigest compared (needs FileDigest)
	// PiecesChecked: OpenOptions.PiecesChecked vouched for every byte of
	// the encrypted file instead of the HMAC (MacChecked stays false).
	PiecesChecked bool
}

// Verified reports whether the encrypted file was checked (its HMAC, or
// every piece against trusted hashes) and the FileDigest too.
func (r Result) Verified() bool { return (r.MacChecked || r.PiecesChecked) && r.DigestChecked }

// OpenOptions tunes OpenWith.
type OpenOptions struct {
	// PiecesChecked, when set, stands in for the HMAC pass: the caller
	// hands over only bytes it has checked against hashes it trusts (DO's
	// piece hashes, themselves checked against the content info), so a
	// second SHA-256 pass over the same bytes adds nothing. It is called
	// once the last byte is read and must return nil only if every byte
	// of the file was so checked; otherwise Open fails with ErrPieces.
	// The MAC stored in the file is still compared with Keys.Mac.
	PiecesChecked func() error
}

// newDecrypter makes the CBC decrypter: AES-NI/VAES on amd64, the
// standard library elsewhere.
var newDecrypter = cbc.NewDecrypter

const (
	chunkSize = 1 << 20 // bytes per pipeline chunk, a multiple of the AES block
	inFlight  = 6       // chunks in the pipeline: memory is 2 × inFlight × chunkSize
)

// chunkPool recycles pipeline buffers across calls.
var chunkPool = sync.Pool{New: func() any {
	return &chunk{ctBuf: make([]byte, chunkSize), ptBuf: make([]byte, chunkSize)}
}}

// chunk is one piece of the stream as it moves through the pipeline.
type chunk struct {
	ctBuf, ptBuf []byte
	ct, pt       []byte
	last         bool
	macDone      chan struct{}
	release      func() // a Lender's buffer in ct (nil: ct is in ctBuf)
}

// Lender is a source that can hand the pipeline its own buffers instead
// of copying into the pipeline's (fetch.PrefixReader, whose buffers are
// the download's pieces): Lend returns the next 1 to max bytes, or an
// error (io.EOF at the end), valid until release is called, once. Read
// is still used for the header.
type Lender interface {
	io.Reader
	Lend(max int) (b []byte, release func(), err error)
}

// Open reads an encrypted inner file (MAC ‖ IV ‖ ciphertext) from src,
// writes the plaintext to dst, and checks, in the same single pass, the
// HMAC over IV‖ciphertext, the PKCS#7 padding, the size and the SHA-256
// FileDigest. HMAC, decryption and digest run concurrently over bounded
// buffers. The plaintext written to dst is untrusted until Open returns nil.
func Open(ctx context.Context, dst io.Writer, src io.Reader, k Keys) (Result, error) {
	return OpenWith(ctx, dst, src, k, OpenOptions{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dst io.Writer, src io.Reader, k Keys, opt OpenOptions) (Result, error) {
	var res Result
	if len(k.EncryptionKey) != KeySize {
		return res, fmt.Errorf("decrypt: %w: encryption key is %d bytes, want %d", ErrKey, len(k.EncryptionKey), KeySize)
	}
	var head [headerSize]byte
	if n, err := io.ReadFull(src, head[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return res, fmt.Errorf("decrypt: %w: %d bytes, a MAC and IV need %d", ErrTruncated, n, headerSize)
		}
		return res, fmt.Errorf("decrypt: read header: %w", err)
	}
	fileMac, iv := head[:MacSize], head[MacSize:]
	if k.IV != nil && subtle.ConstantTimeCompare(k.IV, iv) != 1 {
		return res, fmt.Errorf("decrypt: %w: the file's IV is not the one given", ErrIV)
	}
	if k.Mac != nil && subtle.ConstantTimeCompare(k.Mac, fileMac) != 1 {
		return res, fmt.Errorf("decrypt: %w: the MAC in the file differs from the one given", ErrMAC)
	}
	mode, err := newDecrypter(k.EncryptionKey, bytes.Clone(iv))
	if err != nil {
		return res, fmt.Errorf("decrypt: %w", err)
	}
	var mac hash.Hash
	if k.MacKey != nil && opt.PiecesChecked == nil {
		mac = hmac.New(sha256.New, k.MacKey)
		mac.Write(iv)
	}
	p := &pipeline{src: src, dst: dst, mode: mode, mac: mac, digest: sha256.New()}
	if err := p.run(ctx); err != nil {
		return res, err
	}
	res.CipherSize = headerSize + p.ctLen
	res.PlainSize = p.ptLen
	res.Digest = p.digest.Sum(nil)
	if mac != nil {
		if !hmac.Equal(mac.Sum(nil), fileMac) {
			return res, fmt.Errorf("decrypt: %w", ErrMAC)
		}
		res.MacChecked = true
	}
	if opt.PiecesChecked != nil {
		if err := opt.PiecesChecked(); err != nil {
			return res, fmt.Errorf("decrypt: %w: %w", ErrPieces, err)
		}
		res.PiecesChecked = true
	}
	if p.padErr != nil {
		return res, fmt.Errorf("decrypt: %w", p.padErr)
	}
	if k.Size >= 0 && k.FileDigest != nil && p.ptLen != k.Size {
		return res, fmt.Errorf("decrypt: %w: %d bytes, want %d", ErrSize, p.ptLen, k.Size)
	}
	if k.FileDigest != nil {
		if subtle.ConstantTimeCompare(res.Digest, k.FileDigest) != 1 {
			return res, fmt.Errorf("decrypt: %w", ErrDigest)
		}
		res.DigestChecked = true
	}
	return res, nil
}

// pipeline is one run of Open's stages: read → (HMAC ∥ decrypt → digest) → write.
type pipeline struct {
	src    io.Reader
	dst    io.Writer
	mode   cipher.BlockMode
	mac    hash.Hash // nil: not checked
	digest hash.Hash

	ctLen, ptLen int64
	padErr       error
}

func (p *pipeline) run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	free := make(chan *chunk, inFlight)
	for range inFlight {
		free <- chunkPool.Get().(*chunk)
	}
	defer func() {
		// Chunks still in flight when a stage failed are left to the GC.
		for {
			select {
			case c := <-free:
				chunkPool.Put(c)
			default:
				return
			}
		}
	}()
	toMac := make(chan *chunk, inFlight)
	toDec := make(chan *chunk, inFlight)
	toSum := make(chan *chunk, inFlight)
	toWrite := make(chan *chunk, inFlight)

	g.Go(func() error { return p.read(ctx, free, toMac, toDec) })
	g.Go(func() error {
		for c := range recv(ctx, toMac) {
			if p.mac != nil {
				p.mac.Write(c.ct)
			}
			close(c.macDone)
		}
		return ctx.Err()
	})
	g.Go(func() error {
		defer close(toSum)
		for c := range recv(ctx, toDec) {
			c.pt = c.ptBuf[:len(c.ct)]
			p.mode.CryptBlocks(c.pt, c.ct)
			if c.last {
				c.pt, p.padErr = unpad(c.pt)
			}
			if !send(ctx, toSum, c) {
				return ctx.Err()
			}
		}
		return ctx.Err()
	})
	g.Go(func() error {
		defer close(toWrite)
		for c := range recv(ctx, toSum) {
			p.digest.Write(c.pt)
			if !send(ctx, toWrite, c) {
				return ctx.Err()
			}
		}
		return ctx.Err()
	})
	g.Go(func() error {
		for c := range recv(ctx, toWrite) {
			if _, err := p.dst.Write(c.pt); err != nil {
				return fmt.Errorf("decrypt: write plaintext: %w", err)
			}
			p.ptLen += int64(len(c.pt))
			select {
			case <-c.macDone:
			case <-ctx.Done():
				return ctx.Err()
			}
			if c.release != nil {
				c.release()
				c.release = nil
			}
			free <- c // capacity inFlight: never blocks
		}
		return ctx.Err()
	})
	return g.Wait()
}

// read fills chunks from src, one chunk behind so that it can mark the
// last one, and hands each to the MAC and decrypt stages.
func (p *pipeline) read(ctx context.Context, free <-chan *chunk, toMac, toDec chan<- *chunk) error {
	defer close(toMac)
	defer close(toDec)
	var pending *chunk
	for {
		var c *chunk
		select {
		case c = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
		ct, err := p.fill(c)
		n := len(ct)
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return fmt.Errorf("decrypt: read ciphertext: %w", err)
		}
		c.ct, c.last, c.macDone = ct, false, make(chan struct{})
		p.ctLen += int64(n)
		if n == 0 {
			// The pending chunk, if any, was the last; c goes unused.
			if pending == nil {
				return fmt.Errorf("decrypt: %w: no ciphertext after the IV", ErrTruncated)
			}
			pending.last = true
			return p.emit(ctx, pending, toMac, toDec)
		}
		if pending != nil {
			if err := p.emit(ctx, pending, toMac, toDec); err != nil {
				return err
			}
		}
		if eof {
			if p.ctLen%aes.BlockSize != 0 {
				return fmt.Errorf("decrypt: %w: ciphertext of %d bytes is not whole AES blocks", ErrTruncated, p.ctLen)
			}
			c.last = true
			return p.emit(ctx, c, toMac, toDec)
		}
		pending = c
	}
}

// fill reads the next chunk of ciphertext for c: a whole ctBuf, or, from
// a Lender, what it lends when that is whole AES blocks (c.release set),
// else a copy topped up to whole blocks. io.EOF or io.ErrUnexpectedEOF
// (with the last bytes, if any) mark the end.
func (p *pipeline) fill(c *chunk) ([]byte, error) {
	l, ok := p.src.(Lender)
	if !ok {
		n, err := io.ReadFull(p.src, c.ctBuf)
		return c.ctBuf[:n], err
	}
	b, release, err := l.Lend(len(c.ctBuf))
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, err
	}
	if len(b)%aes.BlockSize == 0 {
		c.release = release
		return b, nil
	}
	n := copy(c.ctBuf, b)
	release()
	m, err := io.ReadFull(p.src, c.ctBuf[n:n+aes.BlockSize-n%aes.BlockSize])
	return c.ctBuf[:n+m], err
}

func (p *pipeline) emit(ctx context.Context, c *chunk, toMac, toDec chan<- *chunk) error {
	if !send(ctx, toMac, c) || !send(ctx, toDec, c) {
		return ctx.Err()
	}
	return nil
}

// unpad strips PKCS#7 padding from the final plaintext.
func unpad(pt []byte) ([]byte, error) {
	if len(pt) == 0 {
		return pt, ErrPadding
	}
	n := int(pt[len(pt)-1])
	if n == 0 || n > aes.BlockSize || n > len(pt) {
		return pt, ErrPadding
	}
	bad := 0
	for _, b := range pt[len(pt)-n:] {
		bad |= int(b) ^ n
	}
	if bad != 0 {
		return pt, ErrPadding
	}
	return pt[:len(pt)-n], nil
}

// recv yields values from ch until it is closed or ctx is done.
func recv[T any](ctx context.Context, ch <-chan T) func(func(T) bool) {
	return func(yield func(T) bool) {
		for {
			select {
			case v, ok := <-ch:
				if !ok || !yield(v) {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}
}

// send delivers v unless ctx is done first.
func send[T any](ctx context.Context, ch chan<- T, v T) bool {
	select {
	case ch <- v:
		return true
	case <-ctx.Done():
		return false
	}
}
