#!/usr/bin/env bash
# e2e-msi.sh OUT [IMEPIPE_EXE]: the MSI end to end under Wine (issue #15,
# acceptance 2; make demo-windows and the last step of test.sh). On Linux it
# builds orchestrate/rules/testdata/tiny.wxs with wixl, packs it with
# `imepipe pack` (MsiInfo read from the database) and serves it with
# `imepipe serve` on 127.0.0.1; under Wine, IMEPIPE_EXE (imepipe.exe for
# windows/amd64) runs `agent --once`: it downloads, verifies, decrypts,
# extracts, runs `msiexec /i tiny.msi /qn`, detects the product code
# through Windows Installer with a version compare and reports 1000. Then
# the app's assignment becomes an uninstall: the next `agent --once` runs
# `msiexec /x`, and detection says not detected. Every step is checked; the
# first that fails stops the run with one line saying which. Without
# IMEPIPE_EXE (make demo-windows) it makes the Wine prefix ($IMEPIPE_WINEPREFIX,
# as test.sh) and builds imepipe.exe with the os.RemoveAll overlay itself.
# Work files go to OUT/e2e-msi.
set -euo pipefail
out=${1:?usage: e2e-msi.sh OUT [IMEPIPE_EXE]}
exe=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/scripts/windows"
cd "$root"
GO=${GO:-go}
work="$out/e2e-msi"
rm -rf "$work"
mkdir -p "$work/src" "$work/apps" "$work/data"
winpath() { echo "Z:$(echo "$1" | tr / '\\')"; }
fail() { echo "e2e-msi: FAIL: $*" >&2; exit 1; }
step() { echo "e2e-msi: $*"; }
for tool in wine wineserver wixl jq; do
	command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (run make deps-windows as root)"
done
if [ -z "$exe" ]; then
	export WINEPREFIX=${IMEPIPE_WINEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/imepipe/wine}
	export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
	unset DISPLAY
	"$here/prefix.sh" "$WINEPREFIX"
	overlay=$("$here/overlay.sh" "$work")
	exe="$work/imepipe.exe"
	GOOS=windows GOARCH=amd64 $GO build -overlay "$overlay" -o "$exe" ./cmd/imepipe || fail "building imepipe.exe"
	wineserver -p
	own_wineserver=1
fi
: "${WINEPREFIX:?e2e-msi.sh: WINEPREFIX is not set}"

$GO build -o "$work/imepipe" ./cmd/imepipe 2>&1 || fail "building imepipe for Linux"
imepipe="$work/imepipe"

# 1. The MSI (wixl) and its .intunewin (imepipe pack reads the database).
wixl -o "$work/src/tiny.msi" "$root/orchestrate/rules/testdata/tiny.wxs" || fail "wixl"
"$imepipe" pack -q -c "$work/src" -s tiny.msi -o "$work/apps/tiny" || fail "imepipe pack"
info=$("$imepipe" inspect "$work/apps/tiny/tiny.intunewin")
code=$(echo "$info" | sed -n 's/^MsiProductCode *: *//p')
version=$(echo "$info" | sed -n 's/^MsiProductVersion *: *//p')
[ -n "$code" ] && [ -n "$version" ] || fail "pack filled no MsiInfo (product code '$code', version '$version')"
step "packed tiny.msi: product code $code, version $version (MsiInfo from the database)"
app_json() { # $1: intent
	cat <<EOF
{
  "@odata.type": "#microsoft.graph.win32LobApp",
  "id": "6f1d1d2b-15a1-4e5b-9c3d-1b2c3d4e5f15",
  "version": "1",
  "displayName": "imepipe tiny (MSI)",
  "publisher": "imepipe tests",
  "setupFilePath": "tiny.msi",
  "installCommandLine": "msiexec /i tiny.msi /qn",
  "uninstallCommandLine": "msiexec /x $code /qn",
  "installExperience": {"runAsAccount": "system", "deviceRestartBehavior": "basedOnReturnCode", "maxRunTimeInMinutes": 5},
  "rules": [{
    "@odata.type": "#microsoft.graph.win32LobAppProductCodeRule",
    "ruleType": "detection",
    "productCode": "$code",
    "productVersionOperator": "greaterThanOrEqual",
    "productVersion": "$version"
  }],
  "applicableArchitectures": "x64",
  "assignments": [{
    "@odata.type": "#microsoft.graph.mobileAppAssignment",
    "intent": "$1",
    "target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}
  }]
}
EOF
}

