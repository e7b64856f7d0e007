package bench

import "errors"

// Errors the package returns, wrapped with detail.
var (
	// ErrProfile: an unknown dataset profile name.
	ErrProfile = errors.New("unknown profile")
	// ErrSize: a dataset size too small for its profile.
	ErrSize = errors.New("dataset size too small")
	// ErrExists: the target folder exists and is not empty.
	ErrExists = errors.New("target exists")
	// ErrOutput: a contender produced an output tree that differs from
	// the source folder; its time is not counted.
	ErrOutput = errors.New("output differs from the source folder")
	// ErrRun: a contender's process failed.
	ErrRun = errors.New("run failed")
)
