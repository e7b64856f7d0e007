//go:build !linux

package pgtest

import "os/exec"

// unprivileged runs commands as this user: switching to the postgres
// user is done on Linux only.
func unprivileged(string) (func(*exec.Cmd), error) { return func(*exec.Cmd) {}, nil }
