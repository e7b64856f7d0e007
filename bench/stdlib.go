package bench

import (
	"archive/zip"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/stage"
)

// stdlibChunk is the read size of the baseline's passes.
const stdlibChunk = 1 << 20

// StdlibUnpack is the sequential-stdlib baseline: what a straightforward
// Go program does with the standard library alone, one step after the
// other, as the IME does. It checks the HMAC in a first pass over the
// inner file, decrypts it with crypto/cipher's CBC into a staging file
// beside dir in a second, computes the staging file's SHA-256 in a third
// and compares it with FileDigest, then extracts the ZIP with archive/zip,
// one entry at a time, accepting `\` separators and refusing unsafe
// names. dir must not exist; on error it is removed and the staging file
// always is. Only Detection.xml is read with package decrypt.
func StdlibUnpack(ctx context.Context, pkgPath, dir string) (Tree, error) {
	if _, err := os.Lstat(dir); err == nil {
		return Tree{}, fmt.Errorf("bench: stdlib: %w: %s", ErrExists, dir)
	}
	pkg, f, err := decrypt.OpenFile(pkgPath)
	if err != nil {
		return Tree{}, fmt.Errorf("bench: stdlib: %w", err)
	}
	defer f.Close()
	keys, err := pkg.Info.Keys()
	if err != nil {
		return Tree{}, fmt.Errorf("bench: stdlib: %w", err)
	}
	if pkg.Content == nil {
		return Tree{}, fmt.Errorf("bench: stdlib: %w: the inner file is compressed", decrypt.ErrNotPackage)
	}
	return stdlibUnpack(ctx, pkg.Content, keys, dir, nil)
}

// StdlibUnpackRaw is StdlibUnpack for a bare encrypted inner file (the
// .intunewin.bin the IME downloads) and its keys; mark, if set, is called
// with each pass's name as it ends ("hmac", "decrypt", "sha256",
// "extract").
func StdlibUnpackRaw(ctx context.Context, binPath string, k decrypt.Keys, dir string, mark func(pass string)) (Tree, error) {
	if _, err := os.Lstat(dir); err == nil {
		return Tree{}, fmt.Errorf("bench: stdlib: %w: %s", ErrExists, dir)
	}
	f, err := os.Open(binPath)
	if err != nil {
		return Tree{}, fmt.Errorf("bench: stdlib: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Tree{}, fmt.Errorf("bench: stdlib: %w", err)
	}
	return stdlibUnpack(ctx, io.NewSectionReader(f, 0, fi.Size()), k, dir, mark)
}

// stdlibUnpack does StdlibUnpack's work on the inner file enc; mark, if
// set, is called with each pass's name as it ends.
func stdlibUnpack(ctx context.Context, enc *io.SectionReader, k decrypt.Keys, dir string, mark func(pass string)) (Tree, error) {
	if mark == nil {
		mark = func(string) {}
	}
	const macSize, head = decrypt.MacSize, decrypt.MacSize + decrypt.IVSize
	size := enc.Size()
	if size < head+aes.BlockSize || (size-head)%aes.BlockSize != 0 {
		return Tree{}, fmt.Errorf("bench: stdlib: %w: %d bytes", decrypt.ErrTruncated, size)
	}
	var hdr [head]byte
	if _, err := enc.ReadAt(hdr[:], 0); err != nil {
		return Tree{}, fmt.Errorf("bench: stdlib: %w", err)
	}
	iv := hdr[macSize:]
	if subtle.ConstantTimeCompare(iv, k.IV) != 1 {
		return Tree{}, fmt.Errorf("bench: stdlib: %w", decrypt.ErrIV)
	}

	// Pass 1: HMAC over IV ‖ ciphertext.
	mac := hmac.New(sha256.New, k.MacKey)
	if err := copyChunks(ctx, mac, io.NewSectionReader(enc, macSize, size-macSize)); err != nil {
		return Tree{}, err
	}
	sum := mac.Sum(nil)
	if !hmac.Equal(sum, hdr[:macSize]) || !hmac.Equal(sum, k.Mac) {
		return Tree{}, fmt.Errorf("bench: stdlib: %w", decrypt.ErrMAC)
	}
	mark("hmac")

	// Pass 2: decrypt into a staging file.
	staging, err := os.CreateTemp(filepath.Dir(filepath.Clean(dir)), ".stdlib-staging-*.zip")
	if err != nil {
		return Tree{}, fmt.Errorf("bench: stdlib: %w", err)
	}
	defer func() {
		staging.Close()
		os.Remove(staging.Name())
	}()
	plain, err := decryptCBC(ctx, staging, io.NewSectionReader(enc, head, size-head), k.EncryptionKey, iv)
	if err != nil {
		return Tree{}, err
	}
	mark("decrypt")

	// Pass 3: SHA-256 of the plaintext.
	digest := sha256.New()
	if err := copyChunks(ctx, digest, io.NewSectionReader(staging, 0, plain)); err != nil {
		return Tree{}, err
	}
	if subtle.ConstantTimeCompare(digest.Sum(nil), k.FileDigest) != 1 {
		return Tree{}, fmt.Errorf("bench: stdlib: %w", decrypt.ErrDigest)
	}
	mark("sha256")

	// Pass 4: extract.
	t, err := extractZip(ctx, staging, plain, dir)
	if err != nil {
		os.RemoveAll(dir)
		return Tree{}, err
	}
	mark("extract")
	return t, nil
}

// copyChunks copies src to dst in stdlibChunk reads, checking ctx between them.
func copyChunks(ctx context.Context, dst io.Writer, src io.Reader) error {
	buf := make([]byte, stdlibChunk)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bench: stdlib: %w", err)
		}
		n, err := io.ReadFull(src, buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return fmt.Errorf("bench: stdlib: %w", werr)
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("bench: stdlib: %w", err)
		}
	}
}

