package msi

import (
	"errors"
	"fmt"
)

// ErrFormat reports a file that is not a readable MSI: a broken or
// hostile compound file, a missing or malformed system stream or table.
var ErrFormat = errors.New("not a readable MSI file")

// ErrProperty reports a readable MSI that Microsoft's tool would refuse:
// a mandatory property is missing (ProductCode, ProductVersion) or
// ALLUSERS has a value other than empty, "1" or "2".
var ErrProperty = errors.New("unusable MSI properties")

// ErrNoTable reports a table the database does not define.
var ErrNoTable = errors.New("no such table")

// formatErr returns an error wrapping ErrFormat: "not a readable MSI
// file: <detail>". Unexported code adds context without the package
// prefix; the exported entry points add "msi: " once.
func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}
