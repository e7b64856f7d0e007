//go:build !windows

package orchestrate

import (
	"context"
	"net"
	"os"
	"time"
)

// listenControl serves the control channel on the AF_UNIX socket sock
// (0600), replacing a stale socket file left by an agent that died.
func listenControl(sock string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", sock, 200*time.Millisecond); err == nil {
		c.Close() // cannot be: we hold state.db; a stale listener of ours?
	}
	_ = os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, err
	}
	_ = os.Chmod(sock, 0o600)
	return ln, nil
}

// dialControl connects to the agent listening on sock.
func dialControl(ctx context.Context, sock string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", sock)
}
