package bench

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"

	"github.com/imepipe/imepipe/decrypt"
)

// Names of the contenders Local times.
const (
	NameImepipe = "imepipe"
	NameStdlib  = "sequential-stdlib"
	NameTools   = "tools"
)

// StdlibCommand is the hidden subcommand of `imepipe bench` that runs
// StdlibUnpack in a child process: imepipe bench StdlibCommand PKG DIR.
const StdlibCommand = "baseline-stdlib"

// Contender is one way of unpacking a package, run as a child process so
// that its rusage can be read.
type Contender struct {
	Name string
	// Command returns the process that verifies, decrypts and extracts
	// pkg into dir, a folder that does not exist yet. scratch is an
	// empty folder on the same filesystem for staging files.
	Command func(ctx context.Context, pkg, dir, scratch string) *exec.Cmd
}

// Imepipe runs the imepipe binary exe: unpack -o DIR PKG.
func Imepipe(exe string) Contender {
	return Contender{Name: NameImepipe, Command: func(ctx context.Context, pkg, dir, _ string) *exec.Cmd {
		return exec.CommandContext(ctx, exe, "unpack", "-o", dir, pkg)
	}}
}

// Stdlib runs StdlibUnpack in a child process of the imepipe binary exe.
func Stdlib(exe string) Contender {
	return Contender{Name: NameStdlib, Command: func(ctx context.Context, pkg, dir, _ string) *exec.Cmd {
		return exec.CommandContext(ctx, exe, "bench", StdlibCommand, pkg, dir)
	}}
}

// toolsScript is the tools baseline: unzip and openssl, one step after
// the other, through files in the scratch folder. Keys come from the
// environment and are never printed. Info-ZIP unzip exits 1 after mere
// warnings (such as backslash separators); the tree is checked anyway.
const toolsScript = `set -eu -o pipefail
pkg=$1 dir=$2 enc=$3/enc zip=$3/inner.zip
unzip -p "$pkg" IntuneWinPackage/Contents/IntunePackage.intunewin > "$enc"
mac=$(tail -c +33 "$enc" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$IMEPIPE_BENCH_MAC_KEY" -r)
if [ "${mac%% *}" != "$IMEPIPE_BENCH_MAC" ]; then echo "tools: HMAC mismatch" >&2; exit 3; fi
tail -c +49 "$enc" | openssl enc -d -aes-256-cbc -K "$IMEPIPE_BENCH_KEY" -iv "$IMEPIPE_BENCH_IV" > "$zip"
rm -f "$enc"
sum=$(openssl dgst -sha256 -r "$zip")
if [ "${sum%% *}" != "$IMEPIPE_BENCH_DIGEST" ]; then echo "tools: FileDigest mismatch" >&2; exit 3; fi
rc=0
unzip -q "$zip" -d "$dir" || rc=$?
rm -f "$zip"
if [ "$rc" -gt 1 ]; then exit "$rc"; fi
`

// ToolsMissing names the first program the tools baseline needs that is
// not on PATH, or returns "" when all are there.
func ToolsMissing() string {
	for _, p := range []string{"bash", "unzip", "openssl", "tail"} {
		if _, err := exec.LookPath(p); err != nil {
			return p
		}
	}
	return ""
}

// Tools runs the unzip + openssl script with the keys of the package at
// pkgPath, read once here.
func Tools(pkgPath string) (Contender, error) {
	pkg, f, err := decrypt.OpenFile(pkgPath)
	if err != nil {
		return Contender{}, fmt.Errorf("bench: tools: %w", err)
	}
	f.Close()
	k, err := pkg.Info.Keys()
	if err != nil {
		return Contender{}, fmt.Errorf("bench: tools: %w", err)
	}
	env := append(os.Environ(),
		"IMEPIPE_BENCH_MAC_KEY="+hex.EncodeToString(k.MacKey),
		"IMEPIPE_BENCH_MAC="+hex.EncodeToString(k.Mac),
		"IMEPIPE_BENCH_KEY="+hex.EncodeToString(k.EncryptionKey),
		"IMEPIPE_BENCH_IV="+hex.EncodeToString(k.IV),
		"IMEPIPE_BENCH_DIGEST="+hex.EncodeToString(k.FileDigest),
		"LC_ALL=C",
	)
	return Contender{Name: NameTools, Command: func(ctx context.Context, pkg, dir, scratch string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "bash", "-c", toolsScript, NameTools, pkg, dir, scratch)
		cmd.Env = env
		return cmd
	}}, nil
}
