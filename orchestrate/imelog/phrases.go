package imelog

import "github.com/imepipe/imepipe/orchestrate/cmtrace"

// The phrase table: every line the agent logs. Phrases quoted from the
// IME's own log keep its wording to the character (the community
// analyzers match their prefixes: "application poller starts.",
// "Get policies = ", "Response from Intune = {", "[StatusService]
// Downloading app (id = ", "lpExitCode is defined as", …); phrases about
// what only imepipe does (peering, persisted content, recovery of an
// installer run, schedules) are ours, in the same style. Types: 1
// information, 2 warning (and the IME's type-2 banner lines), 3 error.
//
// Thread convention (orchestrate): the agent's own lines on thread 1;
// one thread per application poller, which also carries the processing
// of every app of that poller (the analyzers rebuild a poller from its
// thread); DO progress ([StatusService]) on a thread of its own, as the
// IME's DO callbacks are; AgentExecutor.log lines on the thread of the
// flow that ran the script.

const (
	info = cmtrace.Info
	warn = cmtrace.Warning
	fail = cmtrace.Error
)

// The agent's life (thread 1).
var (
	EMSAgentStarted   = def("EMSAgentStarted", info, "EMS Agent Started")
	EMSAgentStopped   = def("EMSAgentStopped", info, "EMS Agent Stopped")
	AgentSettings     = def("AgentSettings", info, "[Win32App] imepipe agent on %s: sync every %v, retry after %v, %d attempts, GRS %v")
	Enrolled          = def("Enrolled", info, "[Win32App] Enrolled with %s as device %s")
	SyncFailed        = def("SyncFailed", fail, "[Win32App] Sync failed: %v")
	HealthWriteFailed = def("HealthWriteFailed", warn, "[Win32App] Cannot write %s: %v")
	GRSReset          = def("GRSReset", info, "[Win32App] GRS and state of app %s reset by an administrator (%d entries removed)")
)

// The application poller and its user session.
var (
	PollerStart          = def("PollerStart", warn, "[Win32App] ----------------------------------------------------- application poller starts. ----------------------------------------------------- ")
	PollerStop           = def("PollerStop", warn, "[Win32App] ----------------------------------------------------- application poller stopped. ----------------------------------------------------- ")
	ActiveUserSessions   = def("ActiveUserSessions", info, "[Win32App] Got %d active user sessions")
	UserSessionStart     = def("UserSessionStart", warn, "[Win32App] ..................... Processing user session %d, userId: %s, userSID: %s ..................... ")
	UserSessionDone      = def("UserSessionDone", warn, "[Win32App] ..................... Completed user session %d, userId: %s, userSID: %s ..................... ")
	ComgtWorkload        = def("ComgtWorkload", info, "Comgt app workload status %s")
	EspPhase             = def("EspPhase", warn, "[Win32App] The EspPhase: %s.")
	RequestingApps       = def("RequestingApps", warn, "[Win32App] Requesting %s apps")
	ComplianceOnly       = def("ComplianceOnly", info, "[Win32App] Compliance check: every app is detected and reported, none is enforced")
	GetPolicies          = def("GetPolicies", info, "Get policies = %s")
	GotApps              = def("GotApps", info, "[Win32App] Got %d Win32App(s) for user %s in session %d")
	ProcessingSubgraphs  = def("ProcessingSubgraphs", info, "[Win32App][V3Processor] Processing %d subgraphs.")
	DoneSubgraphs        = def("DoneSubgraphs", info, "[Win32App][V3Processor] Done processing %d subgraphs.")
	SupersededDetectOnly = def("SupersededDetectOnly", info, "[Win32App] App %s is superseded by app %s, which is assigned; not installing it again (detection only)")
)

// A poller that ends early: the policies could not be had (enrollment or
// the policy request failed: the IME's "Failed to get policies"; the
// reason is ours), or the agent was asked to stop (an operator's stop is
// a warning, not an error).
var (
	PoliciesFailed  = def("PoliciesFailed", fail, "[Win32App] Failed to get policies: %v")
	SyncInterrupted = def("SyncInterrupted", warn, "[Win32App] Stopping the app processing (%v): apps not finished are processed again at the next sync, and their downloads resume where they stopped")
	DownloadPaused  = def("DownloadPaused", warn, "[Win32App] Download of app %s stopped at %d of %d bytes (%v); it resumes at the next sync")
)

