//go:build race

package service

// raceEnabled: the race detector slows everything several times; timing
// assertions are skipped under it.
const raceEnabled = true
