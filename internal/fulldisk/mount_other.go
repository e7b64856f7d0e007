//go:build !linux

package fulldisk

import "errors"

func mount(string, int64) error { return errors.ErrUnsupported }

func unmount(string) error { return nil }
