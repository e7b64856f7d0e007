package reap

import (
	"fmt"
	"strconv"
	"strings"
)

// Credential is the user an installer runs as (Spec.Credential).
type Credential struct {
	UID, GID uint32
	Groups   []uint32 // supplementary groups
}

// String is the EnvCredential form, "uid:gid:g1,g2".
func (c Credential) String() string {
	gs := make([]string, len(c.Groups))
	for i, g := range c.Groups {
		gs[i] = strconv.FormatUint(uint64(g), 10)
	}
	return fmt.Sprintf("%d:%d:%s", c.UID, c.GID, strings.Join(gs, ","))
}

// parseCredential reads String's form.
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
