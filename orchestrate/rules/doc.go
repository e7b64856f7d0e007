// Package rules evaluates a Win32 app's detection and requirement rules
// the way the IME does: file or folder (exists, size, dates), registry
// (key or value exists, string, integer, version, with the 32-bit view),
// MSI product code (under the Uninstall key, with its DisplayVersion) and
// script rules (run with /bin/sh or their #! interpreter, not
// PowerShell). Windows paths in rules map to local ones through the known
// folders (KnownFolders, MapPath).
//
// It reads the registry through Registry (the agent's emulated one in
// state.db) and never changes it; it does not run installers, keep state
// or know the agent: orchestrate calls it at the detection and
// requirement steps.
package rules
