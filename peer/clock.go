package peer

import "time"

// Clock is the time source of the DO cache, the piece server, the
// Connected Cache and the Swarm: Now for dates, bans and pacing, After
// for the Swarm's refreshes and waits. internal/clock's Real is the
// default; tests pass internal/clocktest's.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}
