package orchestrate

import (
	"context"
	"net"

	"github.com/imepipe/imepipe/internal/privdir"
	"github.com/imepipe/imepipe/internal/winpipe"
)

// controlPipe is the named pipe of the agent whose layout has sock:
// `\\.\pipe\imepipe-HASH`, HASH from sock's path, so each root has one.
// No file is made at sock on Windows.
func controlPipe(sock string) string { return winpipe.Name("imepipe", sock) }

// listenControl serves the control channel on sock's named pipe, open
// only to SYSTEM and Administrators (and the agent's own user when it
// runs as neither: privdir.SDDL), remote clients rejected. AF_UNIX is
// missing in Wine and on older Windows builds.
func listenControl(sock string) (net.Listener, error) {
	return winpipe.Listen(controlPipe(sock), privdir.SDDL("GA", false))
}

// dialControl connects to the agent serving sock's named pipe.
func dialControl(ctx context.Context, sock string) (net.Conn, error) {
	return winpipe.Dial(ctx, controlPipe(sock))
}
