//go:build !windows

package rules

import (
	"bytes"
	"os"

	"github.com/imepipe/imepipe/imeapi"
)

// scriptExt is the scratch script's extension.
const scriptExt = ".sh"

// scriptArgv runs path with /bin/sh, or by itself when src starts with a
// #! line. The rule's runAs32Bit and enforceSignatureCheck mean nothing here.
func scriptArgv(path string, src []byte, _ imeapi.Rule) []string {
	if bytes.HasPrefix(src, []byte("#!")) {
		_ = os.Chmod(path, 0o700)
		return []string{path}
	}
	return []string{"/bin/sh", path}
}