// One subgraph (an app with its dependencies), GRS and the action.
var (
	SubgraphStart         = def("SubgraphStart", info, "[Win32App][V3Processor] Processing subgraph with app ids: %s")
	SubgraphDone          = def("SubgraphDone", info, "[Win32App][V3Processor] Done processing subgraph.")
	SubgraphNotApplicable = def("SubgraphNotApplicable", info, "[Win32App][V3Processor] All apps in the subgraph are not applicable due to failed requirement rules.")
	ReportingStateNew     = def("ReportingStateNew", info, "[Win32App][ReportingManager] App with id: %s and prior AppAuthority: V3 could not be loaded from store. Reporting state initialized with initial values. ReportingState: %s")
	ReportingStateLoaded  = def("ReportingStateLoaded", info, "[Win32App][ReportingManager] App with id: %s and prior AppAuthority: V3 has been loaded and reporting state initialized. ReportingState: %s")
	GRSNone               = def("GRSNone", info, "[Win32App][GRSManager] App with id: %s has no recorded GRS value which will be treated as expired. | Hash = %s")
	GRSFound              = def("GRSFound", info, "[Win32App][GRSManager] Found GRS value: %s at key %s\\GRS\\%s\\%s.")
	GRSExpired            = def("GRSExpired", info, "[Win32App][GRSManager] App with id: %s is expired. | Hash = %s")
	GRSNotExpired         = def("GRSNotExpired", info, "[Win32App][GRSManager] App with id: %s is not expired. | Hash = %s")
	GRSEnforcedAnyway     = def("GRSEnforcedAnyway", info, "[Win32App][GRSManager] App with id: %s is not expired but will be enforced due to targeting intent on the subgraph. | Hash = %s")
	GRSWaiting            = def("GRSWaiting", info, "[Win32App] App %s is in GRS since %s (after %d failed attempts); next re-evaluation at %s")
	RetryNotYet           = def("RetryNotYet", info, "[Win32App] App %s failed attempt %d of %d; next retry not before %s")
	AttemptCounted        = def("AttemptCounted", info, "[Win32App] Attempt %d of app %s is already counted")
	EnteringGRS           = def("EnteringGRS", warn, "[Win32App] App %s failed %d of %d attempts; entering GRS until %s")
	AttemptFailed         = def("AttemptFailed", warn, "[Win32App] App %s failed attempt %d of %d; retry after %s")
	FoundIntent           = def("FoundIntent", info, "[Win32App][ActionProcessor] Found: %d apps with intent to %s: [%s].")
	NoActionRequired      = def("NoActionRequired", info, "[Win32App][ActionProcessor] No action required for app with id: %s.")
	ProcessingApp         = def("ProcessingApp", info, "[Win32App] Processing app (id=%s, name = %s) with mode = %s")
	PolicyUndecodable     = def("PolicyUndecodable", fail, "[Win32App] Policy of app %s does not decode: %v")
	PolicyRefused         = def("PolicyRefused", fail, "[Win32App] Refusing the policy of app %s version %s: %v")
	RefusedReportNotSent  = def("RefusedReportNotSent", warn, "[StatusService] Report of refused app %s not sent: %v")
	AlreadyProcessing     = def("AlreadyProcessing", warn, "[Win32App] App %s is already being processed in this agent; not starting another flow for it")
	DependencyCycle       = def("DependencyCycle", fail, "[Win32App] App %s: the dependency graph has a cycle (%s); the app is not processed")
	AlreadyDetected       = def("AlreadyDetected", info, "[Win32App] App %s is already detected; nothing to install")
	NothingToUninstall    = def("NothingToUninstall", info, "[Win32App] App %s is not detected; nothing to uninstall")
	ScheduleInvalid       = def("ScheduleInvalid", warn, "[Win32App] App %s: installTimeSettings: %v; enforcing now")
	ScheduleNotStarted    = def("ScheduleNotStarted", info, "[Win32App] App %s: start time %s (%s) has not been reached (now %s); the app is not available yet, not attempted")
	ScheduleBeforeDue     = def("ScheduleBeforeDue", info, "[Win32App] App %s: deadline %s (%s) has not been reached (now %s); the app is available, not enforced yet")
	ScheduleDeadline      = def("ScheduleDeadline", info, "[Win32App] App %s: deadline %s (%s) has been reached; enforcing")
	ScheduleStarted       = def("ScheduleStarted", info, "[Win32App] App %s: start time %s (%s) has been reached; enforcing")
)

