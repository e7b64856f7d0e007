//go:build windows

package orchestrate

import (
	"fmt"

	"github.com/imepipe/imepipe/orchestrate/reap"
)

// userRun: running an installer with the logged-on user's token
// (WTSQueryUserToken, CreateProcessAsUser) is not implemented; a
// runAsAccount user app fails with ErrInstallUser rather than run as
// SYSTEM.
func (a *Agent) userRun(string) (*reap.Credential, []string, error) {
	return nil, nil, fmt.Errorf("%w: user-context installs are not implemented on Windows; not running it as SYSTEM", ErrInstallUser)
}
