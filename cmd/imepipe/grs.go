package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate"
)

func init() {
	register("grs", "grs reset APPID: clear an app's attempts and GRS so it is tried at once", runGRS)
}

func runGRS(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "grs")
	root := rootFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "reset" {
		return usagef("usage: imepipe grs reset APPID[_REV] [--root DIR] (see imepipe grs --help)")
	}
	if err := checkAppRef(pos[1]); err != nil {
		return err
	}
	c, closer, err := connect(ctx, *root)
	if err != nil {
		return connectErr(ctx, *root, err)
	}
	defer closer.Close()
	n, err := c.ResetGRS(ctx, pos[1])
	if errors.Is(err, orchestrate.ErrUnknownApp) {
		return &reasonErr{msg: fmt.Sprintf("%s: the agent has no such app (imepipe status lists those it has)", pos[1]), err: err}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "reset %s: %d entries removed; it will be attempted at the next sync\n", pos[1], n)
	return nil
}

// checkAppRef is nil for APPID or APPID_REV as status lists them (APPID a
// GUID, REV a content version), else a usage error saying which part is
// not.
func checkAppRef(ref string) error {
	id, rev, hasRev := strings.Cut(ref, "_")
	if imeapi.CheckAppID(id) != nil {
		return usagef("%s is not an app id: want APPID or APPID_REV, APPID a GUID (imepipe status lists them)", ref)
	}
	if hasRev && imeapi.CheckVersion(rev) != nil {
		return usagef("%s: %s is not a revision: want APPID or APPID_REV (imepipe status lists them)", ref, rev)
	}
	return nil
}
