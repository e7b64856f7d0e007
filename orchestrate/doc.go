// Package orchestrate is the endpoint agent: the Intune Management
// Extension's Win32 app flow, without its known bugs.
//
// An Agent owns one root folder:
//
//	Content/Incoming/<appId>_<rev>.bin   downloads (with fetch's journal)     0700
//	Content/Staging/                     scripts, reaper results, exit-code files 0700
//	IMECache/<appId>_<rev>/              unpacked content while it is installed 0700
//	DOCache/                             the DO cache shared with peers (Config.PeerAddr), the DO
//	                                     records of every mode and the cache policy (Config.DOCache) 0700
//	Logs/IntuneManagementExtension.log   CMTrace log, rotated by size
//	Logs/AgentExecutor.log               CMTrace log of detection and requirement scripts
//	state.db                             package state: the IME registry layout
//	agent.sock                           control socket while the agent runs
//
// For every app a sync reads from the service, it runs the IME flow:
// detection (file/folder, emulated registry, MSI product code, script) →
// applicability (disk, memory, CPUs, CPU speed, architecture, requirement
// rules → 3000; the rules are package rules) → content info → download
// into Incoming (a Downloader: fetch from the origin and an optional
// Connected Cache host, or, with PeerAddr, a PeerDownloader over LAN/Group
// peers and the DO cache; its peer server and Array registrations are
// peering.go) → verify, decrypt and extract into IMECache while the
// download runs (package delivery) →
// the install (or uninstall) command under /bin/sh -c in that folder →
// exit code mapped with the app's return codes → detection again (success
// but not detected: 0x87D1041C) → ComplianceStateMessage and
// EnforcementStateMessage → report (with the DO record) → clean Incoming
// and IMECache. Required apps install; available ones only on
// Agent.Install; uninstall-intent apps are removed when detected. Failed
// attempts are retried at least RetryInterval apart, MaxAttempts times,
// then the app enters GRS for GRSWindow; ResetGRS clears it.
//
// IME bugs fixed here: cleanup waits for the installer's whole process tree
// (package reap: a child subreaper on Linux), cached content is reused only
// after it verifies (else downloaded again), content can be kept per app
// for source resiliency (bounded, least recently used evicted, and checked
// against its manifest of sizes and SHA-256 before every reuse), and
// retries and GRS are visible in Status and resettable.
//
// Identifiers from the network are not trusted with paths: a policy's
// appId must be a GUID and its version pass imeapi.CheckVersion, a
// DoFileId peer.CheckID, before any path is built from them, and every
// such path is checked to be one plain name inside its folder. A refused
// policy ends in an error state naming the field (keyed by its quoted
// identifiers; reported once when the appId is a GUID). Signed URLs are
// logged, stored and reported through fetch.RedactURL.
//
// An agent killed during an install : the run is recorded in
// state.db (state.Install: reaper pid and start time, content folder,
// result path, attempt number, deadline, policy) before the installer
// starts. The reaper outlives the agent (it holds the installer log file
// itself, no pipe to the agent) and writes its Result when the tree is
// gone. The next flow of that app, in this agent or the next one (a sync,
// `imepipe install`, a CLI on the root), finds the record first and
// re-adopts the run (recover.go): it starts no second installer and does
// not re-extract, replace or delete the content folder; it polls the
// reaper (Config.OrphanPoll, not its child) until the tree is gone, past
// the recorded deadline it has the tree killed (CodeTimeout), then
// finishes the attempt with the reaper's exit code (return codes,
// detection, state, one report), the attempt counted once, and cleans up.
// A reaper gone without a Result is one failed attempt (what is left of
// its process group is killed first). Nothing kills the installer when
// the agent dies, nor when it stops (ctx cancelled, SIGTERM): it
// detaches, keeps the folder and the record, reports nothing, and the
// next agent re-adopts the run; only the install timeout kills. (A
// service manager that kills the agent's whole cgroup, systemd's default
// KillMode=control-group, kills the installer with it: run the agent
// with KillMode=process for this to hold.) Within one process a per-app guard
// keeps a second flow of an app out while one runs. Records of apps no longer assigned are
// finished at the end of a sync. On Windows the reaper's Job Object is
// named Local\imepipe-<key>-<random> (one name per run, recorded), so a
// restarted agent can end it by name.
//
// CLI access: state.db is a bbolt file, which one process holds at a time.
// New starts the daemon; while it runs it serves agent.sock, a Unix socket
// (on Windows the named pipe \\.\pipe\imepipe-<hash of its path>, for
// SYSTEM and Administrators: control_windows.go) speaking one JSON request
// and one JSON response per connection. Open is
// the CLI's handle (no socket, no peer server); Connect dials the socket
// and otherwise Opens state.db itself, so `imepipe status`, `install`, `grs
// reset`, `reg` … work whether or not an agent is running.
//
// Installers on Linux: the command line runs with /bin/sh -c; the known
// folders (%ProgramFiles% …) map to Root/Drive/C/… (Config.Folders) and are
// passed as environment variables (ProgramFiles, ProgramFilesX86,
// ProgramData, …); a process can only exit 0–255, so an installer may
// write a Windows exit code (3010, 1641, …) into $IMEPIPE_EXIT_CODE_FILE.
// A runAsAccount user installer runs as Config.InstallUser (its uid, gid
// and groups; the agent must be root), never as root: without one the
// app fails (ErrInstallUser). On Windows it runs as the logged-on user.
// Script rules run with /bin/sh (or their #! interpreter), not PowerShell.
// An app's active install or uninstall script (activeInstallScript,
// script.go) runs instead of its command line through pwsh from PATH
// (powershell.exe on Windows); without one the app fails (0x80070002).
//
// Installers on Windows (the agent scenarios run them under Wine in make
// test-windows, with .cmd installers): the command line goes to
// CreateProcess exactly as written (no Go argument quoting), the program
// found the IME's way (content folder, then PATH); a .ps1, .cmd/.bat or
// .msi first token is wrapped in powershell.exe, cmd.exe or msiexec.exe
// (exec_windows.go); the whole tree runs in a Job Object (package reap);
// the exit code is the process's DWORD. Known folders are the real ones
// there (from the environment, rules.KnownFolders), so detection looks
// where installers write; the rules read the real registry and Windows
// Installer unless Config.EmulatedRegistry.
//
// The package does not reboot the device (a pending restart, and the
// assignment's restart and notification settings, are recorded in the
// app's state: settings.go) and cannot read file versions
// (a PE resource). OS version requirements are checked against
// Config.OSVersion (the real build on Windows).
package orchestrate
