package orchestrate

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// Identifiers from the network (a policy's appId and version, a content
// info's DoFileId) name folders and files under the root. They are
// checked with the service's own rules before any path is built from
// them, and every path built from them is checked once more to be one
// plain name inside its folder (under).

// checkPolicy returns an error naming the first bad identifier of p: an
// appId that is not a GUID, a version the service would not accept.
func checkPolicy(p imeapi.Policy) error {
	if err := imeapi.CheckAppID(p.AppID); err != nil {
		return fmt.Errorf("orchestrate: policy appId %s: %w", shown(p.AppID), err)
	}
	if err := imeapi.CheckVersion(p.Version); err != nil {
		return fmt.Errorf("orchestrate: policy version %s: %w", shown(p.Version), err)
	}
	return nil
}

// maxShown bounds an identifier quoted into a log line or a message.
const maxShown = 80

// shown quotes an identifier for a log line, a state key or a message:
// Go-quoted in ASCII (no control character, no invalid UTF-8 reaches a
// terminal), cut at maxShown bytes with its length said.
func shown(s string) string {
	if len(s) <= maxShown {
		return strconv.QuoteToASCII(s)
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.QuoteToASCII(s[:maxShown]), len(s))
}

// plain is an identifier as it may stand in a state key: itself when it
// is made of the version charset, else its shown form.
func plain(s string) string {
	if imeapi.CheckVersion(s) == nil {
		return s
	}
	return shown(s)
}

// appKey is the state key, and the file and folder name, of p's app at
// its version: <appId>_<version>. Only a policy checkPolicy accepted
// names a path with it.
func appKey(p imeapi.Policy) string { return p.AppID + "_" + p.Version }

// refusedKey is the state key a refused policy is recorded under. bbolt
// keys are not paths, but they are printed (imepipe status), so a bad
// identifier is stored in its quoted, bounded form.
func refusedKey(p imeapi.Policy) string { return plain(p.AppID) + "_" + plain(p.Version) }

// under joins dir and name, a single file or folder name built from
// identifiers, and refuses any name that is not one local path element
// (separators, "..", an absolute or volume name, a Windows reserved
// name): the result is always directly inside dir.
func under(dir, name string) (string, error) {
	if !filepath.IsLocal(name) || strings.ContainsAny(name, `/\:`) || filepath.Base(name) != name {
		return "", fmt.Errorf("orchestrate: %s is not a plain name in %s: %w", shown(name), dir, ErrPath)
	}
	return filepath.Join(dir, name), nil
}

// inside reports whether path names an entry directly inside dir (a
// path read back from state.db, checked before it is removed).
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && filepath.IsLocal(rel) && !strings.ContainsAny(rel, `/\`)
}

// refuse records a policy checkPolicy refused: one error line, an error
// state under refusedKey naming the bad field, and a report when the
// appId is one the service can key it by. Nothing is created on disk. A
// policy refused the same way before is not logged or reported again.
// The report is sent once, never kept pending: a service that refuses it
// must not hold up the reports queued behind it.
func (a *Agent) refuse(ctx context.Context, t *tracer, p imeapi.Policy, err error) {
	user, key := state.DeviceUser, refusedKey(p)
	msg := err.Error()
	if ap, err := a.store.App(user, key); err == nil && ap.Enforcement != nil && ap.Enforcement.ErrorMessage == msg {
		return
	}
	t.log(imelog.PolicyRefused, shown(p.AppID), shown(p.Version), err)
	_ = a.store.PutPolicy(user, key, state.Policy{AppID: plain(p.AppID), Version: plain(p.Version), Intent: p.Intent, UpdatedAt: a.cfg.Clock.Now()})
	_ = a.store.PutCompliance(user, key, state.ComplianceStateMessage{ComplianceState: imeapi.ComplianceError, ErrorCode: CodeFailure, TargetType: 2})
	_ = a.store.PutEnforcement(user, key, state.EnforcementStateMessage{EnforcementState: imeapi.EnforcementError, ErrorCode: CodeFailure, ErrorMessage: msg})
	if imeapi.CheckAppID(p.AppID) != nil {
		return
	}
	rep := imeapi.Report{AppID: p.AppID, Version: plain(p.Version), EnforcementState: imeapi.EnforcementError, ComplianceState: imeapi.ComplianceError, ErrorCode: CodeFailure, ErrorMessage: msg}
	if err := a.client.Report(ctx, rep); err != nil {
		t.log(imelog.RefusedReportNotSent, p.AppID, err)
	}
}
