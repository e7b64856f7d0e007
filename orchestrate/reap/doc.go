// Package reap runs an installer and waits for its whole process tree,
// not just the first process: the fix for the IME's "cleaner" bug, where
// IMECache is deleted while a chained installer still needs it.
//
// On Linux the agent starts a small reaper process (the agent's own binary
// re-executed with IMEPIPE_REAPER=1; the binary's main or TestMain calls
// Main first). The reaper marks itself a child subreaper
// (prctl PR_SET_CHILD_SUBREAPER), so every orphaned descendant of the
// installer, even a detached or double-forked one, is re-parented to it;
// it starts the installer, notes its exit status, and keeps reaping until
// it has no child left. Only then does it exit and write a Result file.
// SIGTERM makes it kill every descendant (found through /proc) and finish.
// Windows would use a Job Object; elsewhere the reaper waits for the
// first process only (documented, not hidden).
//
// The package runs processes; it does not interpret exit codes.
package reap
