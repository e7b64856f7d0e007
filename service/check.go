package service

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/service/filter"
)

// AppCheck is the verdict on one app folder, as serve would load it:
// Loaded, or Error saying why it is refused; and the fields Review
// lists (Warnings: what loading decided, such as an assigned id, and
// what loads but cannot work). Its JSON is what `imepipe apps check --json` prints per app.
type AppCheck struct {
	Dir         string   `json:"dir"`
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Version     string   `json:"version"`
	Loaded      bool     `json:"loaded"`
	Error       string   `json:"error"`
	Ignored     []string `json:"ignored"`
	Unsupported []string `json:"unsupported"`
	Warnings    []string `json:"warnings"`

	reasons     []string // Error's reasons but unsupported settings
	unsupported bool     // refused for unsupported settings (Unsupported)
}

// Verdict is the check's verdict in a few words: "loaded", or "refused"
// with every reason; unsupported settings, listed in Unsupported, are
// named last and without the list.
func (c AppCheck) Verdict() string {
	switch {
	case c.Loaded:
		return "loaded"
	case c.unsupported && len(c.reasons) == 0:
		return "refused (unsupported settings; serve --allow-unsupported serves it)"
	case c.unsupported:
		return "refused: " + strings.Join(c.reasons, "; ") + "; and unsupported settings (serve --allow-unsupported accepts those)"
	case len(c.reasons) > 0:
		return "refused: " + strings.Join(c.reasons, "; ")
	}
	return "refused: " + c.Error // a check decoded from JSON
}

// CheckApps loads appsDir exactly as NewContext would (app.json, filters,
// the package's keys, setup file, HMAC and FileDigest: each package is
// read once) without cutting blobs or writing anything, and returns one
// AppCheck per app folder, in folder order.
// The error is for an appsDir or filters file that cannot be used.
func CheckApps(ctx context.Context, appsDir string, allowUnsupported bool) ([]AppCheck, error) {
	c, err := loadCatalog(ctx, appsDir, loadOptions{allowUnsupported: allowUnsupported, logf: func(string, ...any) {}})
	if err != nil {
		return nil, err
	}
	return c.checks, nil
}

// admit refuses an app whose settings the service cannot honour: each
// assignment filter that is not in filters.json or is unusable
// (refused), and unsupported settings unless allowUnsupported.
func admit(dir string, g *imeapi.Win32LobApp, r imeapi.Review, filters map[string]*filter.Filter, allowUnsupported bool) (refused []*AppError, unsupported *AppError) {
	file := filepath.Join(dir, AppFile)
	for i, as := range g.Assignments {
		t := as.Target
		if !strings.EqualFold(t.FilterType, "include") && !strings.EqualFold(t.FilterType, "exclude") {
			continue
		}
		field := fmt.Sprintf("assignments[%d].target.deviceAndAppManagementAssignmentFilterId", i)
		switch f := filters[strings.ToLower(t.FilterID)]; {
		case f == nil:
			refused = append(refused, &AppError{Dir: dir, File: file, Field: field, Err: fmt.Errorf("%w: no filter %s in %s", imeapi.ErrInvalid, t.FilterID, FiltersFile)})
		case f.Err != nil:
			refused = append(refused, &AppError{Dir: dir, File: file, Field: field, Err: fmt.Errorf("%w: %w", imeapi.ErrInvalid, f.Err)})
		}
	}
	if len(r.Unsupported) > 0 && !allowUnsupported {
		unsupported = &AppError{Dir: dir, File: file, Err: fmt.Errorf("%w: %s (serve --allow-unsupported serves it anyway)", ErrUnsupported, strings.Join(r.Unsupported, ", "))}
	}
	return refused, unsupported
}
