package winpipe

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
)

// Name returns the pipe name `\\.\pipe\PREFIX-HASH` for path: HASH is the
// first 16 hex digits of the SHA-256 of the cleaned, lower-cased path, so
// two spellings of one Windows path share a pipe and two roots do not.
func Name(prefix, path string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(filepath.Clean(path))))
	return `\\.\pipe\` + prefix + "-" + hex.EncodeToString(sum[:8])
}
