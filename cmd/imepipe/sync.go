package main

import (
	"context"
	"errors"

	"github.com/imepipe/imepipe/orchestrate"
)

func init() {
	register("sync", "sync [app|compliance]: make the agent sync now", runSync)
}

func runSync(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sync")
	root := rootFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	kind := orchestrate.SyncApp
	switch {
	case len(pos) == 1 && (pos[0] == orchestrate.SyncApp || pos[0] == orchestrate.SyncCompliance):
		kind = pos[0]
	case len(pos) == 1:
		return usagef("unknown sync kind %q: want app or compliance (see imepipe sync --help)", pos[0])
	case len(pos) > 1:
		return usagef("unexpected arguments %q: want at most app or compliance (see imepipe sync --help)", pos[1:])
	}
	c, closer, err := connect(ctx, *root)
	if err != nil {
		return err
	}
	defer closer.Close()
	_, remote := c.(*orchestrate.Remote)
	err = c.SyncKind(ctx, kind)
	if errors.Is(err, orchestrate.ErrNotEnrolled) {
		return rootNotEnrolled(*root, false, "")
	}
	if err != nil {
		return serviceHint(err)
	}
	if remote {
		sayf(e.stdout, "%s sync done by the agent running on %s", kind, *root)
	} else {
		sayf(e.stdout, "%s sync done in this process: no agent is running on %s (imepipe status shows the result)", kind, *root)
	}
	return nil
}
