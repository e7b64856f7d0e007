package stage

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these (or a
// context or file-system error) together with the offending entry name;
// test with errors.Is.
var (
	// ErrUnsafePath: an entry name (or a source file for Write) that could
	// escape the destination, collide with another entry, or is a symlink
	// or special file.
	ErrUnsafePath = errors.New("unsafe path")
	// ErrExists: the destination directory already exists and
	// Options.Replace is false.
	ErrExists = errors.New("destination exists")
	// ErrCorrupt: the input is not a ZIP, is truncated, or an entry does not
	// match its declared size or CRC-32.
	ErrCorrupt = errors.New("corrupt zip")
	// ErrUnsupported: an entry is encrypted or uses a compression method
	// other than Store (0) and Deflate (8).
	ErrUnsupported = errors.New("unsupported zip entry")
)
