//go:build !linux

package stage

import "errors"

// exchange is not available here: the caller renames in two steps.
func exchange(string, string) error { return errors.ErrUnsupported }
