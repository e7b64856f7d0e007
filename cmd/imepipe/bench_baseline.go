package main

import (
	"context"

	"github.com/imepipe/imepipe/bench"
)

// runBenchStdlib is `imepipe bench baseline-stdlib PKG DIR`, not listed in
// any usage: the child process bench local times as its sequential
// standard-library baseline.
func runBenchStdlib(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench "+bench.StdlibCommand)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return usagef("want PKG DIR")
	}
	_, err = bench.StdlibUnpack(ctx, rest[0], rest[1])
	return err
}
