//go:build !windows

package stage

import (
	"fmt"
	"os"
)

// syncDir flushes directory p (its entries: the names just created or
// renamed in it) to stable storage.
func syncDir(p string) error {
	d, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("stage: sync: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("stage: sync %s: %w", p, err)
	}
	return nil
}
