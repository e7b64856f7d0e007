package imeapi

import "encoding/json"

// The Microsoft Graph objects an app.json holds, as Graph returns them
// (GET deviceAppManagement/mobileApps/{id}?$expand=assignments), plus our
// id and version. Fields this package does not model are kept in Extra and
// written back unchanged, so a policy carries the whole object; Review
// lists them (ignored) and the modelled settings nothing implements yet
// (unsupported).
//
// Decoding reads Graph the way Graph writes it (odata.go): @odata.type
// with or without "#" and in any case of its "microsoft.graph." prefix
// (kept in canonical form), a {"value": …} wrapper around the app,
// Int64 fields as IEEE754Compatible strings, committedContentVersion as
// the version when version is absent, and a product-code rule in rules[]
// without ruleType as the detection rule it can only be.

// Graph @odata.type values this package understands.
const (
	TypeWin32LobApp    = "#microsoft.graph.win32LobApp"
	TypeAssignment     = "#microsoft.graph.mobileAppAssignment"
	TypeAllDevices     = "#microsoft.graph.allDevicesAssignmentTarget"
	TypeAllUsers       = "#microsoft.graph.allLicensedUsersAssignmentTarget"
	TypeGroup          = "#microsoft.graph.groupAssignmentTarget"
	TypeExclusionGroup = "#microsoft.graph.exclusionGroupAssignmentTarget"
	TypeSettings       = "#microsoft.graph.win32LobAppAssignmentSettings"

	// Graph relationships[] of an app (beta).
	TypeDependency   = "#microsoft.graph.mobileAppDependency"
	TypeSupersedence = "#microsoft.graph.mobileAppSupersedence"

	// Nested objects.
	TypeInstallExperience = "#microsoft.graph.win32LobAppInstallExperience"
	TypeReturnCode        = "#microsoft.graph.win32LobAppReturnCode"
	TypeMsiInformation    = "#microsoft.graph.win32LobAppMsiInformation"
	TypeMinimumOS         = "#microsoft.graph.windowsMinimumOperatingSystem"
	TypeInstallTime       = "#microsoft.graph.mobileAppInstallTimeSettings"
	TypeRestartSettings   = "#microsoft.graph.win32LobAppRestartSettings"
	TypeScriptReference   = "#microsoft.graph.mobileAppScriptReference"

	// v1.0 rules (rules[], each with ruleType detection or requirement).
	TypeFileSystemRule  = "#microsoft.graph.win32LobAppFileSystemRule"
	TypeRegistryRule    = "#microsoft.graph.win32LobAppRegistryRule"
	TypeProductCodeRule = "#microsoft.graph.win32LobAppProductCodeRule"
	TypeScriptRule      = "#microsoft.graph.win32LobAppPowerShellScriptRule"

	// Legacy detectionRules[].
	TypeFileSystemDetection  = "#microsoft.graph.win32LobAppFileSystemDetection"
	TypeRegistryDetection    = "#microsoft.graph.win32LobAppRegistryDetection"
	TypeProductCodeDetection = "#microsoft.graph.win32LobAppProductCodeDetection"
	TypeScriptDetection      = "#microsoft.graph.win32LobAppPowerShellScriptDetection"

	// Legacy requirementRules[].
	TypeFileSystemRequirement = "#microsoft.graph.win32LobAppFileSystemRequirement"
	TypeRegistryRequirement   = "#microsoft.graph.win32LobAppRegistryRequirement"
	TypeScriptRequirement     = "#microsoft.graph.win32LobAppPowerShellScriptRequirement"
)

