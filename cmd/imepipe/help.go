package main

import (
	"flag"
	"fmt"
	"io"
)

// helpText is what `imepipe CMD --help` prints above the flags: the
// arguments, what the command does, and examples to copy.
type helpText struct {
	usage    string   // after "usage: imepipe ": the command, its arguments and [flags]
	about    string   // a few lines; may be empty
	examples []string // command lines, without the leading "imepipe "
}

// helps is keyed by the name given to newFlags ("grs", "do status",
// "bench fleet"). Every registered command has an entry (TestHelpTable).
var helps = map[string]helpText{
	"agent": {
		usage: "agent [--service URL --enrollment-secret-file FILE] [--root DIR] [--once] [flags]",
		about: "Run the endpoint agent: enroll (first run), sync, detect, download, install, report.\n" +
			"--service and --enrollment-secret-file are needed until the root is enrolled (without them\n" +
			"an un-enrolled root is refused, exit 2). --once exits 1 when any app failed, one line each.\n" +
			"In download modes 1 and 2 the DO cache is shared with peers on :7680 (--peer-addr off: not);\n" +
			"--lan-id and --group-id place the agent in a DO LAN and group (Group and Internet peers).\n" +
			"Default --root for every command: $IMEPIPE_ROOT, else %ProgramData%\\imepipe (Windows),\n" +
			"/var/lib/imepipe (as root), $XDG_STATE_HOME/imepipe or ~/.local/state/imepipe.",
		examples: []string{
			"agent --service https://127.0.0.1:8080 --ca-file imepipe-data/ca.pem --enrollment-secret-file imepipe-data/enrollment-secret --root /var/lib/imepipe --once",
			"agent --root /var/lib/imepipe --persist-max-size 20GiB --persist-max-apps 40",
			"agent --once --download-mode 2 --lan-id branch-1 --group-id contoso",
		},
	},
	"apps": {
		usage: "apps check DIR [--json] [--allow-unsupported]",
		about: "Load an apps folder exactly as serve would (app.json, filters.json, each package's keys),\n" +
			"without writing anything, and print per app folder its id, displayName, content version,\n" +
			"loaded or why it is refused, and its ignored and unsupported fields. Exit 1 when any app is refused.",
		examples: []string{"apps check ./apps", "apps check ./apps --json"},
	},
	"apps check": {
		usage:    "apps check DIR [--json] [--allow-unsupported]",
		about:    "Load an apps folder as serve would and list each app's verdict; exit 1 when any app is refused.",
		examples: []string{"apps check ./apps --json"},
	},
	"bench": {
		usage: "bench [local|fleet|service|sync] [flags]",
		about: "Benchmarks on generated data against baselines; without a BENCHMARK, the end-to-end one:\n" +
			"service, origin, Connected Cache and agents on loopback; the IME's sequential\n" +
			"download-verify-decrypt-unzip against imepipe from the origin, a warm cache and a LAN peer.\n" +
			"  local   unpack a generated package with imepipe, a sequential stdlib program and unzip+openssl\n" +
			"  fleet   N agents on loopback share one package through DO peers; origin bytes vs mode 0\n" +
			"  service N agents' API requests against serve on bbolt and on PostgreSQL: req/s, p50, p99\n" +
			"  sync    one agent syncs N required apps, the next downloading while one installs, vs one after another\n" +
			"Each run reports its own process's CPU seconds and peak RSS and its time over the local-unpack floor.\n" +
			"imepipe bench local|fleet|service|sync --help list their flags; these are the end-to-end one's.",
		examples: []string{"bench --size 256MiB --runs 1", "bench local --size 1GiB", "bench fleet --agents 10 --size 128MiB", "bench service --agents 500", "bench sync --apps 10 --size 100MiB --origin-rate 200MiB --install-seconds 2"},
	},
	"bench sync": {
		usage:    "bench sync [flags]",
		about:    "One agent syncs N required apps with its look-ahead (the next apps download and unpack while one installs) and one after another (--prefetch 0), interleaved.",
		examples: []string{"bench sync --apps 10 --size 100MiB --origin-rate 200MiB --install-seconds 2 --json"},
	},
	"bench local": {
		usage:    "bench local [flags]",
		about:    "Unpack a generated package with imepipe, a sequential standard-library program and unzip+openssl, side by side.",
		examples: []string{"bench local --size 300MiB --profile many-small --runs 3"},
	},
	"bench fleet": {
		usage:    "bench fleet [flags]",
		about:    "N agents on loopback share one package through DO peers; origin bytes and completion against mode 0.",
		examples: []string{"bench fleet --agents 20 --size 1GiB --origin-rate 100MiB"},
	},
	"bench service": {
		usage: "bench service [--agents 100] [--store both|bbolt|postgres] [--postgres URL] [--json]",
		about: "N simulated agents on loopback enroll, then ask for policies and content info and send reports, a bounded\n" +
			"number in flight; requests/s, p50 and p99 per kind with serve on bbolt, on PostgreSQL, and two serve\n" +
			"processes on one PostgreSQL (agents enroll on one and ask the other). Without --postgres a private cluster\n" +
			"is started (initdb; Debian's postgresql package).",
		examples: []string{"bench service --agents 500", "bench service --store postgres --postgres postgres://bench@db.lan/bench --json"},
	},
	"bench baseline-stdlib": {
		usage: "bench baseline-stdlib PKG DIR",
		about: "Internal: the sequential standard-library child process that bench local times.",
	},
	"demo": {
		usage:    "demo [--size SIZE] [--keep]",
		about:    "First run: pack an app, serve it, and let five agents install it, sharing it as LAN, Group and Internet peers, all on loopback in a temporary folder.",
		examples: []string{"demo", "demo --size 16MiB --keep"},
	},
	"do": {
		usage:    "do status [--root DIR] [--json|--table] | do pin|unpin [--root DIR] FILEID",
		about:    "Delivery Optimization: the DO records of an agent root, as Get-DeliveryOptimizationStatus prints them, and its cache policy; pin or unpin a file in the DO cache (Set-DeliveryOptimizationStatus -Pin).",
		examples: []string{"do status --root /var/lib/imepipe", "do pin --root /var/lib/imepipe FILEID"},
	},
	"do status": {
		usage:    "do status [--root DIR] [--json|--table]",
		about:    "The DO records of an agent root, as Get-DeliveryOptimizationStatus | Format-List prints them (--table: as Format-Table), then the DO cache policy in force.",
		examples: []string{"do status --root /var/lib/imepipe --table", "do status --root /var/lib/imepipe --json"},
	},
	"do pin": {
		usage:    "do pin [--root DIR] FILEID",
		about:    "Pin a file in the DO cache: it is kept whatever DOMaxCacheAge and the size cap say (Set-DeliveryOptimizationStatus -FileId FILEID -Pin $true).",
		examples: []string{"do pin --root /var/lib/imepipe FILEID"},
	},
	"do unpin": {
		usage:    "do unpin [--root DIR] FILEID",
		about:    "Unpin a file in the DO cache: the cache policy applies to it again.",
		examples: []string{"do unpin --root /var/lib/imepipe FILEID"},
	},
	"extract": {
		usage:    "extract [-o DIR] [--force] [-j N] [--json] FILE.zip",
		about:    "Extract a ZIP safely (no entry may leave DIR) and in parallel into a new folder.",
		examples: []string{"extract -o setup setup.zip"},
	},
	"fetch": {
		usage: "fetch [-o FILE] [flags] URL",
		about: "Download URL resumably over many connections. A file already complete (same size and\n" +
			"validators, or --sha256) is left alone without downloading; --force starts over.",
		examples: []string{"fetch -o app.intunewin.bin --connections 8 https://example.test/blobs/app.bin", "fetch --force --sha256 HEX https://example.test/app.bin"},
	},
	"grs": {
		usage:    "grs reset APPID[_REV] [--root DIR]",
		about:    "Clear an app's attempts and GRS (global re-evaluation schedule) so it is tried at the next sync;\nAPPID resets every revision, APPID_REV (as status prints it) one. An unknown app is an error.",
		examples: []string{"grs reset 0b5c7c3e-6f0d-4a8e-9d3b-1c2e3f4a5b6c_1 --root /var/lib/imepipe"},
	},
	"health": {
		usage:    "health [--root DIR] [--json]",
		about:    "Check an agent root: layout, enrollment, last sync. Exit 1 when unhealthy.",
		examples: []string{"health --root /var/lib/imepipe"},
	},
	"inspect": {
		usage:    "inspect [--json] [--show-keys] FILE.intunewin",
		about:    "Show an .intunewin's Detection.xml facts; the keys stay hidden unless --show-keys.",
		examples: []string{"inspect Setup.intunewin", "inspect --json --show-keys Setup.intunewin > keys.json"},
	},
	"install": {
		usage:    "install APPID [--root DIR] [--json]",
		about:    "Install an available app now, as from the Company Portal.",
		examples: []string{"install 0b5c7c3e-6f0d-4a8e-9d3b-1c2e3f4a5b6c --root /var/lib/imepipe"},
	},
	"uninstall": {
		usage:    "uninstall APPID [--root DIR] [--json]",
		about:    "Uninstall an available app now.",
		examples: []string{"uninstall 0b5c7c3e-6f0d-4a8e-9d3b-1c2e3f4a5b6c --root /var/lib/imepipe"},
	},
	"mcc": {
		usage:    "mcc --dir DIR --origins HOST[:PORT],... [--addr HOST:PORT] [--scheme http|https]",
		about:    "Run a Connected-Cache-style caching HTTP server (requests carry ?cacheHostOrigin=).",
		examples: []string{"mcc --dir /srv/mcc --origins 127.0.0.1:8080 --addr 127.0.0.1:8090"},
	},
	"pack": {
		usage: "pack -c SETUP_FOLDER -s SETUP_FILE -o OUTPUT_FOLDER [-a CATALOG_FOLDER] [-q] [flags]",
		about: "Make an .intunewin from a setup folder, as IntuneWinAppUtil does (same -c -s -o -a -q).\n" +
			"All of SETUP_FOLDER is packed; a warning says when it looks like much more than the app.",
		examples: []string{"pack -c ./Setup -s setup.exe -o ./out", "pack -c ./Setup -s setup.msi -o ./out -a ./Catalogs -q"},
	},
	"reg": {
		usage: "reg add|query|delete KEY [/v NAME | /ve | /va] [/t TYPE] [/d DATA] [/f] [--root DIR] [--json]",
		about: "The agent's emulated registry, with reg.exe's arguments.",
		examples: []string{`reg query HKLM\SOFTWARE\Contoso --root /var/lib/imepipe`,
			`reg add HKLM\SOFTWARE\Contoso /v Version /t REG_SZ /d 1.0 /f`},
	},
	"serve": {
		usage: "serve --apps DIR [--data DIR] [--addr HOST:PORT] [--tls] [flags]",
		about: "Run the emulated cloud service (Intune + DO) over an apps folder: one folder per app with app.json and one .intunewin.",
		examples: []string{"serve --apps ./apps --data ./imepipe-data --tls",
			"serve --apps ./apps --data ./node1 --store postgres://imepipe@db.lan/imepipe"},
	},
	"status": {
		usage:    "status [--root DIR] [--json]",
		about:    "Show the agent's apps: intent, enforcement and compliance states, attempts, GRS, errors.",
		examples: []string{"status --root /var/lib/imepipe"},
	},
	"version": {
		usage:    "version",
		about:    "Print imepipe's version and the commit it was built from, the Go toolchain and platform, and the\nIntuneWinAppUtil ToolVersion pack writes. imepipe --version prints the same line.",
		examples: []string{"version"},
	},
	"sync": {
		usage:    "sync [app|compliance] [--root DIR]",
		about:    "Make the agent sync now (app sync by default).",
		examples: []string{"sync --root /var/lib/imepipe", "sync compliance"},
	},
	"unpack": {
		usage: "unpack [-o DIR] [--force] [flags] FILE.intunewin\n       imepipe unpack --keys-file KEYS.json [flags] FILE.intunewin.bin",
		about: "Verify, decrypt and extract an .intunewin, or a raw encrypted .bin (IMECache's, the\n" +
			"service's blob) with its keys from --keys-file (inspect --json --show-keys) or --key/--iv.",
		examples: []string{"unpack -o setup Setup.intunewin", "unpack --keys-file keys.json -o setup app.intunewin.bin"},
	},
}

// printHelp prints the help of fs's command on the stdout newFlags saw.
func printHelp(fs *flag.FlagSet) {
	v, ok := helpOut.Load(fs)
	if !ok {
		return
	}
	w := v.(io.Writer)
	writeHelp(w, cmdName(fs), fs)
}

// writeHelp prints name's help text and, when fs is not nil, its flags.
func writeHelp(w io.Writer, name string, fs *flag.FlagSet) {
	h, ok := helps[name]
	if !ok {
		h = helpText{usage: name + " [flags]"}
	}
	fmt.Fprintf(w, "usage: imepipe %s\n", h.usage)
	if h.about != "" {
		fmt.Fprintf(w, "\n%s\n", h.about)
	}
	if len(h.examples) > 0 {
		fmt.Fprintln(w, "\nexamples:")
		for _, ex := range h.examples {
			fmt.Fprintf(w, "  imepipe %s\n", ex)
		}
	}
	if fs != nil {
		writeFlags(w, fs)
	}
	fmt.Fprintf(w, "\n%s\n", exitStatusLine)
}
