package fetch

import "golang.org/x/sys/windows"

// Winsock's errors for what RequestError.Reason words by cause: Windows
// does not report them as syscall.ECONNREFUSED and ECONNRESET.
var (
	errRefused error = windows.WSAECONNREFUSED
	errReset   error = windows.WSAECONNRESET
)