// Win32LobApp is a Graph win32LobApp with our id, version and assignments.
type Win32LobApp struct {
	ODataType string `json:"@odata.type,omitempty"`
	// ID is the app's GUID; Version is its content version (Intune's
	// committedContentVersion), free-form [A-Za-z0-9._-].
	ID      string `json:"id"`
	Version string `json:"version"`
	// CommittedContentVersion is Graph's; a GET has it and no version.
	CommittedContentVersion string `json:"committedContentVersion,omitempty"`

	DisplayName          string `json:"displayName"`
	Description          string `json:"description,omitempty"`
	Publisher            string `json:"publisher,omitempty"`
	DisplayVersion       string `json:"displayVersion,omitempty"`
	FileName             string `json:"fileName,omitempty"`
	Size                 Int64  `json:"size,omitempty"`
	SetupFilePath        string `json:"setupFilePath,omitempty"`
	InstallCommandLine   string `json:"installCommandLine"`
	UninstallCommandLine string `json:"uninstallCommandLine"`

	InstallExperience *InstallExperience `json:"installExperience,omitempty"`
	ReturnCodes       []ReturnCode       `json:"returnCodes,omitempty"`

	// Rules is the v1.0 form; DetectionRules and RequirementRules the
	// older (beta) form. Either or both may be present.
	Rules            []Rule `json:"rules,omitempty"`
	DetectionRules   []Rule `json:"detectionRules,omitempty"`
	RequirementRules []Rule `json:"requirementRules,omitempty"`

	// ApplicableArchitectures: comma-separated x86, x64, arm, arm64, neutral, none.
	ApplicableArchitectures         string          `json:"applicableArchitectures,omitempty"`
	AllowedArchitectures            string          `json:"allowedArchitectures,omitempty"`
	MinimumFreeDiskSpaceInMB        *int            `json:"minimumFreeDiskSpaceInMB,omitempty"`
	MinimumMemoryInMB               *int            `json:"minimumMemoryInMB,omitempty"`
	MinimumNumberOfProcessors       *int            `json:"minimumNumberOfProcessors,omitempty"`
	MinimumCpuSpeedInMHz            *int            `json:"minimumCpuSpeedInMHz,omitempty"`
	MinimumSupportedWindowsRelease  string          `json:"minimumSupportedWindowsRelease,omitempty"`
	MinimumSupportedOperatingSystem *MinimumOS      `json:"minimumSupportedOperatingSystem,omitempty"`
	MsiInformation                  *MsiInformation `json:"msiInformation,omitempty"`

	// AllowAvailableUninstall (beta) says whether a user may uninstall
	// an available app (the Company Portal's Uninstall): false refuses the
	// agent's on-demand uninstall. Absent (v1.0 has no such property)
	// allows it, as before the property existed.
	AllowAvailableUninstall *bool `json:"allowAvailableUninstall,omitempty"`
	// ActiveInstallScript and ActiveUninstallScript (beta) name the
	// scripts that replace the command lines (script.go).
	ActiveInstallScript   *ScriptReference `json:"activeInstallScript,omitempty"`
	ActiveUninstallScript *ScriptReference `json:"activeUninstallScript,omitempty"`
	// Relationships are the app's dependencies and supersedences (Graph
	// beta, $expand=relationships); the agent processes those naming
	// their target as child (dependencies first, then supersedence).
	Relationships []Relationship `json:"relationships,omitempty"`

	Assignments []Assignment `json:"assignments,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
	// assignedFrom is the folder AssignID derived ID from ("": the body had one).
	assignedFrom string
}

// InstallExperience is win32LobAppInstallExperience.
type InstallExperience struct {
	RunAsAccount          string `json:"runAsAccount,omitempty"`          // system | user
	DeviceRestartBehavior string `json:"deviceRestartBehavior,omitempty"` // basedOnReturnCode | allow | suppress | force
	MaxRunTimeInMinutes   int    `json:"maxRunTimeInMinutes,omitempty"`   // default 60

	Extra map[string]json.RawMessage `json:"-"`
}

// ReturnCode is win32LobAppReturnCode.
type ReturnCode struct {
	ReturnCode int            `json:"returnCode"`
	Type       ReturnCodeType `json:"type"`

	Extra map[string]json.RawMessage `json:"-"`
}

// Rule is any of the win32LobApp rule, detection and requirement types: a
// union of their fields, told apart by ODataType.
type Rule struct {
	ODataType string `json:"@odata.type"`
	RuleType  string `json:"ruleType,omitempty"` // v1.0 rules: detection | requirement

	// File system rules.
	Path             string `json:"path,omitempty"`
	FileOrFolderName string `json:"fileOrFolderName,omitempty"`
	// File system and registry rules.
	Check32BitOn64System bool `json:"check32BitOn64System,omitempty"`
	// Registry rules.
	KeyPath   string `json:"keyPath,omitempty"`
	ValueName string `json:"valueName,omitempty"`
	// Product code (MSI) rules.
	ProductCode            string `json:"productCode,omitempty"`
	ProductVersionOperator string `json:"productVersionOperator,omitempty"`
	ProductVersion         string `json:"productVersion,omitempty"`
	// PowerShell script rules; ScriptContent is base64.
	DisplayName           string `json:"displayName,omitempty"`
	EnforceSignatureCheck bool   `json:"enforceSignatureCheck,omitempty"`
	RunAs32Bit            bool   `json:"runAs32Bit,omitempty"`
	RunAsAccount          string `json:"runAsAccount,omitempty"`
	ScriptContent         string `json:"scriptContent,omitempty"`

	// Comparison, v1.0 rules.
	OperationType   string `json:"operationType,omitempty"`
	Operator        string `json:"operator,omitempty"`
	ComparisonValue string `json:"comparisonValue,omitempty"`
	// Comparison, legacy detection and requirement rules.
	DetectionType  string `json:"detectionType,omitempty"`
	DetectionValue string `json:"detectionValue,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

// MsiInformation is win32LobAppMsiInformation.
type MsiInformation struct {
	ProductCode    string `json:"productCode,omitempty"`
	ProductVersion string `json:"productVersion,omitempty"`
	UpgradeCode    string `json:"upgradeCode,omitempty"`
	RequiresReboot bool   `json:"requiresReboot,omitempty"`
	PackageType    string `json:"packageType,omitempty"`
	ProductName    string `json:"productName,omitempty"`
	Publisher      string `json:"publisher,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

// Assignment is a Graph mobileAppAssignment.
type Assignment struct {
	ODataType string              `json:"@odata.type,omitempty"`
	ID        string              `json:"id,omitempty"`
	Intent    string              `json:"intent"` // available | required | uninstall | availableWithoutEnrollment
	Target    AssignmentTarget    `json:"target"`
	Settings  *AssignmentSettings `json:"settings,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

// AssignmentTarget is a Graph deviceAndAppManagementAssignmentTarget.
type AssignmentTarget struct {
	ODataType string `json:"@odata.type"`
	GroupID   string `json:"groupId,omitempty"` // group and exclusion-group targets
	// FilterID names a deviceAndAppManagementAssignmentFilter (filters.json);
	// FilterType says whether a device must match it (include) or not
	// (exclude); none or empty: no filter.
	FilterID   string `json:"deviceAndAppManagementAssignmentFilterId,omitempty"`
	FilterType string `json:"deviceAndAppManagementAssignmentFilterType,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

// AssignmentSettings is win32LobAppAssignmentSettings (the parts the agent uses).
type AssignmentSettings struct {
	ODataType                    string `json:"@odata.type,omitempty"`
	Notifications                string `json:"notifications,omitempty"`                // showAll | showReboot | hideAll
	DeliveryOptimizationPriority string `json:"deliveryOptimizationPriority,omitempty"` // notConfigured | foreground
	// RestartSettings coordinate a restart after the install
	// (Policy.RestartSettings); the agent records and logs them.
	RestartSettings *RestartSettings `json:"restartSettings,omitempty"`
	// InstallTimeSettings schedules a required app (Policy.InstallTimeSettings).
	InstallTimeSettings *InstallTimeSettings `json:"installTimeSettings,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

// Each modelled type keeps unknown fields through an alias without methods.

func (a *Win32LobApp) UnmarshalJSON(b []byte) error {
	type plain Win32LobApp
	b, err := unwrapValue(b)
	if err != nil {
		return err
	}
	if err := unmarshalKeeping(b, (*plain)(a), &a.Extra); err != nil {
		return err
	}
	a.normalize()
	return nil
}

func (a Win32LobApp) MarshalJSON() ([]byte, error) {
	type plain Win32LobApp
	return marshalKeeping(plain(a), a.Extra)
}

func (x *InstallExperience) UnmarshalJSON(b []byte) error {
	type plain InstallExperience
	return unmarshalKeeping(b, (*plain)(x), &x.Extra)
}

func (x InstallExperience) MarshalJSON() ([]byte, error) {
	type plain InstallExperience
	return marshalKeeping(plain(x), x.Extra)
}

func (x *ReturnCode) UnmarshalJSON(b []byte) error {
	type plain ReturnCode
	return unmarshalKeeping(b, (*plain)(x), &x.Extra)
}

func (x ReturnCode) MarshalJSON() ([]byte, error) {
	type plain ReturnCode
	return marshalKeeping(plain(x), x.Extra)
}

func (x *Rule) UnmarshalJSON(b []byte) error {
	type plain Rule
	if err := unmarshalKeeping(b, (*plain)(x), &x.Extra); err != nil {
		return err
	}
	x.ODataType = CanonicalType(x.ODataType)
	return nil
}

func (x Rule) MarshalJSON() ([]byte, error) {
	type plain Rule
	return marshalKeeping(plain(x), x.Extra)
}

func (x *MsiInformation) UnmarshalJSON(b []byte) error {
	type plain MsiInformation
	return unmarshalKeeping(b, (*plain)(x), &x.Extra)
}

func (x MsiInformation) MarshalJSON() ([]byte, error) {
	type plain MsiInformation
	return marshalKeeping(plain(x), x.Extra)
}

func (x *Assignment) UnmarshalJSON(b []byte) error {
	type plain Assignment
	if err := unmarshalKeeping(b, (*plain)(x), &x.Extra); err != nil {
		return err
	}
	x.ODataType = CanonicalType(x.ODataType)
	return nil
}

func (x Assignment) MarshalJSON() ([]byte, error) {
	type plain Assignment
	return marshalKeeping(plain(x), x.Extra)
}

func (x *AssignmentTarget) UnmarshalJSON(b []byte) error {
	type plain AssignmentTarget
	if err := unmarshalKeeping(b, (*plain)(x), &x.Extra); err != nil {
		return err
	}
	x.ODataType = CanonicalType(x.ODataType)
	return nil
}

func (x AssignmentTarget) MarshalJSON() ([]byte, error) {
	type plain AssignmentTarget
	return marshalKeeping(plain(x), x.Extra)
}

func (x *AssignmentSettings) UnmarshalJSON(b []byte) error {
	type plain AssignmentSettings
	if err := unmarshalKeeping(b, (*plain)(x), &x.Extra); err != nil {
		return err
	}
	x.ODataType = CanonicalType(x.ODataType)
	return nil
}

func (x AssignmentSettings) MarshalJSON() ([]byte, error) {
	type plain AssignmentSettings
	return marshalKeeping(plain(x), x.Extra)
}
