package reap

import (
	"fmt"
	"strconv"
	"strings"
)

// Credential is the user an installer runs as (Spec.Credential). On
// Linux and other Unix systems it is UID, GID and Groups; on Windows it
// is a logged-on user: SID set, the installer runs with the user token
// of Session (WTSQueryUserToken), which must still belong to SID.
type Credential struct {
	UID, GID uint32
	Groups   []uint32 // supplementary groups
	// Session (Windows) is the terminal-services session whose user the
	// installer runs as.
	Session uint32
	// SID (Windows) is that user's security identifier, "S-1-5-21-…":
	// the reaper refuses the session's token if it is anyone else's, or a
	// service account's (SYSTEM).
	SID string
	// User (Windows) is the user's DOMAIN\name, for the log only.
	User string
}

// windows is a Windows credential: a logged-on user's session and SID.
func (c Credential) windows() bool { return c.SID != "" }

// String is the EnvCredential form: "uid:gid:g1,g2", or on Windows
// "session:ID:SID" (User is not carried).
func (c Credential) String() string {
	if c.windows() {
		return fmt.Sprintf("session:%d:%s", c.Session, c.SID)
	}
	gs := make([]string, len(c.Groups))
	for i, g := range c.Groups {
		gs[i] = strconv.FormatUint(uint64(g), 10)
	}
	return fmt.Sprintf("%d:%d:%s", c.UID, c.GID, strings.Join(gs, ","))
}

// parseCredential reads String's forms.
func parseCredential(s string) (*Credential, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return nil, fmt.Errorf("credential %q: want uid:gid:groups: %w", s, ErrBadSpec)
	}
	num := func(v string) (uint32, error) {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("credential %q: %w", s, ErrBadSpec)
		}
		return uint32(n), nil
	}
	var c Credential
	var err error
	if parts[0] == "session" {
		if c.Session, err = num(parts[1]); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(strings.ToUpper(parts[2]), "S-1-") {
			return nil, fmt.Errorf("credential %q: SID %q: %w", s, parts[2], ErrBadSpec)
		}
		c.SID = parts[2]
		return &c, nil
	}
	if c.UID, err = num(parts[0]); err != nil {
		return nil, err
	}
	if c.GID, err = num(parts[1]); err != nil {
		return nil, err
	}
	if parts[2] != "" {
		for _, g := range strings.Split(parts[2], ",") {
			n, err := num(g)
			if err != nil {
				return nil, err
			}
			c.Groups = append(c.Groups, n)
		}
	}
	return &c, nil
}
