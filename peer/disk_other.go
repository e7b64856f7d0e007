//go:build !linux && !darwin && !windows

package peer

import "errors"

// diskSize is not known here: the percent cap does not apply.
func diskSize(string) (int64, error) { return 0, errors.ErrUnsupported }
