package orchestrate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/imepipe/imepipe/orchestrate/state"
)

// TestOpenStartsNothing: Open is the CLI's handle on a root: it serves no
// control socket and no piece server, even with PeerAddr set; while it
// holds state.db a daemon cannot start there. New (the daemon) serves the
// socket.
func TestOpenStartsNothing(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	a, err := Open(Config{Root: root, PeerAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(LayoutOf(root).Socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open made %s (%v)", LayoutOf(root).Socket, err)
	}
	if a.PeerAddr() != "" {
		t.Errorf("Open started a piece server on %s", a.PeerAddr())
	}
	if _, err := New(Config{Root: root}); !errors.Is(err, state.ErrLocked) {
		t.Errorf("New beside Open: %v, want state.ErrLocked", err)
	}
	must(t, a.Close())

	d, err := New(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if runtime.GOOS != "windows" { // Windows: a named pipe, no file
		if fi, err := os.Lstat(LayoutOf(root).Socket); err != nil || fi.Mode()&os.ModeSocket == 0 {
			t.Errorf("New serves no socket at %s: %v", LayoutOf(root).Socket, err)
		}
	}
	c, closer, err := Connect(context.Background(), root, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if _, ok := c.(*Remote); !ok {
		t.Fatalf("Connect beside New gave %T, want *Remote", c)
	}
	st, err := c.Status(context.Background())
	if err != nil || !st.AgentRunning {
		t.Fatalf("status through the control channel: %+v, %v", st, err)
	}
}
