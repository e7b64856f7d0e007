package peer

import (
	"fmt"
	"path/filepath"
	"regexp"
)

// idRE is the DoFileId charset: it names files in the DO cache, so no
// separators, no leading dot, bounded length.
var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)

// CheckID returns an error wrapping ErrBadID unless id is a DoFileId that
// is safe to use as a file name: the charset above, and not a name the
// platform reserves (NUL, CON, COM1… on Windows).
func CheckID(id string) error {
	if !idRE.MatchString(id) || !filepath.IsLocal(id+dataSuffix) {
		return fmt.Errorf("%w: %q", ErrBadID, id)
	}
	return nil
}
