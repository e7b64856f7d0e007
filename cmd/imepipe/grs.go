package main

import (
	"context"
	"fmt"
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
	c, closer, err := connect(ctx, *root)
	if err != nil {
		return err
	}
	defer closer.Close()
	n, err := c.ResetGRS(ctx, pos[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "reset %s: %d entries removed; it will be attempted at the next sync\n", pos[1], n)
	return nil
}
