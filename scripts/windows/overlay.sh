#!/usr/bin/env bash
# overlay.sh DIR: writes DIR/overlay.json for `go test -overlay`, replacing the
# toolchain's internal/syscall/windows/at_windows.go with a copy whose Deleteat
# also falls back to the old delete path on STATUS_NOT_IMPLEMENTED (0xC0000002).
#
# Why: Wine 8 answers NtSetInformationFile(FileDispositionInformationEx) with
# STATUS_NOT_IMPLEMENTED, and os.RemoveAll (through Deleteat) stops there with
# "Invalid function" instead of falling back as it does for
# STATUS_INVALID_INFO_CLASS. Real Windows 10/11 never returns it, so the copy
# changes nothing there. The copy is made from the toolchain on this machine
# (`go env GOROOT`), so it follows Go upgrades; if the fallback list is not where
# this script expects it, it fails loudly rather than run tests without the fix.
# Nothing in the product code uses or needs this.
set -euo pipefail
dir=${1:?usage: overlay.sh DIR}
GO=${GO:-go}
src="$($GO env GOROOT)/src/internal/syscall/windows/at_windows.go"
[ -f "$src" ] || { echo "overlay: $src not found" >&2; exit 1; }
mkdir -p "$dir"
out="$dir/at_windows.go"
anchor='STATUS_INVALID_INFO_CLASS, // the operating system doesn'"'"'t support FileDispositionInformationEx'
if ! grep -qF "$anchor" "$src"; then
	echo "overlay: the FileDispositionInformationEx fallback list in $src changed; update scripts/windows/overlay.sh" >&2
	exit 1
fi
# The anchor line is "case STATUS_INVALID_INFO_CLASS, // ...": add one more
# value to that case list right after it.
awk -v anchor="$anchor" '
	{ print }
	index($0, anchor) && !done {
		print "\t\tNTStatus(0xC0000002), // STATUS_NOT_IMPLEMENTED: Wine 8 (imepipe test overlay)"
		done = 1
	}
' "$src" >"$out"
grep -q 'NTStatus(0xC0000002)' "$out" || { echo "overlay: patch did not apply" >&2; exit 1; }
printf '{"Replace":{"%s":"%s"}}\n' "$src" "$out" >"$dir/overlay.json"
echo "$dir/overlay.json"
