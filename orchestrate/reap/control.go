package reap

import "io"

// stopByte, written by the agent on the reaper's standard input, asks a
// Windows reaper to kill its tree and finish (there is no SIGTERM to
// send to a Windows process).
const stopByte = 'k'

// watchStop reads r (the reaper's standard input) and calls stop once,
// when the agent sends stopByte. The end of input, which is what the
// reaper sees when the agent goes away, is not a stop: the installer
// runs on and is waited for, as on Linux.
func watchStop(r io.Reader, stop func()) {
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n == 1 && b[0] == stopByte {
			stop()
			return
		}
		if err != nil {
			return
		}
	}
}
