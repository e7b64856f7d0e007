package imeapi

import (
	"fmt"
	"strconv"
	"strings"
)

// Windows releases and their build numbers, as the agent checks an app's
// minimumSupportedOperatingSystem and minimumSupportedWindowsRelease
// against the device's OS version (10.0.BUILD). Windows 8 and 8.1 flags
// are below every Windows 10 build and always met.

// releaseBuilds maps windowsMinimumOperatingSystem flags to the first build of each release.
var releaseBuilds = map[string]int{
	"v8_0": 0, "v8_1": 0, "v10_0": 10240,
	"v10_1607": 14393, "v10_1703": 15063, "v10_1709": 16299, "v10_1803": 17134, "v10_1809": 17763,
	"v10_1903": 18362, "v10_1909": 18363, "v10_2004": 19041, "v10_2H20": 19042, "v10_21H1": 19043,
	"v10_21H2": 19044, "v10_22H2": 19045,
	"v11_21H2": 22000, "v11_22H2": 22621, "v11_23H2": 22631, "v11_24H2": 26100,
}

// windowsReleases maps minimumSupportedWindowsRelease values (Windows 10
// release names; 23H2 and 24H2 exist only as Windows 11) to builds.
var windowsReleases = map[string]int{
	"1507": 10240, "1511": 10586, "1607": 14393, "1703": 15063, "1709": 16299, "1803": 17134,
	"1809": 17763, "1903": 18362, "1909": 18363, "2004": 19041, "20H2": 19042, "21H1": 19043,
	"21H2": 19044, "22H2": 19045, "23H2": 22631, "24H2": 26100,
}

// ReleaseBuild returns the first build of a windowsMinimumOperatingSystem
// flag ("v10_1809") or a minimumSupportedWindowsRelease ("1809", "22H2",
// "Windows10_22H2", "Windows11_23H2"), matched case-insensitively; ok is
// false for a name it does not know.
func ReleaseBuild(name string) (build int, ok bool) {
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(lower, "windows10_"):
		name = "v10_" + name[len("windows10_"):]
	case strings.HasPrefix(lower, "windows11_"):
		name = "v11_" + name[len("windows11_"):]
	}
	for k, v := range releaseBuilds {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	for k, v := range windowsReleases {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return 0, false
}

// OSBuild is the build number of an OS version "10.0.19045" (or
// "10.0.19045.3803"); a bare "19045" is taken as the build.
func OSBuild(version string) (int, error) {
	parts := strings.Split(strings.TrimSpace(version), ".")
	s := parts[0]
	if len(parts) >= 3 {
		s = parts[2]
	} else if len(parts) != 1 {
		return 0, fmt.Errorf("%w: OS version %q: want MAJOR.MINOR.BUILD", ErrInvalid, version)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: OS version %q: the build is not a number", ErrInvalid, version)
	}
	return n, nil
}

// MinimumBuild is the build an app's OS minimums ask for: the higher of
// minimumSupportedOperatingSystem's Minimum and
// minimumSupportedWindowsRelease; name says which release it is. unknown
// lists minimums whose release this package does not know (they cannot
// be checked).
func (a *Win32LobApp) MinimumBuild() (build int, name string, unknown []string) {
	if m := a.MinimumSupportedOperatingSystem; m != nil {
		if v := m.Minimum(); v != "" {
			if b, ok := ReleaseBuild(v); ok {
				build, name = b, v
			} else {
				unknown = append(unknown, "minimumSupportedOperatingSystem="+v)
			}
		}
	}
	if v := a.MinimumSupportedWindowsRelease; v != "" {
		if b, ok := ReleaseBuild(v); !ok {
			unknown = append(unknown, "minimumSupportedWindowsRelease="+v)
		} else if b > build {
			build, name = b, v
		}
	}
	return build, name, unknown
}
