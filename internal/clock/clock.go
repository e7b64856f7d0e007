// Package clock is the real clock: time.Now and time.After behind the
// small Clock interfaces their consumers declare (fetch.Clock,
// peer.Clock, cmtrace.Clock, orchestrate.Clock). A consumer given no
// clock uses Real; tests give internal/clocktest's instead. It has no
// state and no configuration.
package clock

import "time"

// Real is the system clock.
type Real struct{}

// Now is time.Now.
func (Real) Now() time.Time { return time.Now() }

// After is time.After.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }
