package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/decrypt"
)

func init() {
	register("demo", "first run: pack, inspect and unpack a generated sample, no set-up", runDemo)
}

// runDemo shows the local path end to end on a generated setup folder in
// a temporary directory (kept with --keep). Once the agent exists it
// becomes service, peers and agent on loopback.
func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo")
	keep := fs.Bool("keep", false, "keep the demo folder")
	size := fs.String("size", "64MiB", "size of the sample's installer payload")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	payload, err := humanize.ParseBytes(*size)
	if err != nil {
		return usagef("--size: %v", err)
	}
	work, err := os.MkdirTemp("", "imepipe-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if !*keep {
		defer os.RemoveAll(work)
	}
	say := func(format string, a ...any) { fmt.Fprintf(e.stdout, "==> "+format+"\n", a...) }

	src := filepath.Join(work, "Setup")
	say("generating a sample setup folder in %s (%s installer, a script, a nested folder)", src, humanize.IBytes(payload))
	if err := writeSample(src, int64(payload)); err != nil {
		return err
	}
	out := filepath.Join(work, "Output")
	say("imepipe pack -c %s -s install.cmd -o %s", src, out)
	if err := runPack(ctx, e, []string{"-c", src, "-s", "install.cmd", "-o", out}); err != nil {
		return err
	}
	pkg := filepath.Join(out, "install.intunewin")
	say("imepipe inspect %s", pkg)
	if err := runInspect(ctx, e, []string{pkg}); err != nil {
		return err
	}
	dst := filepath.Join(work, "IMECache", "demo_1")
	say("imepipe unpack -o %s %s", dst, pkg)
	if err := runUnpack(ctx, e, []string{"-o", dst, pkg}); err != nil {
		return err
	}
	say("tampering one byte of the package and unpacking again (must fail, leave nothing)")
	bad := filepath.Join(work, "tampered.intunewin")
	if err := tamper(pkg, bad, 200); err != nil {
		return err
	}
	badOut := filepath.Join(work, "IMECache", "tampered_1")
	if err := runUnpack(ctx, e, []string{"-o", badOut, bad}); err == nil {
		return fmt.Errorf("demo: a tampered package was accepted")
	} else {
		say("refused as expected: %v", err)
	}
	if _, err := os.Stat(badOut); !os.IsNotExist(err) {
		return fmt.Errorf("demo: the failed unpack left %s behind", badOut)
	}
	say("done; %s", map[bool]string{true: "kept " + work, false: "removed the demo folder"}[*keep])
	return nil
}

// writeSample makes a small but realistic setup folder.
func writeSample(root string, payload int64) error {
	rng := rand.New(rand.NewPCG(1, 2))
	files := map[string][]byte{
		"install.cmd":          []byte("@echo off\r\nmsiexec /i app.msi /qn\r\n"),
		"uninstall.cmd":        []byte("@echo off\r\nmsiexec /x app.msi /qn\r\n"),
		"Config\\settings.ini": []byte("[app]\r\nchannel=stable\r\n"),
	}
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(filepathSlash(name)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	f, err := os.Create(filepath.Join(root, "app.msi"))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	buf := make([]byte, 1<<20)
	for left := payload; left > 0; left -= int64(len(buf)) {
		for i := 0; i < len(buf); i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8 && i+j < len(buf); j++ {
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
	return os.Chtimes(root, time.Now(), time.Now())
}

func filepathSlash(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\\' {
			b[i] = '/'
		}
	}
	return string(b)
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
