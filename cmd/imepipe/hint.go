package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/imepipe/imepipe/decrypt"
)

// lfsPointerPrefix starts every Git LFS pointer file.
const lfsPointerPrefix = "version https://git-lfs.github.com/spec/"

// sniff reads the first bytes of path (nil when it cannot be read: the
// real operation reports that).
func sniff(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, 64)
	n, _ := io.ReadFull(f, b)
	return b[:n]
}

// lfsPointer is the error for a Git LFS pointer given where content
// was wanted, or nil when path is not one.
func lfsPointer(path string) error {
	if !bytes.HasPrefix(sniff(path), []byte(lfsPointerPrefix)) {
		return nil
	}
	return fmt.Errorf("%s is a Git LFS pointer, not the file itself: run git lfs pull in its repository, then try again", path)
}

// packageHint adds what to do to a "not an .intunewin package" error:
// a Git LFS pointer says so, and a file that is no ZIP at all (the
// encrypted content, IMECache's or the service's .bin) points at raw
// mode. Other errors pass unchanged.
func packageHint(path string, err error) error {
	if !errors.Is(err, decrypt.ErrNotPackage) {
		return err
	}
	if lerr := lfsPointer(path); lerr != nil {
		return lerr
	}
	if head := sniff(path); len(head) >= 2 && !bytes.HasPrefix(head, []byte("PK")) {
		return fmt.Errorf("%s is not an .intunewin (no ZIP inside); if it is the encrypted content (a .bin), give its keys with --keys-file KEYS.json (from inspect --json --show-keys of the .intunewin) or --key and --iv", path)
	}
	return err
}
