// Package reap runs an installer and waits for its whole process tree,
// not just the first process: the fix for the IME's "cleaner" bug, where
// IMECache is deleted while a chained installer still needs it.
//
// Run starts a small reaper process (the agent's own binary re-executed
// with IMEPIPE_REAPER=1; the binary's main or TestMain calls Main first)
// that starts the installer, notes its exit code, waits for every process
// the installer started, however detached, and only then writes its
// Result and exits. When ctx ends, Run asks the reaper to kill the tree
// (Spec.Grace later it kills the reaper itself) and returns ctx's error.
//
// Linux: the reaper marks itself a child subreaper
// (prctl PR_SET_CHILD_SUBREAPER), so every orphaned descendant, even a
// double-forked one, is re-parented to it, and it reaps until it has no
// child left. Run's stop request is SIGTERM; the reaper then kills every
// descendant (found through /proc). Result.Reaped counts the orphans it
// reaped.
//
// Windows: the reaper creates a Job Object with
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE and puts itself in it before it
// starts the installer, so the installer and everything it starts are
// born in the job (no breakaway is allowed) and none can start outside it
// in between; this keeps os/exec's process start and needs no suspended
// start. The reaper waits until it is the only active process left in
// the job (woken by the job's I/O completion port, re-checking at least
// every 250 ms since job notifications are not guaranteed). The exit
// code is the full 32-bit code read as signed (3010, 1641,
// 0x87D1041C = -2016345060). Run's stop request is a byte on the
// reaper's standard input (there is no SIGTERM): the reaper caps the job
// at one active process and terminates every other process in it, with
// exit code -1. If the reaper dies instead, closing the job kills the
// tree. The reaper process is kept on Windows for three reasons: the
// agent never joins the job itself, kill-on-close covers a reaper that
// is killed, and Run is the same on every OS. Result.Reaped counts every
// other process that ran in the job. With a Windows Credential (a
// logged-on user's session and SID) the reaper, which stays SYSTEM, starts
// the installer with that session's user token (token_windows.go:
// WTSQueryUserToken, a primary token, its user checked), born in the job
// like any other process. Limits: processes started on the
// installer's behalf by a service (the Windows Installer service's
// custom actions, Task Scheduler, WMI) are not its descendants and are
// in no job, as they would escape a subreaper on Linux; nested jobs need
// Windows 8 or later. CI runs this code under Wine (make test-windows);
// real Windows is not in CI.
//
// Other systems: the reaper waits for the first process only (documented,
// not hidden).
//
// Agent death: the reaper does not depend on the agent that started it
// (no parent-death signal: killing the installer when the agent restarts
// is the IME's bug class). Its output is the file Spec.Stdout (passed as
// a descriptor, no pipe), its input the null device (Windows: a control
// pipe whose end is not a stop), and it writes its Result itself once the
// tree is gone. The one pipe to the agent, when Spec.InstallerStarted asks
// for it, is the launch report (launch.go): the reaper writes the
// installer's pid on it once, right after the start, and closes it; the
// installer never holds it (close-on-exec; not inheritable on Windows),
// and a write that fails because the agent is gone is ignored. A new
// agent re-adopts it (orphan.go): Identify records
// the reaper as a Handle (pid and start time: /proc/PID/stat starttime on
// Linux, the creation time on Windows), Alive and Running poll it, Stop
// asks it to kill its tree (SIGTERM; Windows: TerminateJobObject on the
// job opened by its name, Spec.JobName), Kill ends what is left without
// it (descendants through /proc, then members of its process group that
// started after it; a process that left both by setsid after the reaper
// died is not found), Find locates a reaper by its result path (Linux,
// through /proc/PID/environ) for a run recorded before its pid was known,
// and ReadResult reads the Result it left.
//
// Command lines: Spec.Argv is passed as arguments (on Windows, quoted by
// os/exec for programs that read the C runtime's rules). Windows installer
// lines have quoting of their own (`msiexec /i "Contoso App.msi" /qn`,
// `"setup.exe" /S /D="C:\Program Files\X"`) that msiexec and cmd.exe read
// without backslash escapes, so on Windows Spec.CommandLine passes a line
// to CreateProcess exactly as given (SysProcAttr.CmdLine). It reaches the
// reaper in the environment variable EnvCommandLine, never as an argument
// (which os/exec would re-quote), and the reaper removes it before the
// installer starts. The program is the line's first token (FirstToken: the
// C runtime's argv[0] rule) found as the IME's CreateProcess call finds it:
// a bare name in the content folder (Spec.Dir) first, then on PATH, a
// relative path under the content folder, an absolute one as written,
// ".exe" appended to a name without an extension, and for an unquoted
// path with spaces (C:\Program Files\X\setup.exe /S) ever longer prefixes
// of the line, as CreateProcess tries them. Unlike CreateProcess it does
// not search the agent's own folder, System32 or the Windows folder
// before PATH (they are on PATH on any normal system). A file that is no
// program (.msi, .ps1) is refused with ErrCommandLine: putting its host
// on the line is the caller's choice (package orchestrate does). On other
// systems a CommandLine is an ErrBadSpec (and errors.ErrUnsupported). The
// parsing and lookup are plain string code, tested on every OS; only the
// start itself (reap_windows.go) is Windows code, run under Wine by make
// test-windows (reap_windows_test.go: a chained .cmd, cancel through the
// Job Object, DWORD exit codes).
//
// The package runs processes; it does not interpret exit codes, and it
// does not build command lines: it runs Spec.Argv or Spec.CommandLine as
// given.
package reap