// Detection and applicability.
var (
	DetectionStep        = def("DetectionStep", info, "[Win32App] ===Step=== Detection rules")
	DetectionRule        = def("DetectionRule", info, "[Win32App] Detection rule %d (%s): %s")
	DetectionManager     = def("DetectionManager", info, "[Win32App] Completed detectionManager %s, applicationDetectedByCurrentRule: %s")
	ApplicationDetected  = def("ApplicationDetected", info, "[Win32App] ApplicationDetected: %s")
	DetectionResult      = def("DetectionResult", info, "[Win32App][DetectionActionHandler] Detection for policy with id: %s resulted in action status: %s and detection state: %s.")
	DetectionReport      = def("DetectionReport", info, "[Win32App][ReportingManager] Detection state for app with id: %s has been updated. Report delta: %s")
	ApplicabilityStep    = def("ApplicabilityStep", info, "[Win32App] ===Step=== Check applicability")
	RequirementStep      = def("RequirementStep", info, "[Win32App] ===Step=== Check Extended requirement rules")
	RequirementRule      = def("RequirementRule", info, "[Win32App] Requirement rule %d (%s): %s")
	RequirementUnknown   = def("RequirementUnknown", warn, "[Win32App] %s unknown on this host; requirement of %d not enforced")
	OSReleaseUnknown     = def("OSReleaseUnknown", warn, "[Win32App] OS requirement %s names a release this agent does not know; not checked")
	OSVersionMet         = def("OSVersionMet", info, "[Win32App] OS version %s (build %d) meets the minimum %s (build %d)")
	RequirementsNotMet   = def("RequirementsNotMet", warn, "[Win32App] Requirements not met for app %s: %s")
	RequirementMet       = def("RequirementMet", info, "[Win32App] applicationRequirementCheck: Met")
	ApplicabilityResult  = def("ApplicabilityResult", info, "[Win32App][ApplicabilityActionHandler] Applicability check for policy with id: %s resulted in action status: %s and applicability state: %s.")
	ApplicabilityReport  = def("ApplicabilityReport", info, "[Win32App][ReportingManager] Applicability state for app with id: %s has been updated. Report delta: %s")
	PostDetectionStep    = def("PostDetectionStep", info, "[Win32App] ===Step=== Detection rules after Execution")
	NotDetectedAfter     = def("NotDetectedAfter", fail, "[Win32App] Installer succeeded but the app is not detected: 0x87D1041C")
	StillDetectedAfter   = def("StillDetectedAfter", fail, "[Win32App] Uninstaller succeeded but the app is still detected")
	StepFailed           = def("StepFailed", fail, "[Win32App] %v")
	DependencyStep       = def("DependencyStep", info, "[Win32App] ===Step=== Dependencies: app %s has %d dependent app(s)")
	DependencyMissing    = def("DependencyMissing", fail, "[Win32App] Dependency app %s of app %s is not available to this device")
	DependencyDetected   = def("DependencyDetected", info, "[Win32App] Dependency app %s (%s) is detected; dependency (%s) met")
	DependencyNotMet     = def("DependencyNotMet", fail, "[Win32App] Dependency app %s (%s) is not detected and its dependency type is detect; app %s will not be installed")
	DependencyInstalling = def("DependencyInstalling", info, "[Win32App] Dependency app %s (%s) is not detected; dependency type autoInstall: installing it before app %s")
	DependencyFailed     = def("DependencyFailed", fail, "[Win32App] Dependency app %s (%s) failed to install; app %s will not be installed")
	DependencyInstalled  = def("DependencyInstalled", info, "[Win32App] Dependency app %s (%s) installed; dependency met")
	SupersededMissing    = def("SupersededMissing", warn, "[Win32App] Superseded app %s of app %s is not available to this device; not uninstalled")
	SupersedesUpdate     = def("SupersedesUpdate", info, "[Win32App] App %s supersedes app %s (%s) with update: installing over it")
	SupersedesReplace    = def("SupersedesReplace", info, "[Win32App] App %s supersedes app %s (%s) with replace: uninstalling the superseded app first")
	SupersededStill      = def("SupersededStill", fail, "[Win32App] Superseded app %s is still installed; app %s will not be installed")
	SupersededGone       = def("SupersededGone", info, "[Win32App] Superseded app %s (%s) uninstalled and no longer detected")
)

