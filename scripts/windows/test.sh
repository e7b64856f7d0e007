#!/usr/bin/env bash
# test.sh [PKG...]: builds every package's tests for windows/amd64 and runs each
# test binary under Wine, in its package folder as `go test` would, then prints
# one summary line per package (tests run / passed / failed / skipped, seconds),
# every skip with its reason, and a closing "windows: N passed, N failed, N
# skipped" line. A whole-tree run (./...) ends with the MSI end to end
# (e2e-msi.sh), counted as one test. Exits non-zero if a build fails, a
# test fails, or a binary dies. A package whose run failed where Wine could
# not start a process is run once more, and its summary line says so.
#
# It needs wine, x86_64-w64-mingw32-gcc, wixl, jq (`make deps-windows` installs
# them) and a Go toolchain. The Wine prefix is $IMEPIPE_WINEPREFIX, by default
# ${XDG_CACHE_HOME:-~/.cache}/imepipe/wine; it is made headless (no X) on first
# use by prefix.sh. The os.RemoveAll workaround is a `go test -overlay` made by
# overlay.sh from this machine's toolchain. Logs and binaries go to
# $IMEPIPE_WINDOWS_OUT (default bin/test-windows). WINE_TEST_TIMEOUT (default 10m)
# bounds each package.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
here="$root/scripts/windows"
GO=${GO:-go}
prefix=${IMEPIPE_WINEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/imepipe/wine}
out=${IMEPIPE_WINDOWS_OUT:-$root/bin/test-windows}
timeout=${WINE_TEST_TIMEOUT:-10m}
[ $# -gt 0 ] || set -- ./...

for tool in wine wineserver x86_64-w64-mingw32-gcc wixl jq; do
	command -v "$tool" >/dev/null 2>&1 || { echo "test-windows: $tool is missing (run make deps-windows as root)" >&2; exit 1; }
done

start=$(date +%s)
rm -rf "$out"
mkdir -p "$out/bin" "$out/log"
"$here/prefix.sh" "$prefix"
# The patched copy lives outside the module, so ./... and gofmt never see it.
tmp=$(mktemp -d)
overlay=$("$here/overlay.sh" "$tmp")

# nginx is a Linux program the Windows binaries cannot start: its tests skip
# here even when CI makes them mandatory for make test.
unset IMEPIPE_INTEGRATION
export WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY
# One wineserver for the whole run (each binary would otherwise start its own);
# -k at exit stops only this prefix's server.
wineserver -p
pgdir=$(mktemp -d)
trap 'wineserver -k 2>/dev/null || true; "$here/pg.sh" stop "$pgdir"; rm -rf "$tmp" "$pgdir"' EXIT
# PostgreSQL, if installed, for the store tests (pg.sh: a cluster on the Linux side).
if addr=$("$here/pg.sh" start "$pgdir") && [ -n "$addr" ]; then
	export IMEPIPE_PGTEST_ADDR=$addr
	echo "test-windows: PostgreSQL for the store tests on $addr"
fi

# Packages that have tests on Windows: "importpath dir".
mapfile -t pkgs < <(GOOS=windows GOARCH=amd64 $GO list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' "$@" | grep .)

# Tests that run the imepipe CLI as a program (bench) take this one: no Go
# toolchain runs inside Wine to build it. Wine maps / to Z:.
GOOS=windows GOARCH=amd64 $GO build -overlay "$overlay" -o "$out/bin/imepipe.exe" ./cmd/imepipe
export IMEPIPE_BIN="Z:$(echo "$out/bin/imepipe.exe" | tr / '\\')"

# The MSI the Windows Installer tests install (orchestrate/rules), built
# here by wixl from its WiX source; its product code and version are read
# from that source and passed on.
wxs="$root/orchestrate/rules/testdata/tiny.wxs"
wixl -o "$out/bin/tiny.msi" "$wxs"
export IMEPIPE_TEST_MSI="Z:$(echo "$out/bin/tiny.msi" | tr / '\\')"
IMEPIPE_TEST_MSI_CODE=$(sed -n 's/.*<Product Id="\([^"]*\)".*/\1/p' "$wxs")
IMEPIPE_TEST_MSI_VERSION=$(sed -n 's/.* Version="\([0-9.]*\)".*/\1/p' "$wxs" | head -1)
export IMEPIPE_TEST_MSI_CODE IMEPIPE_TEST_MSI_VERSION

failed_pkgs=()
total_pass=0 total_fail=0 total_skip=0
summary="$out/summary.txt"
: >"$summary"
for entry in "${pkgs[@]}"; do
	pkg=${entry%% *}
	dir=${entry#* }
	name=$(echo "${pkg#github.com/imepipe/imepipe/}" | tr '/' '_')
	exe="$out/bin/$name.test.exe"
	log="$out/log/$name.log"
	t0=$(date +%s)
	if ! GOOS=windows GOARCH=amd64 $GO test -c -overlay "$overlay" -o "$exe" "$pkg" >"$log" 2>&1; then
		echo "BUILD FAILED $pkg" | tee -a "$summary"
		sed 's/^/    /' "$log" | head -20 || true
		failed_pkgs+=("$pkg (build)")
		continue
	fi
	rc=0
	(cd "$dir" && timeout -k 30s "$timeout" wine "$exe" -test.v -test.count=1 -test.timeout="$timeout") >>"$log" 2>&1 || rc=$?
	rerun=
	# Wine now and then fails to start a child process: the new process
	# dies in Wine's loader, before its entry point, and CreateProcess
	# reports ERROR_INTERNAL_ERROR ("fork/exec …: Internal error."). No
	# code of the child ran, so such a package is run once more, and the
	# summary says so; the first run's log is kept beside it.
	if [ "$rc" != 0 ] && grep -q 'fork/exec .*: Internal error\.' "$log"; then
		mv "$log" "$log.first"
		rerun=" (rerun: Wine failed to start a process)"
		rc=0
		(cd "$dir" && timeout -k 30s "$timeout" wine "$exe" -test.v -test.count=1 -test.timeout="$timeout") >>"$log" 2>&1 || rc=$?
	fi
	secs=$(( $(date +%s) - t0 ))
	# Top-level results only (subtests are indented).
	pass=$(grep -c '^--- PASS' "$log" || true)
	fail=$(grep -c '^--- FAIL' "$log" || true)
	skip=$(grep -c '^--- SKIP' "$log" || true)
	total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail)); total_skip=$((total_skip + skip))
	status=ok
	if [ "$rc" != 0 ] || [ "$fail" != 0 ]; then
		status=FAIL
		[ "$fail" != 0 ] || status="FAIL (exit $rc)"
		failed_pkgs+=("$pkg")
	fi
	printf '%-6s %-40s run %3d  pass %3d  fail %3d  skip %3d  %4ds%s\n' \
		"$status" "${pkg#github.com/imepipe/imepipe/}" $((pass + fail + skip)) "$pass" "$fail" "$skip" "$secs" "$rerun" | tee -a "$summary"
	if [ -n "$rerun" ]; then
		grep -E 'fork/exec .*: Internal error\.' "$log.first" | head -3 | sed 's/^/    first run: /' || true
	fi
	if [ "$status" != ok ]; then
		grep -E '^(--- FAIL|panic:|FAIL|\s+\S+_test\.go:[0-9]+:)' "$log" | head -30 | sed 's/^/    /' || true
	fi
done

# The MSI end to end (issue #15, acceptance 2): imepipe serve on Linux,
# imepipe.exe agent --once under Wine; one test in the counts. Only on a
# whole-tree run (no package arguments given, or ./...).
if [ "$*" = "./..." ]; then
	t0=$(date +%s)
	if "$here/e2e-msi.sh" "$out" "$out/bin/imepipe.exe" >"$out/log/e2e-msi.log" 2>&1; then
		status=ok pass=1 fail=0
	else
		status=FAIL pass=0 fail=1
		failed_pkgs+=("e2e-msi")
	fi
	total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail))
	printf '%-6s %-40s run %3d  pass %3d  fail %3d  skip %3d  %4ds\n' \
		"$status" "e2e-msi (scripts/windows/e2e-msi.sh)" 1 "$pass" "$fail" 0 $(( $(date +%s) - t0 )) | tee -a "$summary"
	[ "$status" = ok ] || tail -20 "$out/log/e2e-msi.log" | sed 's/^/    /'
fi

echo
echo "skips (test: reason):"
for log in "$out"/log/*.log; do
	# The reason is the last log line the test printed before its --- SKIP.
	awk -v pkg="$(basename "$log" .log)" '
		/^=== (RUN|CONT)/ { last = "" }
		/^    [^ ].*_test\.go:[0-9]+:/ { last = $0; sub(/^ +/, "", last) }
		/^--- SKIP/ { printf "  %s %s: %s\n", pkg, $3, last }
	' "$log"
done | tee "$out/skips.txt"

total=$((total_pass + total_fail + total_skip))
echo
echo "test-windows: $total top-level tests in ${#pkgs[@]} packages, $(( $(date +%s) - start ))s; logs in $out"
if [ ${#failed_pkgs[@]} -gt 0 ]; then
	printf 'test-windows: failed: %s\n' "${failed_pkgs[@]}"
fi
echo "windows: $total_pass passed, $total_fail failed, $total_skip skipped"
[ ${#failed_pkgs[@]} -eq 0 ]
