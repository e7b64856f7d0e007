package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// isTerminal reports whether f is a console. A character device is not
// enough on Windows: NUL is one too, and gets no progress bars; a console
// handle is one that GetConsoleMode accepts.
func isTerminal(f *os.File) bool {
	var mode uint32
	return windows.GetConsoleMode(windows.Handle(f.Fd()), &mode) == nil
}