// Content: content info, DO download, hash validation, decryption, unzip.
var (
	ContentInfoStep     = def("ContentInfoStep", info, "[Win32App] ===Step=== Get content info")
	ResponseFromIntune  = def("ResponseFromIntune", info, "Response from Intune = {\n%s\n}")
	ContentCacheFound   = def("ContentCacheFound", info, "[Win32App] Content cache found for app id %s, verifying it before use")
	ContentCacheBad     = def("ContentCacheBad", warn, "[Win32App] Cached content for app id %s does not verify (%v); discarding it and downloading again")
	ContentCacheOK      = def("ContentCacheOK", info, "[Win32App] Cached content verified (size and SHA-256), skip downloading")
	DownloadStep        = def("DownloadStep", info, "[Win32App] ===Step=== Download")
	DownloadingApp      = def("DownloadingApp", info, "[Win32App] Downloading app on session %d. App: %s")
	DownloadTypeURL     = def("DownloadTypeURL", info, "[Win32App] DownloadType = %d, DownloadUrl = %s")
	DOWaiting           = def("DOWaiting", info, "Waiting %d ms for 1 jobs to complete")
	DOProgress          = def("DOProgress", info, "[StatusService] Downloading app (id = %s, name %s) via %s, bytes %d/%d for user %s")
	DONotified          = def("DONotified", info, "Notified DO Service the job is complete.")
	DOFromCache         = def("DOFromCache", info, "[Win32App] DO found the content complete in its cache (%d bytes); nothing downloaded")
	DOJobStats          = def("DOJobStats", info, "[Win32App] DO Job set priority is %s, Downloaded %d bytes (HTTP %d, cache server %d, peers %d) in %s")
	DownloadedSize      = def("DownloadedSize", info, "[Win32App] Downloaded file size %d")
	DownloadReport      = def("DownloadReport", info, "[Win32App][ReportingManager] Download state for app with id: %s has been updated. Report delta: %s")
	UnpackWhileDownload = def("UnpackWhileDownload", info, "[Win32App] Verifying, decrypting and unzipping while the download runs, into %s")
	UnpackDuringFailed  = def("UnpackDuringFailed", warn, "[Win32App] Unzipping during the download did not complete (%v); unpacking the downloaded file")
	StartsVerifyingHash = def("StartsVerifyingHash", info, "[Win32App] Starts verifying encrypted hash")
	HashValidationPass  = def("HashValidationPass", info, "[Win32App] file hash validation pass, starts decrypting")
	DecryptionDone      = def("DecryptionDone", info, "[Win32App] Decryption is done successfully.")
	StartingUnzip       = def("StartingUnzip", info, "[Win32App] Starting unzipping into %s")
	UnzipDone           = def("UnzipDone", info, "[Win32App] Unzipping is done successfully.")
	ContentBad          = def("ContentBad", fail, "[Win32App] Downloaded content does not verify: %v")
	CachedContentBadMAC = def("CachedContentBadMAC", warn, "[Win32App] Cached content failed HMAC/FileDigest verification (%v); downloading again")
	PersistedUsed       = def("PersistedUsed", info, "[Win32App] Using persisted content at %s (source resiliency)")
	PersistedOutside    = def("PersistedOutside", warn, "[Win32App] Persisted content of %s at %s is not in %s; forgetting it")
	PersistedBad        = def("PersistedBad", warn, "[Win32App] Persisted content at %s does not verify (%v); discarding it and downloading again")
	PersistedOK         = def("PersistedOK", info, "[Win32App] Persisted content at %s verified (%d entries, sizes and SHA-256)")
	PersistNotKept      = def("PersistNotKept", warn, "[Win32App] Content of %s not kept for source resiliency: %v")
	PersistKept         = def("PersistKept", info, "[Win32App] Content of %s kept at %s for source resiliency (manifest of %d entries)")
	PersistEvict        = def("PersistEvict", info, "[Win32App] Evicting kept content %s (%d bytes)")
	CleaningUp          = def("CleaningUp", info, "Cleaning up staging content %s")
	CleanupRefused      = def("CleanupRefused", fail, "[Win32App] Not cleaning up %s: not a folder of %s")
	CleanupFailed       = def("CleanupFailed", warn, "[Win32App] Cleaning up %s: %v")
)

