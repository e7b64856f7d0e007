//go:build windows

package orchestrate

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// hostOSVersion is this Windows' MAJOR.MINOR.BUILD from RtlGetVersion
// (which, unlike GetVersionEx, is not capped by the manifest).
func hostOSVersion() string {
	v := windows.RtlGetVersion()
	return fmt.Sprintf("%d.%d.%d", v.MajorVersion, v.MinorVersion, v.BuildNumber)
}
