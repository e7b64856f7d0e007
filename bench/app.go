package bench

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/linkfile"
	"github.com/imepipe/imepipe/service"
)

// WriteApp lays out one app of a service apps folder for the fleet and
// end-to-end benchmarks: apps/<name>/app.json (app as Graph returns it)
// and a link to the package (symbolic, else hard, else a copy: see
// internal/linkfile), so that a multi-GB package is not copied where it can be linked.
func WriteApp(apps, name string, app imeapi.Win32LobApp, pkg string) error {
	dir := filepath.Join(apps, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	raw, err := app.MarshalJSON()
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, service.AppFile), raw, 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	abs, err := filepath.Abs(pkg)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := linkfile.Make(abs, filepath.Join(dir, name+".intunewin")); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