// The installer: launch, result, exit-code mapping, state messages, report.
var (
	ExecuteRetry         = def("ExecuteRetry", info, "[Win32App] ===Step=== Execute retry %d")
	InstallBehavior      = def("InstallBehavior", info, "[Win32App] ===Step=== InstallBehavior RegularWin32App, Intent %d, command line: %s")
	SetCurrentDirectory  = def("SetCurrentDirectory", info, "[Win32App] SetCurrentDirectory: %s")
	LaunchInstaller      = def("LaunchInstaller", info, "[Win32App] Launch Win32AppInstaller in %s session")
	InstallerTimeout     = def("InstallerTimeout", info, "[Win32App] Installer process timeout milliseconds: %d")
	InstallerUserFailed  = def("InstallerUserFailed", fail, "[Win32App] Cannot launch the installer of app %s in the user session: %v")
	InstallerRunsAs      = def("InstallerRunsAs", info, "[Win32App] Installer runs as user %s (uid %d)")
	CommandLineRunsAs    = def("CommandLineRunsAs", info, "[Win32App] Command line runs as: %s")
	InstallerNotRecorded = def("InstallerNotRecorded", fail, "[Win32App] Cannot record the installer run of app %s; not starting it: %v")
	CreateInstallerOK    = def("CreateInstallerOK", info, "[Win32App] Create installer process successfully.")
	InstallerPID         = def("InstallerPID", info, "[Win32App] process id = %d")
	ReaperNotRecorded    = def("ReaperNotRecorded", warn, "[Win32App] Cannot record reaper %d of app %s: %v")
	CommandLineFailed    = def("CommandLineFailed", fail, "[Win32App] Cannot run command line %q: %v")
	InstallerDetached    = def("InstallerDetached", warn, "[Win32App] Agent stopping: installer of app %s left running in %s (reaper %d); the next agent run waits for it and finishes the attempt")
	InstallerTimedOut    = def("InstallerTimedOut", fail, "[Win32App] Installer ran past its maximum run time (%v); process tree killed")
	InstallationDone     = def("InstallationDone", info, "[Win32App] Installation is done, collecting result")
	ProcessTreeDone      = def("ProcessTreeDone", info, "[Win32App] process %d exited; waited for its whole process tree (%d more processes reaped)")
	LpExitCode           = def("LpExitCode", info, "[Win32App] lpExitCode %d")
	ExitCodeNoMapping    = def("ExitCodeNoMapping", info, "[Win32App] Admin did NOT set mapping for lpExitCode: %d of app: %s")
	ExitCodeDefinedAs    = def("ExitCodeDefinedAs", info, "[Win32App] lpExitCode is defined as %s")
	ExitCodeRetry        = def("ExitCodeRetry", warn, "[Win32App] Installer asks for a retry (exit code %d); next attempt after %v")
	RestartPending       = def("RestartPending", info, "[Win32App] Device restart behavior %s: restart %s is pending (not performed by the agent); %s")
	UninstallRefused     = def("UninstallRefused", warn, "[Win32App] Uninstall request refused: %v")
	RestartForced        = def("RestartForced", info, "[Win32App] Device restart behavior force: a restart is pending (not performed by the agent)")
	RestartSettings      = def("RestartSettings", info, "[Win32App] Restart settings: %s")
	ActiveScript         = def("ActiveScript", info, "[Win32App] Active script %s (%s) replaces the command line")
	NoDetectionRule      = def("NoDetectionRule", fail, "[Win32App] App %s has no detection rule: it cannot be detected, its installer is not run (0x87D1041C)")
	ExecutionReport      = def("ExecutionReport", info, "[Win32App][ReportingManager] Execution state for app with id: %s has been updated. Report delta: %s")
	ComplianceStep       = def("ComplianceStep", info, "[Win32App] ===Step=== Set ComplianceStateMessage with applicationDetectedByCurrentRule")
	ComplianceMessage    = def("ComplianceMessage", info, "[Win32App] ComplianceStateMessage: %s")
	EnforcementStep      = def("EnforcementStep", info, "[Win32App] ===Step=== Set EnforcementStateMessage")
	EnforcementMessage   = def("EnforcementMessage", info, "[Win32App] EnforcementStateMessage: %s")
	SendingStatus        = def("SendingStatus", info, "[Win32App][ReportingManager] Sending status to company portal based on report: %s")
	ReportSending        = def("ReportSending", info, "[StatusService] Sending app result: app %s, EnforcementState %d, ComplianceState %d, ErrorCode %d")
	ReportNotSent        = def("ReportNotSent", warn, "[StatusService] Report of app %s not sent (%v); kept for the next sync")
	ReportFailed         = def("ReportFailed", fail, "[StatusService] %v")
	ReportPendingFailed  = def("ReportPendingFailed", warn, "[StatusService] Pending report of app %s still not sent: %v")
	ReportPendingSent    = def("ReportPendingSent", info, "[StatusService] Pending report of app %s sent")
)

