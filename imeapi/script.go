package imeapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// Script installers (Graph beta). A win32LobApp's activeInstallScript and
// activeUninstallScript are mobileAppScriptReference objects: only the
// targetId of a script object that Graph keeps apart, under
// mobileApps/{id}/microsoft.graph.win32LobApp/contentVersions/{v}/scripts,
// as win32LobAppInstallPowerShellScript and
// win32LobAppUninstallPowerShellScript with the script itself in content
// (base64). An app folder holds them as Graph lists them (ParseScripts);
// the service resolves the references and sends the scripts in the policy
// (Policy.InstallScript, Policy.UninstallScript), and the agent runs the
// script instead of the command line.

// Script object types.
const (
	TypeInstallScript   = "#microsoft.graph.win32LobAppInstallPowerShellScript"
	TypeUninstallScript = "#microsoft.graph.win32LobAppUninstallPowerShellScript"
)

// MaxScriptBytes is Graph's limit on a script's content (decoded).
const MaxScriptBytes = 100 << 10

// AppScript is a win32LobAppInstallPowerShellScript or a
// win32LobAppUninstallPowerShellScript (ODataType tells which).
type AppScript struct {
	ODataType   string `json:"@odata.type"`
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	// Content is the script, base64.
	Content string `json:"content"`
	State   string `json:"state,omitempty"` // commitPending | commitSuccess | commitFailed
	// EnforceSignatureCheck refuses an unsigned script (not implemented:
	// Review lists it); RunAs32Bit runs the 32-bit PowerShell (Windows).
	EnforceSignatureCheck bool `json:"enforceSignatureCheck,omitempty"`
	RunAs32Bit            bool `json:"runAs32Bit,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

func (x *AppScript) UnmarshalJSON(b []byte) error {
	type plain AppScript
	if err := unmarshalKeeping(b, (*plain)(x), &x.Extra); err != nil {
		return err
	}
	x.ODataType = CanonicalType(x.ODataType)
	return nil
}

func (x AppScript) MarshalJSON() ([]byte, error) {
	type plain AppScript
	return marshalKeeping(plain(x), x.Extra)
}

// Script returns the script's decoded content.
func (x *AppScript) Script() ([]byte, error) {
	return base64.StdEncoding.DecodeString(x.Content)
}

// ParseScripts reads a list of script objects as Graph lists them (a JSON
// array, or {"value": [...]}) and validates each: a known type, an id, a
// base64 content of at most MaxScriptBytes, no id twice. Errors are
// FieldErrors ("value[1].content: …").
func ParseScripts(data []byte) ([]AppScript, error) {
	t := bytes.TrimSpace(data)
	field := ""
	if len(t) > 0 && t[0] == '{' {
		var w struct {
			Value *json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(t, &w); err != nil {
			return nil, &FieldError{Field: "", Err: fmt.Errorf("%w: %v", ErrInvalid, err)}
		}
		if w.Value == nil {
			return nil, required("value")
		}
		t, field = *w.Value, "value"
	}
	var list []AppScript
	if err := json.Unmarshal(t, &list); err != nil {
		return nil, &FieldError{Field: field, Err: fmt.Errorf("%w: want an array of script objects: %v", ErrInvalid, err)}
	}
	seen := map[string]bool{}
	for i := range list {
		s := &list[i]
		f := fmt.Sprintf("[%d]", i)
		if field != "" {
			f = field + f
		}
		switch {
		case s.ODataType != TypeInstallScript && s.ODataType != TypeUninstallScript:
			return nil, bad(f+".@odata.type", "%q, want %s or %s", s.ODataType, TypeInstallScript, TypeUninstallScript)
		case strings.TrimSpace(s.ID) == "":
			return nil, required(f + ".id")
		case seen[strings.ToLower(s.ID)]:
			return nil, bad(f+".id", "%q listed twice", s.ID)
		case s.Content == "":
			return nil, required(f + ".content")
		}
		seen[strings.ToLower(s.ID)] = true
		body, err := s.Script()
		if err != nil {
			return nil, bad(f+".content", "not base64: %v", err)
		}
		if len(body) > MaxScriptBytes {
			return nil, bad(f+".content", "%d bytes, Graph's limit is %d", len(body), MaxScriptBytes)
		}
	}
	return list, nil
}

// ResolveScripts finds the scripts a's activeInstallScript and
// activeUninstallScript name (ids match in any case; an install reference
// must name an install script, an uninstall one an uninstall script).
// A reference that names none is left nil: ReviewScripts lists it as
// unsupported, and the command line is what runs.
func (a *Win32LobApp) ResolveScripts(scripts []AppScript) (install, uninstall *AppScript) {
	find := func(ref *ScriptReference, typ string) *AppScript {
		if ref == nil {
			return nil
		}
		for i := range scripts {
			if strings.EqualFold(scripts[i].ID, ref.TargetID) && scripts[i].ODataType == typ {
				s := scripts[i]
				return &s
			}
		}
		return nil
	}
	return find(a.ActiveInstallScript, TypeInstallScript), find(a.ActiveUninstallScript, TypeUninstallScript)
}

// ReviewScripts is Review for an app whose scripts are known: a resolved
// activeInstallScript or activeUninstallScript is not unsupported (the
// agent runs it); one that resolves to nothing stays unsupported, as does
// a script's enforceSignatureCheck, which the agent cannot verify.
func (a *Win32LobApp) ReviewScripts(scripts []AppScript) Review {
	r := a.Review()
	install, uninstall := a.ResolveScripts(scripts)
	for _, s := range []struct {
		name   string
		ref    *ScriptReference
		script *AppScript
	}{{"activeInstallScript", a.ActiveInstallScript, install}, {"activeUninstallScript", a.ActiveUninstallScript, uninstall}} {
		if s.ref == nil || s.script == nil {
			continue
		}
		r.Unsupported = removeEntry(r.Unsupported, s.name+"="+s.ref.TargetID)
		if s.script.EnforceSignatureCheck {
			r.Unsupported = append(r.Unsupported, s.name+".enforceSignatureCheck=true")
		}
		for k := range s.script.Extra {
			if !isAnnotation(k) {
				r.Ignored = append(r.Ignored, s.name+"."+k)
			}
		}
	}
	return r.sorted()
}

func removeEntry(list []string, entry string) []string {
	out := list[:0:0]
	for _, e := range list {
		if e != entry {
			out = append(out, e)
		}
	}
	return out
}
