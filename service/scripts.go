package service

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/imepipe/imepipe/imeapi"
)

// ScriptsFile, in an app folder, holds the app's script objects
// (win32LobAppInstallPowerShellScript, win32LobAppUninstallPowerShellScript)
// as Graph lists them under the app's content version (an array, or
// {"value": [...]}): what activeInstallScript and activeUninstallScript
// name by id. Absent: no scripts.
const ScriptsFile = "scripts.json"

// maxScriptsJSON bounds ScriptsFile: two scripts of Graph's 100 KB, base64, and slack.
const maxScriptsJSON = 1 << 20

// readScripts reads dir's ScriptsFile; none is no scripts. Errors are
// AppErrors naming the file and field.
func readScripts(dir string) ([]imeapi.AppScript, error) {
	path := filepath.Join(dir, ScriptsFile)
	fail := func(field string, err error) ([]imeapi.AppScript, error) {
		return nil, &AppError{Dir: dir, File: path, Field: field, Err: err}
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return fail("", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxScriptsJSON+1))
	if err != nil {
		return fail("", err)
	}
	if len(data) > maxScriptsJSON {
		return fail("", fmt.Errorf("%w: larger than %d bytes", imeapi.ErrInvalid, maxScriptsJSON))
	}
	scripts, err := imeapi.ParseScripts(data)
	if err != nil {
		var fe *imeapi.FieldError
		if errors.As(err, &fe) {
			return fail(fe.Field, fe.Err)
		}
		return fail("", err)
	}
	return scripts, nil
}
