// Package state is the agent's persistent state in one bbolt file
// (<root>/state.db), laid out like the registry keys of the Intune
// Management Extension:
//
//	Win32Apps/<userId>/<appId>_<rev>   ComplianceStateMessage, EnforcementStateMessage,
//	                                   Attempts, Policy (what the app was last seen as)
//	Win32Apps/<userId>/GRS/<appId>     when the app entered the Global Re-evaluation Scheme
//	Win32Apps/<userId>/Reporting/<appId>_<rev>  the last report, sent or pending
//	Agent                              device identity, last sync times
//	Requests                           user requests (install / uninstall an available app)
//	Persist                            content kept for source resiliency, with LRU times
//	Installs/<appId>_<rev>             an installer run in progress (reaper, deadline, attempt)
//	Registry                           an emulated Windows registry (keys with typed values)
//
// The device-wide user id is 00000000-0000-0000-0000-000000000000, as the
// IME writes for system-context apps.
//
// The package stores and returns values; it does not decide anything
// (retries, GRS windows and intents are the orchestrate package's), and it
// is not a real registry: detection rules and `imepipe reg` read and write
// only this emulation.
package state
