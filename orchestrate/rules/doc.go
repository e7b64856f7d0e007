// Package rules evaluates a Win32 app's detection and requirement rules
// the way the IME does: file or folder (exists, size, dates), registry
// (key or value exists, string, integer, version, with the 32-bit view),
// MSI product code (under the Uninstall key with its DisplayVersion, or
// through Windows Installer) and script rules (Windows PowerShell on
// Windows; elsewhere /bin/sh or their #! interpreter). Windows paths in
// rules map to local ones through the known folders (KnownFolders,
// MapPath).
//
// It reads the registry through Registry (the agent's emulated one in
// state.db; on Windows, after Env.UseSystem, the system's registry with
// its 32-bit view and msi.dll) and never changes it; it does not run
// installers, keep state or know the agent: orchestrate calls it at the
// detection and requirement steps.
package rules