// decryptCBC decrypts ct (a whole number of blocks) into dst, strips the
// PKCS#7 padding and returns the plaintext length.
func decryptCBC(ctx context.Context, dst io.Writer, ct *io.SectionReader, key, iv []byte) (int64, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return 0, fmt.Errorf("bench: stdlib: %w", err)
	}
	mode := cipher.NewCBCDecrypter(block, iv)
	buf := make([]byte, stdlibChunk)
	var written int64
	for off := int64(0); off < ct.Size(); {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("bench: stdlib: %w", err)
		}
		b := buf[:min(int64(len(buf)), ct.Size()-off)]
		if _, err := ct.ReadAt(b, off); err != nil && err != io.EOF {
			return 0, fmt.Errorf("bench: stdlib: %w", err)
		}
		off += int64(len(b))
		mode.CryptBlocks(b, b)
		if off == ct.Size() {
			p := int(b[len(b)-1])
			if p == 0 || p > aes.BlockSize || p > len(b) {
				return 0, fmt.Errorf("bench: stdlib: %w", decrypt.ErrPadding)
			}
			for _, c := range b[len(b)-p:] {
				if int(c) != p {
					return 0, fmt.Errorf("bench: stdlib: %w", decrypt.ErrPadding)
				}
			}
			b = b[:len(b)-p]
		}
		if _, err := dst.Write(b); err != nil {
			return 0, fmt.Errorf("bench: stdlib: %w", err)
		}
		written += int64(len(b))
	}
	return written, nil
}

// extractZip extracts the ZIP in r into dir, which it creates, one entry
// after the other with archive/zip (which checks each entry's CRC-32).
func extractZip(ctx context.Context, r io.ReaderAt, size int64, dir string) (Tree, error) {
	var t Tree
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return t, fmt.Errorf("bench: stdlib: %w", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return t, fmt.Errorf("bench: stdlib: %w", err)
	}
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return t, fmt.Errorf("bench: stdlib: %w", err)
		}
		name := strings.ReplaceAll(f.Name, `\`, "/")
		isDir := strings.HasSuffix(name, "/")
		name = strings.TrimSuffix(name, "/")
		if !filepath.IsLocal(name) || strings.Contains(name, ":") || f.Mode()&fs.ModeSymlink != 0 {
			return t, fmt.Errorf("bench: stdlib: %w: %q", stage.ErrUnsafePath, f.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		if isDir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return t, fmt.Errorf("bench: stdlib: %w", err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return t, fmt.Errorf("bench: stdlib: %w", err)
		}
		n, err := extractFile(f, target)
		if err != nil {
			return t, err
		}
		t.Files++
		t.Bytes += n
	}
	return t, nil
}

func extractFile(f *zip.File, target string) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("bench: stdlib: %s: %w", f.Name, err)
	}
	defer rc.Close()
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, fmt.Errorf("bench: stdlib: %w", err)
	}
	n, err := io.Copy(out, rc)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("bench: stdlib: %s: %w", f.Name, err)
	}
	if err := os.Chtimes(target, f.Modified, f.Modified); err != nil {
		return n, fmt.Errorf("bench: stdlib: %w", err)
	}
	return n, nil
}
