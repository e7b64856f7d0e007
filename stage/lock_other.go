//go:build !unix && !windows

package stage

import "os"

// targetLock is a no-op where neither flock nor LockFileEx exist:
// extractions into one destination are not serialized there.
type targetLock struct{}

func lockTarget(string) (*targetLock, error) { return &targetLock{}, nil }

func (*targetLock) unlock() {}

// dirLocks: lockDir is apart from lockTarget (both do nothing here).
const dirLocks = true

func lockDir(string) (*targetLock, error) { return &targetLock{}, nil }

func holdDir(string) (*os.File, error) { return nil, nil }

func unused(string) (*os.File, bool) { return nil, false }

// tellsLive is false: nothing is locked here.
const tellsLive = false
