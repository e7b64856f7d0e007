package main

import (
	"context"
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
	outDir := fs.String("o", "", "output folder (default: the file's name without extension)")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	workers := fs.Int("j", 0, "extraction workers (0: one per CPU)")
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
	if *keysFile != "" {
		if k, err = readKeysFile(*keysFile, e.stdin); err != nil {
			return err
		}
	} else if raw {
		if k, err = rawKeys(*key, *iv, *macKey, *mac, *digest); err != nil {
			return err
		}
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
	var total int64
	if st, err := os.Stat(path); err == nil {
		total = st.Size()
	}
	bar := newProgress(e, *jsonOut, "unpack", total)
	opt := decrypt.UnpackOptions{Workers: *workers, Replace: replace, Progress: bar.Add}
	start := time.Now()
	var res decrypt.UnpackResult
	if raw {
		res, err = decrypt.UnpackRaw(ctx, path, k, dir, opt)
	} else {
		res, err = decrypt.Unpack(ctx, path, dir, opt)
	}
	bar.Done()
	if err != nil {
		if lerr := lfsPointer(path); lerr != nil {
			return lerr
		}
		return existsHint(packageHint(path, err), dir)
	}
	secs := time.Since(start).Seconds()
	verified := res.Open.Verified()
	if raw && !res.Open.MacChecked {
		fmt.Fprintln(e.stderr, "imepipe unpack: warning: HMAC not checked (give --mac-key and --mac to verify)")
	}
	if *jsonOut {
		doc := map[string]any{
			"dir": dir, "files": res.Extract.Files, "dirs": res.Extract.Dirs, "bytes": res.Extract.Bytes,
			"verified": verified, "macChecked": res.Open.MacChecked, "digestChecked": res.Open.DigestChecked,
			"encryptedSize": res.Open.CipherSize, "zipSize": res.Open.PlainSize, "seconds": secs,
			"setupFile": "", "toolVersion": "", "name": "",
		}
		if res.Info != nil {
			doc["setupFile"], doc["toolVersion"], doc["name"] = res.Info.SetupFile, res.Info.ToolVersion, res.Info.Name
		}
		return writeJSON(e, doc)
	}
	check := "HMAC and FileDigest verified"
	if !verified {
		check = fmt.Sprintf("HMAC checked: %v, FileDigest checked: %v", res.Open.MacChecked, res.Open.DigestChecked)
	}
	sayf(e.stdout, "unpacked %s (%s): %s, %s into %s (%s) in %.2fs", filepath.Base(path),
		humanize.IBytes(uint64(total)), plural(res.Extract.Files, "file"), humanize.IBytes(uint64(res.Extract.Bytes)), dir, check, secs)
	return nil
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
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("output folder: %w", err)
	}
	if len(ents) > 0 {
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

func rawKeys(key, iv, macKey, mac, digest string) (decrypt.Keys, error) {
	k := decrypt.Keys{Size: -1}
	var err error
	if k.EncryptionKey, err = decrypt.DecodeKey("--key", key, decrypt.KeySize); err != nil {
		return k, err
	}
	if k.IV, err = decrypt.DecodeKey("--iv", iv, decrypt.IVSize); err != nil {
		return k, err
	}
	if (macKey == "") != (mac == "") {
		return k, usagef("--mac-key and --mac go together")
	}
	if macKey != "" {
		if k.MacKey, err = decrypt.DecodeKey("--mac-key", macKey, decrypt.KeySize); err != nil {
			return k, err
		}
		if k.Mac, err = decrypt.DecodeKey("--mac", mac, decrypt.MacSize); err != nil {
			return k, err
		}
	}
	if digest != "" {
		if k.FileDigest, err = decrypt.DecodeKey("--digest", digest, decrypt.DigestSize); err != nil {
			return k, err
		}
	}
	return k, nil
}
