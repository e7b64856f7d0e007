//go:build !windows

package orchestrate

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	"github.com/imepipe/imepipe/orchestrate/reap"
)

// userRun prepares a runAsAccount user install: the installer runs as
// Config.InstallUser (its uid, gid and groups, through the reaper's
// Spec.Credential), never as root. It needs the agent to be root; the
// content folder dir (this app's own) is handed to that user so that the
// installer can read and write it. It returns the credential and the
// environment entries naming the user (HOME, USER, LOGNAME).
func (a *Agent) userRun(dir string) (*reap.Credential, []string, error) {
	name := a.cfg.InstallUser
	if name == "" {
		return nil, nil, fmt.Errorf("%w: no install user configured (agent --install-user NAME); not running it as root", ErrInstallUser)
	}
	if os.Geteuid() != 0 {
		return nil, nil, fmt.Errorf("%w: installing as %s needs the agent to run as root (it runs as uid %d)", ErrInstallUser, name, os.Geteuid())
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInstallUser, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, nil, fmt.Errorf("%w: user %s has uid %q gid %q", ErrInstallUser, name, u.Uid, u.Gid)
	}
	if uid == 0 {
		return nil, nil, fmt.Errorf("%w: install user %s is root", ErrInstallUser, name)
	}
	cred := &reap.Credential{UID: uint32(uid), GID: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, g := range ids {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil {
				cred.Groups = append(cred.Groups, uint32(n))
			}
		}
	}
	// Lchown: a symlink in the package is not followed out of the folder.
	err = filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(uid), int(gid))
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: content folder for %s: %v", ErrInstallUser, name, err)
	}
	return cred, []string{"HOME=" + u.HomeDir, "USER=" + u.Username, "LOGNAME=" + u.Username}, nil
}
