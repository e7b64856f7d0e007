//go:build !windows

package fetch

import "syscall"

// The errors RequestError.Reason words by cause, as this system reports
// them (neterr_windows.go has Winsock's).
var (
	errRefused error = syscall.ECONNREFUSED
	errReset   error = syscall.ECONNRESET
)
