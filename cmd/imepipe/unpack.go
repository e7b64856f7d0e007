package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/stage"
)

func init() {
	register("unpack", "verify, decrypt and extract an .intunewin (or a raw .intunewin.bin with --keys-file or --key/--iv)", runUnpack)
}

func runUnpack(ctx context.Context, e *env, args []string) error {
	limitMemory()
	fs := newFlags(e, "unpack")
	outDir := fs.String("o", "", "output `DIR` (default: the file's name without .intunewin or .intunewin.bin, in the current folder)")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	workers := fs.Int("j", 0, fmt.Sprintf("extraction workers (0: two per CPU; at most %d)", maxWorkers))
	force := fs.Bool("force", false, "replace an existing, non-empty output folder")
	keysFile := fs.String("keys-file", "", "raw mode: the keys from `FILE`, the JSON of inspect --json --show-keys (- for standard input); safer than --key, which every user sees in ps")
	key := fs.String("key", "", "raw mode: EncryptionKey, base64 (visible in ps: prefer --keys-file)")
	iv := fs.String("iv", "", "raw mode: InitializationVector, base64")
	macKey := fs.String("mac-key", "", "raw mode: MacKey, base64 (with --mac, to verify the HMAC)")
	mac := fs.String("mac", "", "raw mode: Mac, base64")
	digest := fs.String("digest", "", "raw mode: FileDigest, base64 (optional)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("want exactly one FILE.intunewin (or FILE.intunewin.bin with --key/--iv)")
	}
	nWorkers, err := checkWorkers(*workers)
	if err != nil {
		return err
	}
	path := rest[0]
	flagKeys := *key != "" || *iv != "" || *macKey != "" || *mac != "" || *digest != ""
	raw := *key != "" || *iv != "" || *keysFile != ""
	switch {
	case *keysFile != "" && flagKeys:
		return usagef("--keys-file replaces --key, --iv, --mac-key, --mac and --digest")
	case *keysFile == "" && raw && (*key == "" || *iv == ""):
		return usagef("raw mode needs both --key and --iv (or --keys-file)")
	case !raw && flagKeys:
		return usagef("--mac-key, --mac and --digest go with --key and --iv (raw mode)")
	}
	var k decrypt.Keys
	keysFlag := "--key and --iv"
	cipherSize := int64(-1) // the keys file's encryptedSize
	var labels fileKeys     // the keys file's name, setupFile and toolVersion
	if *keysFile != "" {
		keysFlag = "--keys-file"
		fk, err := readKeysFile(*keysFile, e.stdin)
		if err != nil {
			return err
		}
		k, cipherSize, labels = fk.Keys, fk.CipherSize, fk
	} else if raw {
		if k, err = rawKeys(*key, *iv, *macKey, *mac, *digest); err != nil {
			return err
		}
	}
	// The file first: whether it is a package, or needs keys, matters
	// more than where it would go.
	total, err := checkUnpackInput(path, raw, keysFlag)
	if err != nil {
		return err
	}
	if err := sizeAsKeysSay(path, total, cipherSize); err != nil {
		return err
	}
	dir := *outDir
	if dir == "" {
		base := filepath.Base(path)
		for _, ext := range []string{".bin", ".intunewin", ".zip"} {
			base = strings.TrimSuffix(base, ext)
		}
		dir = base
	}
	replace, err := replaceable(dir, *force)
	if err != nil {
		return err
	}
	bar := newProgress(e, *jsonOut, "unpack", total)
	opt := decrypt.UnpackOptions{Workers: nWorkers, Replace: replace, Progress: bar.Add}
	start := time.Now()
	var res decrypt.UnpackResult
	if raw {
		res, err = decrypt.UnpackRaw(ctx, path, k, dir, opt)
	} else {
		res, err = decrypt.Unpack(ctx, path, dir, opt)
	}
	bar.Done()
	if err != nil {
		return unpackError(ctx, path, dir, raw, keysFlag, err)
	}
	secs := time.Since(start).Seconds()
	verified := res.Open.Verified()
	if raw {
		if w := unverifiedWarning(res.Open); w != "" {
			fmt.Fprintln(e.stderr, "imepipe unpack: warning: "+w)
		}
	}
	if *jsonOut {
		doc := map[string]any{
			"dir": dir, "files": res.Extract.Files, "dirs": res.Extract.Dirs, "bytes": res.Extract.Bytes,
			"verified": verified, "macChecked": res.Open.MacChecked, "digestChecked": res.Open.DigestChecked,
			"encryptedSize": res.Open.CipherSize, "zipSize": res.Open.PlainSize, "seconds": secs,
			"setupFile": labels.SetupFile, "toolVersion": labels.ToolVersion, "name": labels.Name,
		}
		if res.Info != nil {
			doc["setupFile"], doc["toolVersion"], doc["name"] = res.Info.SetupFile, res.Info.ToolVersion, res.Info.Name
		}
		return writeJSON(e, doc)
	}
	what := fmt.Sprintf("unpacked %s (%s): %s, %s into %s", filepath.Base(path),
		humanize.IBytes(uint64(total)), plural(res.Extract.Files, "file"), humanize.IBytes(uint64(res.Extract.Bytes)), dir)
	if verified {
		sayf(e.stdout, "%s (HMAC and FileDigest verified) in %.2fs", what, secs)
	} else {
		sayf(e.stdout, "%s in %.2fs, %s", what, secs, checkedWords(res.Open))
	}
	return nil
}