# 2. The service on loopback (a free port: serve reports it).
serve_pid=
serve() {
	app_json "$1" >"$work/apps/tiny/app.json"
	: >"$work/serve.log"
	"$imepipe" serve -q --apps "$work/apps" --data "$work/data" --addr 127.0.0.1:0 2>"$work/serve.log" &
	serve_pid=$!
	for _ in $(seq 100); do
		url=$(sed -n 's/^imepipe serve: listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$work/serve.log")
		[ -n "$url" ] && return 0
		kill -0 "$serve_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/serve.log" >&2
	fail "imepipe serve did not start"
}
stop_serve() { [ -z "$serve_pid" ] || { kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; serve_pid=; }; }
own_wineserver=${own_wineserver:-}
cleanup() {
	stop_serve
	[ -z "$own_wineserver" ] || wineserver -k 2>/dev/null || true
}
trap cleanup EXIT

agent_root='C:\imepipe-e2e-msi'
rm -rf "$WINEPREFIX/drive_c/imepipe-e2e-msi"
# Leftovers of an earlier run that stopped half way.
wine msiexec /x "$code" /qn >/dev/null 2>&1 || true
agent() {
	wine "$exe" agent --root "$agent_root" --service "$url" \
		--enrollment-secret-file "$(winpath "$work/data/enrollment-secret")" \
		--device-name wine-pc --peer-addr off --once >>"$work/agent.log" 2>&1
}
status() { wine "$exe" status --root "$agent_root" --json 2>>"$work/agent.log"; }
app_field() { # $1: field of the app's status
	status | jq -r --arg id "6f1d1d2b-15a1-4e5b-9c3d-1b2c3d4e5f15" '.apps[] | select(.appId == $id) | .'"$1"
}
uninstall_key="HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$code"
registered() { wine reg query "$uninstall_key" /reg:32 >/dev/null 2>&1; }
imelog="$WINEPREFIX/drive_c/imepipe-e2e-msi/Logs/IntuneManagementExtension.log"

# 3. Required: the agent under Wine installs it through msiexec.
serve required
step "serving on $url; imepipe.exe agent --once (required)"
agent || { tail -20 "$work/agent.log" >&2; fail "agent --once (install) exited non-zero"; }
enf=$(app_field enforcementState)
rep=$(app_field reported)
[ "$enf" = 1000 ] || { tail -40 "$imelog" >&2; fail "after install: enforcementState $enf, want 1000"; }
[ "$rep" = true ] || fail "after install: not reported to the service"
grep -q 'msiexec /i tiny.msi /qn' "$imelog" || fail "the log shows no msiexec /i run"
grep -q "product code $code version $version greaterThanOrEqual $version: true" "$imelog" ||
	{ grep -i 'product code' "$imelog" | tail -5 >&2; fail "no product code detection with version compare in the log"; }
grep -q 'HMAC and FileDigest verified\|Decryption is done successfully' "$imelog" || fail "no verified decryption in the log"
registered || fail "Windows Installer has no Uninstall key for $code"
[ ! -e "$WINEPREFIX/drive_c/imepipe-e2e-msi/IMECache/6f1d1d2b-15a1-4e5b-9c3d-1b2c3d4e5f15_1" ] ||
	{ grep 'Cleaning up' "$imelog" | tail -3 >&2; fail "IMECache content left after the install"; }
step "installed: enforcementState 1000 reported, detected by product code $code >= $version through Windows Installer"

# 4. Uninstall intent: the agent removes it; detection says not detected.
stop_serve
serve uninstall
step "assignment now uninstall; imepipe.exe agent --once"
agent || { tail -20 "$work/agent.log" >&2; fail "agent --once (uninstall) exited non-zero"; }
grep -q "msiexec /x $code /qn" "$imelog" || fail "the log shows no msiexec /x run"
registered && fail "the product is still registered after the uninstall"
tail -n 60 "$imelog" | grep -q "product code $code not installed (Windows Installer)" ||
	{ tail -20 "$imelog" >&2; fail "detection after uninstall did not say not installed"; }
enf=$(app_field enforcementState)
comp=$(app_field complianceState)
step "uninstalled: msiexec /x ran, product code not installed (enforcementState $enf, complianceState $comp)"
[ "$enf" = 1000 ] || fail "after uninstall: enforcementState $enf, want 1000"
echo "e2e-msi: ok"