// A user-context install on Windows. Both lines are ours: the IME's own
// wording for them is not public; NoUserSession names the IME's code.
var (
	InstallerRunsInSession = def("InstallerRunsInSession", info, "[Win32App] Installer runs as the logged-on user %s in session %d (%s), with the user's token")
	NoUserSession          = def("NoUserSession", fail, "[Win32App] No user is logged on: cannot run the user-context installer of app %s; it is retried once a user logs on (%s)")
)

// An installer run an earlier agent started (recovery).
var (
	RecoverWarn        = def("RecoverWarn", warn, "[Win32App] Recovering installer runs: %v")
	RecoverFailed      = def("RecoverFailed", fail, "[Win32App] %v; not processing app %s")
	RecoverError       = def("RecoverError", fail, "[Win32App] Recovering the installer run: %v")
	RecoverFound       = def("RecoverFound", info, "[Win32App] Found the installer run of app %s (%s) an earlier agent started at %s (reaper process %d, attempt %d); waiting for its process tree instead of starting another installer")
	RecoverTimedOut    = def("RecoverTimedOut", fail, "[Win32App] Installer of app %s ran past its maximum run time (deadline %s); killing its process tree")
	RecoverStopReaper  = def("RecoverStopReaper", warn, "[Win32App] Stopping reaper %d: %v")
	RecoverStopped     = def("RecoverStopped", warn, "[Win32App] Stopped waiting for the installer of app %s (%v); the next agent run waits again")
	RecoverReaperGone  = def("RecoverReaperGone", fail, "[Win32App] The installer's reaper (process %d) is gone without a result: the installer was interrupted")
	BannedPeers        = def("BannedPeers", warn, "[DO] %s: banned peers that sent bad pieces: %v")
	PeerLog            = def("PeerLog", info, "[DO] %s")
	PeerPortInUse      = def("PeerPortInUse", warn, "[DO] Peer port %s is in use (%v): not sharing DOCache with peers this run; pass --peer-addr HOST:PORT or --peer-addr off")
	PeerSharing        = def("PeerSharing", info, "[DO] Sharing DOCache with peers on %s (download mode %d)")
	PeerWarn           = def("PeerWarn", warn, "[DO] Peer cache: %v")
	PeerUnregisterFail = def("PeerUnregisterFail", warn, "[DO] Could not remove this device's peer registrations from the Array: %v")
	PeerUnregistered   = def("PeerUnregistered", info, "[DO] Removed %d peer registrations from the Array")
)

// AgentExecutor.log: detection and requirement scripts (and PowerShell
// installers), as the IME's AgentExecutor.exe logs a run.
var (
	ExecutorInvoked     = def("ExecutorInvoked", info, "ExecutorLog AgentExecutor gets invoked")
	ExecutorOption      = def("ExecutorOption", info, "%s option gets invoked")
	ExecutorScriptPath  = def("ExecutorScriptPath", info, "Adding argument %s with value %s")
	ExecutorShellPath   = def("ExecutorShellPath", info, "PowerShell path is %s")
	ExecutorCmdLine     = def("ExecutorCmdLine", info, "cmd line for running powershell is %s")
	ExecutorProcessID   = def("ExecutorProcessID", info, "[Executor] created powershell with process id %d")
	ExecutorExitCode    = def("ExecutorExitCode", info, "Powershell exit code is %d")
	ExecutorOutput      = def("ExecutorOutput", info, "write output done. output = %s, error = %s")
	ExecutorScriptError = def("ExecutorScriptError", fail, "error from script =%s")
	ExecutorFailed      = def("ExecutorFailed", fail, "Powershell script is failed to execute: %v")
	ExecutorExiting     = def("ExecutorExiting", info, "Agent executor completed.")
)