// checkUnpackInput checks, before the output folder and any work, that
// path is a file unpack can take, returning its size: a package opens
// (else packageHint says what it is instead), and in raw mode, where
// keysFlag gave the keys, it is no package (rawZip says to drop them).
func checkUnpackInput(path string, raw bool, keysFlag string) (int64, error) {
	size, err := inputFile(path)
	if err != nil {
		return 0, err
	}
	if lerr := lfsPointer(path); lerr != nil {
		return 0, lerr
	}
	if raw {
		if size == 0 {
			return 0, &fileErr{path: path, reason: "empty file", err: decrypt.ErrTruncated}
		}
		return size, rawZip(path, keysFlag, false)
	}
	_, f, err := decrypt.OpenFile(path)
	if err != nil {
		return 0, packageHint("unpack", path, err)
	}
	f.Close()
	return size, nil
}

// sizeAsKeysSay refuses, before any work, a raw file of size bytes whose
// keys file gave another encryptedSize (want; -1: none given): a shorter
// one is a cut-off download, called truncated as a cut .intunewin is,
// not an HMAC mismatch found after a full pass.
func sizeAsKeysSay(path string, size, want int64) error {
	switch {
	case want < 0 || size == want:
		return nil
	case size < want:
		return &fileErr{path: path, err: decrypt.ErrTruncated,
			reason: fmt.Sprintf("truncated or corrupt encrypted content (%d bytes, the keys file's encryptedSize is %d); nothing extracted", size, want)}
	}
	return &fileErr{path: path,
		reason: fmt.Sprintf("%d bytes, but the keys file's encryptedSize is %d: not the content of these keys; nothing extracted", size, want)}
}

// unpackError is the one line for a failed unpack of path into dir.
func unpackError(ctx context.Context, path, dir string, raw bool, keysFlag string, err error) error {
	if ierr := interrupted(ctx, err); ierr != nil {
		return ierr
	}
	if errors.Is(err, stage.ErrExists) || errors.Is(err, decrypt.ErrExists) {
		return existsHint(err, dir)
	}
	if raw {
		if zerr := rawZip(path, keysFlag, true); zerr != nil {
			return zerr
		}
	}
	if errors.Is(err, decrypt.ErrNotPackage) {
		return packageHint("unpack", path, err) // changed since checkUnpackInput
	}
	return notExtracted(path, err)
}

// checkedWords is the summary's account of an unverified unpack: what
// was checked, and what was not for want of which key.
func checkedWords(r decrypt.Result) string {
	switch {
	case r.MacChecked:
		return "HMAC verified, FileDigest NOT (no FileDigest)"
	case r.DigestChecked:
		return "FileDigest verified, HMAC NOT (no MAC key)"
	}
	return "NOT verified (no MAC key, no FileDigest)"
}

