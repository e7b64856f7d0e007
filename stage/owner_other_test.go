//go:build !unix

package stage

import (
	"io/fs"
	"testing"
)

// chownNobody and sameOwner do nothing where files have no Unix owner.
func chownNobody(*testing.T, string) {}

func sameOwner(*testing.T, fs.FileInfo, fs.FileInfo) {}
