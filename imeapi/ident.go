package imeapi

import (
	"errors"
	"strings"
)

// Identifier errors: CheckAppID and CheckVersion return them as they are;
// the caller names the field.
var (
	// ErrBadAppID: an app id that is not a GUID.
	ErrBadAppID = errors.New("not a GUID app id")
	// ErrBadVersion: a content version outside 1-64 of A-Z a-z 0-9 . _ -,
	// made of dots only ("." and ".." name folders), or ending in a dot
	// (NTFS drops it: "1." and "1" would be one folder).
	ErrBadVersion = errors.New("not a valid content version")
)

// CheckAppID returns nil when id is a GUID (hex digits of either case),
// else ErrBadAppID. An id that passes is safe in a file name on every
// platform. Both the service (app.json) and the agent (policies) use it.
func CheckAppID(id string) error {
	if !guidRE.MatchString(id) {
		return ErrBadAppID
	}
	return nil
}

// CheckVersion returns nil when v is a content version that is safe in a
// file name on every platform, else ErrBadVersion. It is the service's
// version rule; the agent applies it to every policy before it builds a
// path from the version.
func CheckVersion(v string) error {
	if !versionRE.MatchString(v) || strings.Trim(v, ".") == "" || strings.HasSuffix(v, ".") {
		return ErrBadVersion
	}
	return nil
}
