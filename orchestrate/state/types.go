package state

import (
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// DeviceUser is the user id the IME uses for device (system) context.
const DeviceUser = "00000000-0000-0000-0000-000000000000"

// ComplianceStateMessage is the IME's ComplianceStateMessage value.
type ComplianceStateMessage struct {
	Applicability       int                    `json:"Applicability"` // 0 applicable, 1 requirements not met
	ComplianceState     imeapi.ComplianceState `json:"ComplianceState"`
	DesiredState        int                    `json:"DesiredState"` // 2 present, 1 absent
	ErrorCode           int64                  `json:"ErrorCode"`
	TargetingMethod     int                    `json:"TargetingMethod"` // 0 assigned
	InstallContext      int                    `json:"InstallContext"`  // 1 user, 2 system
	TargetType          int                    `json:"TargetType"`      // 1 user, 2 device
	ProductVersion      *string                `json:"ProductVersion"`
	AssignmentFilterIds []string               `json:"AssignmentFilterIds"`
}

// EnforcementStateMessage is the IME's EnforcementStateMessage value.
type EnforcementStateMessage struct {
	EnforcementState imeapi.EnforcementState `json:"EnforcementState"`
	ErrorCode        int64                   `json:"ErrorCode"`
	TargetingMethod  int                     `json:"TargetingMethod"`
	ErrorMessage     string                  `json:"ErrorMessage,omitempty"` // ours: a readable reason
}

// Attempts counts enforcement attempts of one app revision.
type Attempts struct {
	Count int `json:"Count"` // failed attempts since the last success or GRS expiry
	// Runs counts installer starts (BeginInstall), kept across a success;
	// a run re-adopted after an agent restart is not counted again.
	Runs      int       `json:"Runs,omitempty"`
	Last      time.Time `json:"Last"`
	LastError string    `json:"LastError,omitempty"`
}

// Policy is what the agent last knew of an app revision.
type Policy struct {
	AppID       string        `json:"AppId"`
	Version     string        `json:"Version"`
	DisplayName string        `json:"DisplayName"`
	Intent      imeapi.Intent `json:"Intent"`
	// RebootPending is set by a soft or hard reboot return code
	// ("softReboot", "hardReboot"), or "force" by deviceRestartBehavior
	// force after a successful run. The agent never restarts the device.
	RebootPending string `json:"RebootPending,omitempty"`
	// Notifications (showAll, showReboot, hideAll), DeviceRestartBehavior
	// and RestartSettings are the policy's (its winning assignment's and
	// the app's installExperience); AllowAvailableUninstall the app's
	// (nil: not set). Recorded as the IME keeps them; nothing is shown.
	Notifications           string                  `json:"Notifications,omitempty"`
	DeviceRestartBehavior   string                  `json:"DeviceRestartBehavior,omitempty"`
	RestartSettings         *imeapi.RestartSettings `json:"RestartSettings,omitempty"`
	AllowAvailableUninstall *bool                   `json:"AllowAvailableUninstall,omitempty"`
	UpdatedAt               time.Time               `json:"UpdatedAt"`
}

// App is everything stored for one app revision.
type App struct {
	User        string                   `json:"User"`
	Key         string                   `json:"Key"` // <appId>_<rev>
	Policy      *Policy                  `json:"Policy,omitempty"`
	Compliance  *ComplianceStateMessage  `json:"ComplianceStateMessage,omitempty"`
	Enforcement *EnforcementStateMessage `json:"EnforcementStateMessage,omitempty"`
	Attempts    Attempts                 `json:"Attempts"`
	// GRS is when the app entered GRS (zero: not in GRS).
	GRS time.Time `json:"GRS"`
	// Report is the last report and whether it was delivered.
	Report *ReportRecord `json:"Report,omitempty"`
}

// ReportRecord is a report as kept under Reporting.
type ReportRecord struct {
	Body   []byte    `json:"Body"` // the JSON report
	At     time.Time `json:"At"`
	Sent   bool      `json:"Sent"`
	SentAt time.Time `json:"SentAt"`
}

// Identity is the enrolled device.
type Identity struct {
	ServiceURL string `json:"ServiceURL"`
	DeviceID   string `json:"DeviceID"`
	DeviceName string `json:"DeviceName"`
	Token      string `json:"Token"`
	PrivateKey []byte `json:"PrivateKey"` // X25519
}

// Persisted is content kept for source resiliency.
type Persisted struct {
	Key      string    `json:"Key"` // <appId>_<rev>
	Path     string    `json:"Path"`
	Size     int64     `json:"Size"`
	LastUsed time.Time `json:"LastUsed"`
	// Files is the kept folder's manifest, written when it was kept and
	// checked before every reuse; a record without one is never reused.
	Files []KeptFile `json:"Files,omitempty"`
}

// KeptFile is one entry of kept content's manifest: a folder, or a
// regular file with its size and SHA-256 (hex).
type KeptFile struct {
	Path   string `json:"Path"` // slash-separated, relative to the kept folder
	Dir    bool   `json:"Dir,omitempty"`
	Size   int64  `json:"Size,omitempty"`
	SHA256 string `json:"SHA256,omitempty"`
}
