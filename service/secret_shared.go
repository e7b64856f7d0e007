package service

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
)

// sharedSecret is loadSecret for a store several Servers share: the
// secret called name is the store's (the first Server to start makes it,
// the others read it), and def (in the data folder) is rewritten, mode
// 0600 through a temp file and a rename, whenever it does not hold it, so
// that the admin and the agents read it there as with bbolt. It returns
// def and the secret's SHA-256; its errors call def what ("admin token").
func sharedSecret(st store, name, what, def string) (string, [32]byte, error) {
	raw, err := st.secret(name, 32)
	if err != nil {
		return def, [32]byte{}, err
	}
	tok := base64.RawURLEncoding.EncodeToString(raw)
	clear(raw)
	want := []byte(tok + "\n")
	if have, err := os.ReadFile(def); err != nil || !bytes.Equal(have, want) {
		tmp, err := os.CreateTemp(filepath.Dir(def), "."+filepath.Base(def)+"-*")
		if err != nil {
			return def, [32]byte{}, &wordedError{msg: what + " " + def + ": cannot write: " + sysReason(err, kindFile), err: err}
		}
		_, err = tmp.Write(want)
		if err = errors.Join(err, tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err == nil {
			err = os.Rename(tmp.Name(), def)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return def, [32]byte{}, &wordedError{msg: what + " " + def + ": cannot write: " + sysReason(err, kindFile), err: err}
		}
	}
	return def, sha256.Sum256([]byte(tok)), nil
}
