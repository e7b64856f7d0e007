//go:build !unix

package orchestrate

// freeDiskMB is unknown here (0: a minimum is then not enforced).
func freeDiskMB(string) int64 { return 0 }
