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
// other process that ran in the job. Limits: processes started on the
// installer's behalf by a service (the Windows Installer service's
// custom actions, Task Scheduler, WMI) are not its descendants and are
// in no job, as they would escape a subreaper on Linux; nested jobs need
// Windows 8 or later. This code is compiled and vetted for windows in
// CI (make cross) but is not run there.
//
// Other systems: the reaper waits for the first process only (documented,
// not hidden).
//
// The package runs processes; it does not interpret exit codes, and it
// does not build command lines: Spec.Argv is passed as arguments.
package reap
