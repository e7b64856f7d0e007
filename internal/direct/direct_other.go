//go:build !linux

package direct

import (
	"errors"
	"os"
)

func openDirect(string) (*os.File, error) { return nil, errors.ErrUnsupported }

func refused(error) bool { return false }
