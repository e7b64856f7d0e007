package imeapi

import (
	"encoding/json"
	"fmt"
	"sort"
)

// MinimumOS is windowsMinimumOperatingSystem: one flag per Windows
// release ("v10_1607": true), and its @odata.type.
type MinimumOS struct {
	ODataType string
	Versions  map[string]bool
}

// UnmarshalJSON reads the flags and the nested @odata.type.
func (m *MinimumOS) UnmarshalJSON(b []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	m.Versions = map[string]bool{}
	for k, raw := range all {
		if isAnnotation(k) {
			if k == "@odata.type" {
				var t string
				if err := json.Unmarshal(raw, &t); err != nil {
					return fmt.Errorf("minimumSupportedOperatingSystem.@odata.type: %w", err)
				}
				m.ODataType = CanonicalType(t)
			}
			continue
		}
		var v *bool
		if err := json.Unmarshal(raw, &v); err != nil {
			return &FieldError{Field: "minimumSupportedOperatingSystem." + k, Err: fmt.Errorf("%w: want true or false", ErrInvalid)}
		}
		m.Versions[k] = v != nil && *v
	}
	return nil
}

// MarshalJSON writes the flags, and the @odata.type when there is one.
func (m MinimumOS) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	for k, v := range m.Versions {
		out[k] = v
	}
	if m.ODataType != "" {
		out["@odata.type"] = m.ODataType
	}
	return json.Marshal(out)
}

// osReleases are the windowsMinimumOperatingSystem flags, oldest first.
var osReleases = []string{"v8_0", "v8_1", "v10_0", "v10_1607", "v10_1703", "v10_1709", "v10_1803", "v10_1809",
	"v10_1903", "v10_1909", "v10_2004", "v10_2H20", "v10_21H1", "v10_21H2", "v10_22H2", "v11_21H2", "v11_22H2", "v11_23H2", "v11_24H2"}

// Minimum is the effective minimum: the oldest release set true (a
// device that runs a newer one meets "this or later"). Flags this package
// does not know count only when no known one is set; "" when none is set.
func (m *MinimumOS) Minimum() string {
	for _, r := range osReleases {
		if m.Versions[r] {
			return r
		}
	}
	if all := m.Minimums(); len(all) > 0 {
		return all[0]
	}
	return ""
}

// Minimums lists the releases set true, sorted.
func (m *MinimumOS) Minimums() []string {
	var out []string
	for k, v := range m.Versions {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// ScriptReference is mobileAppScriptReference: the id of a script object.
type ScriptReference struct {
	ODataType string `json:"@odata.type,omitempty"`
	TargetID  string `json:"targetId"`

	Extra map[string]json.RawMessage `json:"-"`
}

// RestartSettings is win32LobAppRestartSettings (an assignment's restart
// coordination): minutes before a pending restart is forced, the minutes
// before it the countdown shows, and how long the user may snooze it.
type RestartSettings struct {
	ODataType                                  string `json:"@odata.type,omitempty"`
	GracePeriodInMinutes                       int    `json:"gracePeriodInMinutes"`
	CountdownDisplayBeforeRestartInMinutes     int    `json:"countdownDisplayBeforeRestartInMinutes"`
	RestartNotificationSnoozeDurationInMinutes *int   `json:"restartNotificationSnoozeDurationInMinutes,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

func (x *RestartSettings) UnmarshalJSON(b []byte) error {
	type plain RestartSettings
	if err := unmarshalKeeping(b, (*plain)(x), &x.Extra); err != nil {
		return err
	}
	x.ODataType = CanonicalType(x.ODataType)
	return nil
}

func (x RestartSettings) MarshalJSON() ([]byte, error) {
	type plain RestartSettings
	return marshalKeeping(plain(x), x.Extra)
}

// InstallTimeSettings is mobileAppInstallTimeSettings (an assignment's schedule).
type InstallTimeSettings struct {
	ODataType        string  `json:"@odata.type,omitempty"`
	UseLocalTime     bool    `json:"useLocalTime,omitempty"`
	StartDateTime    *string `json:"startDateTime,omitempty"`
	DeadlineDateTime *string `json:"deadlineDateTime,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

// Relationship types of mobileAppRelationship.
const (
	DependencyAutoInstall = "autoInstall"
	DependencyDetect      = "detect"
	SupersedenceUpdate    = "update"
	SupersedenceReplace   = "replace"
	// TargetChild: this app depends on (or supersedes) the target;
	// TargetParent: the target depends on (or supersedes) this app.
	TargetChild  = "child"
	TargetParent = "parent"
)

// Relationship is a mobileAppDependency or a mobileAppSupersedence, told
// apart by ODataType.
type Relationship struct {
	ODataType            string `json:"@odata.type"`
	ID                   string `json:"id,omitempty"`
	TargetID             string `json:"targetId"`
	TargetDisplayName    string `json:"targetDisplayName,omitempty"`
	TargetDisplayVersion string `json:"targetDisplayVersion,omitempty"`
	TargetPublisher      string `json:"targetPublisher,omitempty"`
	TargetType           string `json:"targetType,omitempty"` // child | parent
	// Dependencies.
	DependencyType    string `json:"dependencyType,omitempty"` // autoInstall | detect
	DependentAppCount *int   `json:"dependentAppCount,omitempty"`
	DependsOnAppCount *int   `json:"dependsOnAppCount,omitempty"`
	// Supersedences.
	SupersedenceType    string `json:"supersedenceType,omitempty"` // update | replace
	SupersededAppCount  *int   `json:"supersededAppCount,omitempty"`
	SupersedingAppCount *int   `json:"supersedingAppCount,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

func (x *ScriptReference) UnmarshalJSON(b []byte) error {
	type plain ScriptReference
	if err := unmarshalKeeping(b, (*plain)(x), &x.Extra); err != nil {
		return err
	}
	x.ODataType = CanonicalType(x.ODataType)
	return nil
}

func (x ScriptReference) MarshalJSON() ([]byte, error) {
	type plain ScriptReference
	return marshalKeeping(plain(x), x.Extra)
}

func (x *InstallTimeSettings) UnmarshalJSON(b []byte) error {
	type plain InstallTimeSettings
	if err := unmarshalKeeping(b, (*plain)(x), &x.Extra); err != nil {
		return err
	}
	x.ODataType = CanonicalType(x.ODataType)
	return nil
}

func (x InstallTimeSettings) MarshalJSON() ([]byte, error) {
	type plain InstallTimeSettings
	return marshalKeeping(plain(x), x.Extra)
}

func (x *Relationship) UnmarshalJSON(b []byte) error {
	type plain Relationship
	if err := unmarshalKeeping(b, (*plain)(x), &x.Extra); err != nil {
		return err
	}
	x.ODataType = CanonicalType(x.ODataType)
	return nil
}

func (x Relationship) MarshalJSON() ([]byte, error) {
	type plain Relationship
	return marshalKeeping(plain(x), x.Extra)
}
