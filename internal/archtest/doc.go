// Package archtest holds tests of the tree's shape rather than of its
// behaviour: which packages the agent side may depend on, that IME and DO
// codes are spelled by name outside the contract package (imeapi), and
// that the README's Layout lists every package. It has no API; its tests
// run the go tool found on PATH or in GOROOT and skip when there is none.
package archtest
