package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// profileSite starts a CPU profile of this process (service, origin,
// Connected Cache, LAN seed) into dir/site.cpu.pprof; stop ends it.
func profileSite(dir string) (stop func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "site.cpu.pprof"))
	if err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("e2e: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
