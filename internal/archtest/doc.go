// Package archtest holds tests of the tree's shape rather than of its
// behaviour: which packages the agent side may depend on, and that IME and
// DO codes are spelled by name outside the contract package (imeapi). It
// has no API; its tests run the go tool found on PATH or in GOROOT and
// skip when there is none.
package archtest
