package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/imepipe/imepipe/imeapi"
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
		return connectErr(ctx, *root, err)
	}
	defer closer.Close()
	_, remote := c.(*orchestrate.Remote)
	err = c.SyncKind(ctx, kind)
	if errors.Is(err, orchestrate.ErrNotEnrolled) {
		return rootNotEnrolled(*root, false, "")
	}
	if err != nil && ctx.Err() != nil {
		msg := fmt.Sprintf("interrupted; the %s sync did not finish (the next sync takes it up)", kind)
		if remote {
			msg = fmt.Sprintf("interrupted while waiting; the agent running on %s goes on with the %s sync", *root, kind)
		}
		return &reasonErr{msg: msg, err: err}
	}
	if err != nil {
		return untrustedHint(*root, serviceHint(err))
	}
	if remote {
		sayf(e.stdout, "%s sync done by the agent running on %s", kind, *root)
	} else {
		sayf(e.stdout, "%s sync done in this process: no agent is running on %s (imepipe status shows the result)", kind, *root)
	}
	return nil
}

// untrustedHint adds what to do to a sync, install or uninstall on root
// that failed because the service's certificate is signed by a CA the
// root does not trust: give the agent that CA once (agent --ca-file keeps
// a copy in the root, which every later command trusts), or, when the
// root keeps one, that it is not that CA. Other errors pass unchanged.
func untrustedHint(root string, err error) error {
	var te *imeapi.TrustError
	if !errors.As(err, &te) || !te.UnknownAuthority() {
		return err
	}
	if ca := storedCA(root); ca != "" {
		return fmt.Errorf("%w (not by the CA in %s)", err, ca)
	}
	return fmt.Errorf("%w (trust its CA once: imepipe agent --root %s --ca-file DIR/ca.pem --once, DIR the service's --data)", err, shellWord(root))
}

// connectErr is the error of reaching root's agent (connect): when
// Ctrl-C or SIGTERM stopped the command meanwhile (ctx done), one line
// saying so, in place of what the cancelled dial left behind (the
// fallback of opening state.db here meets a running agent's lock:
// "state.db is in use by another process"). Other errors pass unchanged.
func connectErr(ctx context.Context, root string, err error) error {
	if ctx.Err() == nil {
		return err
	}
	return &reasonErr{msg: "interrupted before reaching the agent of " + root, err: err}
}
