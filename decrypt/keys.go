package decrypt

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
)

// Sizes of the envelope's parts.
const (
	KeySize    = 32 // AES-256 key and HMAC-SHA256 key
	IVSize     = 16
	MacSize    = 32
	DigestSize = 32
	headerSize = MacSize + IVSize
)

// ErrKey reports a key, IV, MAC or digest that is not valid base64 of the right length.
var ErrKey = errors.New("bad key material")

// Keys is the decoded key material of one package. MacKey, Mac and
// FileDigest may be nil when unknown (a raw .bin given only --key and
// --iv); Open then checks what it can and says what it could not.
type Keys struct {
	EncryptionKey []byte
	MacKey        []byte
	IV            []byte
	Mac           []byte
	FileDigest    []byte
	// Size is the expected plaintext length, or -1 when unknown.
	Size int64
}

// Keys decodes and checks the key material of a Detection.xml.
func (info *Info) Keys() (Keys, error) {
	e := info.Encryption
	if e.ProfileIdentifier != "" && e.ProfileIdentifier != ProfileVersion1 {
		return Keys{}, fmt.Errorf("%w: ProfileIdentifier %q is not %s", ErrInfo, e.ProfileIdentifier, ProfileVersion1)
	}
	if e.FileDigestAlgorithm != "" && !strings.EqualFold(e.FileDigestAlgorithm, DigestSHA256) {
		return Keys{}, fmt.Errorf("%w: FileDigestAlgorithm %q is not %s", ErrInfo, e.FileDigestAlgorithm, DigestSHA256)
	}
	k := Keys{Size: info.UnencryptedContentSize}
	var err error
	fields := []struct {
		name string
		in   string
		size int
		out  *[]byte
	}{
		{"EncryptionKey", e.EncryptionKey, KeySize, &k.EncryptionKey},
		{"MacKey", e.MacKey, KeySize, &k.MacKey},
		{"InitializationVector", e.InitializationVector, IVSize, &k.IV},
		{"Mac", e.Mac, MacSize, &k.Mac},
		{"FileDigest", e.FileDigest, DigestSize, &k.FileDigest},
	}
	for _, f := range fields {
		if *f.out, err = DecodeKey(f.name, f.in, f.size); err != nil {
			return Keys{}, fmt.Errorf("%w: %w", ErrInfo, err)
		}
	}
	return k, nil
}

// DecodeKey decodes base64 text that must hold exactly size bytes; name
// is used in the error.
func DecodeKey(name, b64 string, size int) ([]byte, error) {
	b64 = strings.TrimSpace(b64)
	if b64 == "" {
		return nil, fmt.Errorf("%w: %s is empty", ErrKey, name)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base64: %w", ErrKey, name, err)
	}
	if len(b) != size {
		return nil, fmt.Errorf("%w: %s is %d bytes, want %d", ErrKey, name, len(b), size)
	}
	return b, nil
}

// encodeKey is the base64 form Detection.xml uses.
func encodeKey(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// KeysFromDecryptInfo decodes and checks the key material the service
// sends (imeapi.DecryptInfo, the same fields as Detection.xml's
// EncryptionInfo under the IME's names); size is the ContentInfo's
// UnencryptedContentSize (-1 when unknown).
func KeysFromDecryptInfo(d imeapi.DecryptInfo, size int64) (Keys, error) {
	info := Info{
		UnencryptedContentSize: size,
		Encryption: EncryptionInfo{
			EncryptionKey:        d.EncryptionKey,
			MacKey:               d.MacKey,
			InitializationVector: d.IV,
			Mac:                  d.Mac,
			ProfileIdentifier:    d.ProfileIdentifier,
			FileDigest:           d.FileDigest,
			FileDigestAlgorithm:  d.FileDigestAlgorithm,
		},
	}
	return info.Keys()
}
