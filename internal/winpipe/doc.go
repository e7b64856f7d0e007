// Package winpipe is a Windows named pipe as a net.Listener and net.Conn:
// the agent's control channel on Windows, where AF_UNIX is missing (Wine,
// older Windows builds). Listen creates the pipe's instances with a
// security descriptor given in SDDL and rejects remote clients; Dial opens
// it for identification only (a server cannot impersonate the client).
// Reads and writes are overlapped, so deadlines and Close interrupt them.
//
// Name derives a pipe name from a path; it is the only part that builds
// off Windows. The package does not do message-mode pipes or impersonation.
package winpipe
