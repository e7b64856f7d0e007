package imeapi

import (
	"errors"
	"fmt"
	"strconv"
)

// The IME's and Delivery Optimization's codes, as types. The numeric ones
// marshal as the IME's numbers (1000, not "Success"): scripts read the
// numbers; String gives the name for humans. Valid says whether a value is
// one the IME uses.

// ErrCode: a code outside its type's values (see Valid).
var ErrCode = errors.New("imeapi: unknown code")

// EnforcementState is the IME's EnforcementState of an app.
type EnforcementState int

// IME enforcement states.
const (
	EnforcementSuccess            EnforcementState = 1000
	EnforcementInProgress         EnforcementState = 2000
	EnforcementRequirementsNotMet EnforcementState = 3000
	EnforcementUnknown            EnforcementState = 4000
	EnforcementError              EnforcementState = 5000
	EnforcementNotAttempted       EnforcementState = 6000
)

var enforcementNames = map[EnforcementState]string{
	EnforcementSuccess: "Success", EnforcementInProgress: "InProgress",
	EnforcementRequirementsNotMet: "RequirementsNotMet", EnforcementUnknown: "Unknown",
	EnforcementError: "Error", EnforcementNotAttempted: "NotAttempted",
}

// String is the IME's name ("Success"), or EnforcementState(n).
func (s EnforcementState) String() string { return name(enforcementNames, s, "EnforcementState") }

// Valid reports whether s is one of the six states.
func (s EnforcementState) Valid() bool { _, ok := enforcementNames[s]; return ok }

// ComplianceState is the IME's ComplianceState of an app.
type ComplianceState int

// IME compliance states, and the unset one.
const (
	// ComplianceUnset is the zero value: no ComplianceStateMessage has
	// been recorded (the app's flow has not reached detection's verdict,
	// or was stopped before it). Its name, "Unset", is ours: the IME's
	// Unknown is 5 (ComplianceUnknown), and the name the IME's
	// enumeration gives 0 is not documented.
	ComplianceUnset        ComplianceState = 0
	ComplianceInstalled    ComplianceState = 1
	ComplianceNotInstalled ComplianceState = 2
	ComplianceError        ComplianceState = 4
	ComplianceUnknown      ComplianceState = 5
)

var complianceNames = map[ComplianceState]string{
	ComplianceUnset:     "Unset",
	ComplianceInstalled: "Installed", ComplianceNotInstalled: "NotInstalled",
	ComplianceError: "Error", ComplianceUnknown: "Unknown",
}

// String is the IME's name ("Installed"), "Unset" for 0, or
// ComplianceState(n).
func (c ComplianceState) String() string { return name(complianceNames, c, "ComplianceState") }

// Valid reports whether c is in the IME's range, 0 to ComplianceUnknown.
// The agent reports only the four IME states it names; the service also
// accepts 0 and 3, which the IME's enumeration holds (3's name is not
// documented either, and this package does not name it).
func (c ComplianceState) Valid() bool { return c >= 0 && c <= ComplianceUnknown }

// Intent is the IME's intent of a policy (Graph's assignment intent as a
// number).
type Intent int

// IME intents, as its policies carry them.
const (
	IntentNotTargeted Intent = 0
	IntentAvailable   Intent = 1
	IntentRequired    Intent = 3
	IntentUninstall   Intent = 4
)

var intentNames = map[Intent]string{
	IntentNotTargeted: "notTargeted", IntentAvailable: "available",
	IntentRequired: "required", IntentUninstall: "uninstall",
}

// String is Graph's spelling ("required"); anything unknown is
// "notTargeted", as the agent treats it.
func (i Intent) String() string {
	if n, ok := intentNames[i]; ok {
		return n
	}
	return intentNames[IntentNotTargeted]
}

// Valid reports whether i is one of the four intents.
func (i Intent) Valid() bool { _, ok := intentNames[i]; return ok }

// DownloadMode is Delivery Optimization's download mode (DODownloadMode).
type DownloadMode int

// Delivery Optimization download modes.
const (
	ModeHTTPOnly DownloadMode = 0   // HTTP with cloud metadata, no peers
	ModeLAN      DownloadMode = 1   // peers on the same LAN (the default)
	ModeGroup    DownloadMode = 2   // LAN and peers with the same GroupID
	ModeInternet DownloadMode = 3   // LAN, Group and Internet peers
	ModeSimple   DownloadMode = 99  // HTTP only, no cloud service at all
	ModeBypass   DownloadMode = 100 // plain download: no peers, no cache host
)

var modeNames = map[DownloadMode]string{
	ModeHTTPOnly: "HttpOnly", ModeLAN: "LAN", ModeGroup: "Group",
	ModeInternet: "Internet", ModeSimple: "Simple", ModeBypass: "Bypass",
}

// String is DO's name ("LAN"), or DownloadMode(n).
func (m DownloadMode) String() string { return name(modeNames, m, "DownloadMode") }

// Valid reports whether m is one of 0, 1, 2, 3, 99 and 100.
func (m DownloadMode) Valid() bool { _, ok := modeNames[m]; return ok }

// Check returns nil for a valid mode, else an error wrapping ErrCode that
// lists the valid ones.
func (m DownloadMode) Check() error {
	if m.Valid() {
		return nil
	}
	return fmt.Errorf("%w: download mode %d (want 0, 1, 2, 3, 99 or 100)", ErrCode, int(m))
}

// ParseDownloadMode reads a mode as its number ("0") and checks it.
func ParseDownloadMode(s string) (DownloadMode, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%w: download mode %q is not a number (want 0, 1, 2, 3, 99 or 100)", ErrCode, s)
	}
	m := DownloadMode(n)
	return m, m.Check()
}

// DOStatus is the Status of a Get-DeliveryOptimizationStatus record.
type DOStatus string

// Delivery Optimization file states.
const (
	DOCaching  DOStatus = "Caching"
	DOComplete DOStatus = "Complete"
	DOPaused   DOStatus = "Paused"
	DOError    DOStatus = "Error"
)

// String is the status as DO spells it.
func (s DOStatus) String() string { return string(s) }

// Valid reports whether s is one of the four states.
func (s DOStatus) Valid() bool {
	switch s {
	case DOCaching, DOComplete, DOPaused, DOError:
		return true
	}
	return false
}

// ReturnCodeType is a win32LobAppReturnCode's type: what an installer's
// exit code means.
type ReturnCodeType string

// Return code types of the Graph schema.
const (
	ReturnSuccess    ReturnCodeType = "success"
	ReturnSoftReboot ReturnCodeType = "softReboot"
	ReturnHardReboot ReturnCodeType = "hardReboot"
	ReturnRetry      ReturnCodeType = "retry"
	ReturnFailed     ReturnCodeType = "failed"
)

// String is the type as Graph spells it.
func (t ReturnCodeType) String() string { return string(t) }

// Valid reports whether t is one of the five types.
func (t ReturnCodeType) Valid() bool {
	switch t {
	case ReturnSuccess, ReturnSoftReboot, ReturnHardReboot, ReturnRetry, ReturnFailed:
		return true
	}
	return false
}

func name[T ~int](names map[T]string, v T, typ string) string {
	if n, ok := names[v]; ok {
		return n
	}
	return typ + "(" + strconv.Itoa(int(v)) + ")"
}
