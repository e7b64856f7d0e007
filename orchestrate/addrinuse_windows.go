package orchestrate

import (
	"errors"
	"syscall"

	"golang.org/x/sys/windows"
)

// addrInUse reports whether a listen failed because the port is taken
// (Winsock's WSAEADDRINUSE, or EADDRINUSE).
func addrInUse(err error) bool {
	return errors.Is(err, windows.WSAEADDRINUSE) || errors.Is(err, syscall.EADDRINUSE)
}
