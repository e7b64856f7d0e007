package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// fileRule checks a file or folder: exists, doesNotExist, sizeInMB,
// modifiedDate, createdDate (the change time on Linux) or version (file
// versions are a PE resource: not available here, never matches).
func (e *Env) fileRule(r imeapi.Rule) (bool, string, error) {
	dir, err := MapPath(r.Path, e.Folders, r.Check32BitOn64System)
	if err != nil {
		return false, "", err
	}
	name := strings.ReplaceAll(r.FileOrFolderName, `\`, "/")
	if name != "" && (!filepath.IsLocal(name)) {
		return false, "", fmt.Errorf("rules: file name %q: %w", r.FileOrFolderName, ErrRule)
	}
	p := filepath.Join(dir, name)
	op, want := opOf(r)
	fi, statErr := os.Stat(p)
	exists := statErr == nil
	switch strings.ToLower(op) {
	case "exists", "notconfigured":
		return exists, fmt.Sprintf("%s exists: %v", p, exists), nil
	case "doesnotexist":
		return !exists, fmt.Sprintf("%s exists: %v", p, exists), nil
	}
	if !exists {
		return false, fmt.Sprintf("%s does not exist", p), nil
	}
	switch strings.ToLower(op) {
	case "sizeinmb":
		mb := strconv.FormatFloat(float64(fi.Size())/(1<<20), 'f', -1, 64)
		ok, err := compare("float", r.Operator, mb, want)
		return ok, fmt.Sprintf("%s size %s MB %s %s: %v", p, mb, r.Operator, want, ok), err
	case "modifieddate", "createddate":
		t := fi.ModTime().UTC().Format(time.RFC3339Nano)
		ok, err := compare("dateTime", r.Operator, t, want)
		return ok, fmt.Sprintf("%s %s %s %s %s: %v", p, op, t, r.Operator, want, ok), err
	case "version":
		return false, fmt.Sprintf("%s: file versions are not readable on this platform", p), nil
	}
	return false, "", fmt.Errorf("rules: file rule operation %q: %w", op, ErrRule)
}