// unverifiedWarning is the stderr warning of a raw unpack that did not
// check everything, naming what was not and how to give it; "" when all
// was checked.
func unverifiedWarning(r decrypt.Result) string {
	switch {
	case r.Verified():
		return ""
	case r.MacChecked:
		return "FileDigest not checked (give --digest, or use --keys-file, to verify it)"
	case r.DigestChecked:
		return "HMAC not checked (give --mac-key and --mac, or use --keys-file, to verify it)"
	}
	return "NOT verified: neither the HMAC nor the FileDigest was checked (give --mac-key and --mac, and --digest; or --keys-file)"
}

// replaceable reports whether dir may be replaced (force is set) and
// refuses, before any work, what may not: a non-folder, or a non-empty
// folder without force, so nothing of the user's is lost. An empty folder
// needs no force (stage replaces it). The extraction checks again under
// its lock at the commit; see existsHint.
func replaceable(dir string, force bool) (bool, error) {
	st, err := os.Lstat(dir)
	if os.IsNotExist(err) {
		// With force, another run may create it meanwhile: replace that.
		return force, nil
	}
	if err != nil {
		return false, fmt.Errorf("output folder: %w", err)
	}
	if !st.IsDir() {
		return false, fmt.Errorf("output %s exists and is not a folder", dir)
	}
	if force {
		return true, nil
	}
	// Occupied, not a bare ReadDir: a folder holding only what a crashed
	// run left (its hidden staging folder) counts as empty, as stage
	// counts it.
	busy, err := stage.Occupied(dir)
	if err != nil {
		return false, fmt.Errorf("output folder %s: %w", dir, err)
	}
	if busy {
		return false, fmt.Errorf("output folder %s exists and is not empty (use --force to replace it)", dir)
	}
	return false, nil
}

// existsHint turns the commit's refusal of a folder that another run
// filled meanwhile into the same one line replaceable gives.
func existsHint(err error, dir string) error {
	if errors.Is(err, stage.ErrExists) || errors.Is(err, decrypt.ErrExists) {
		return fmt.Errorf("output folder %s exists and is not empty (use --force to replace it)", dir)
	}
	return err
}

// rawKeys decodes raw mode's key flags; a value that is not base64 of
// the right length is a usage error naming the flag (exit 2).
func rawKeys(key, iv, macKey, mac, digest string) (decrypt.Keys, error) {
	k := decrypt.Keys{Size: -1}
	var err error
	if k.EncryptionKey, err = keyFlag("key", key, decrypt.KeySize); err != nil {
		return k, err
	}
	if k.IV, err = keyFlag("iv", iv, decrypt.IVSize); err != nil {
		return k, err
	}
	if (macKey == "") != (mac == "") {
		return k, usagef("--mac-key and --mac go together")
	}
	if macKey != "" {
		if k.MacKey, err = keyFlag("mac-key", macKey, decrypt.KeySize); err != nil {
			return k, err
		}
		if k.Mac, err = keyFlag("mac", mac, decrypt.MacSize); err != nil {
			return k, err
		}
	}
	if digest != "" {
		if k.FileDigest, err = keyFlag("digest", digest, decrypt.DigestSize); err != nil {
			return k, err
		}
	}
	return k, nil
}

// keyFlag decodes the base64 value of the flag name, which must hold
// size bytes; else badValue says which it is not. The values of --key
// and --mac-key are key material and are never echoed (a mistyped key
// is still most of a key); the others are.
func keyFlag(name, value string, size int) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	what := ""
	switch {
	case err != nil:
		what = "not base64"
	case len(b) != size:
		what = fmt.Sprintf("%d bytes, want %d", len(b), size)
	default:
		return b, nil
	}
	if name == "key" || name == "mac-key" {
		return nil, usagef("invalid value for %s (not shown: key material): %s", flagName(name), what)
	}
	return nil, badValue(name, value, what)
}
