package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/imepipe/imepipe/decrypt"
)

// writeSample makes a small but realistic setup folder: a payload, an
// install script with a chained step that outlives it, an uninstall
// script and a nested config folder.
func writeSample(root string, payload int64) error {
	files := map[string]string{
		"install.sh": "set -e\n" +
			"mkdir -p \"$ProgramFiles/Contoso/Demo\"\n" +
			"cp app.msi \"$ProgramFiles/Contoso/Demo/app.msi\"\n" +
			"# A chained installer that starts when this script exits and still needs\n" +
			"# IMECache then: the IME's cleaner would already have deleted it.\n" +
			"mkfifo .chain\n" +
			"( read _ < .chain || true; cp Config/settings.ini \"$ProgramFiles/Contoso/Demo/settings.ini\" ) &\n" +
			"exec 3> .chain\n",
		"uninstall.sh":        "rm -rf \"$ProgramFiles/Contoso/Demo\"\n",
		"Config/settings.ini": "[app]\r\nchannel=stable\r\n",
	}
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	f, err := os.Create(filepath.Join(root, "app.msi"))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1<<20)
	for left := payload; left > 0; left -= int64(len(buf)) {
		for i := 0; i+8 <= len(buf); i += 8 {
			v := rng.Uint64()
			for j := range 8 {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		if _, err := f.Write(buf[:min(int64(len(buf)), left)]); err != nil {
			f.Close()
			return fmt.Errorf("demo: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// tamper copies a package with one bit flipped inside the encrypted content.
func tamper(src, dst string, at int64) error {
	pkg, f, err := decrypt.OpenFile(src)
	if err != nil {
		return err
	}
	_, off, _ := pkg.Content.Outer()
	f.Close()
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	data[off+at] ^= 1
	return os.WriteFile(dst, data, 0o644)
}
