#!/usr/bin/env bash
# `imepipe extract` against `unzip -q` on a ZIP of the Go toolchain tree
# ($(go env GOROOT), ~16,700 files), into the same file system (issue #3,
# acceptance 3).
#
#   bench/extract/run.sh                 # 5 interleaved rounds into /tmp
#   RUNS=7 DIR=/var/tmp bench/extract/run.sh
#
# Every run gets the same start: outputs of earlier runs are kept (moved
# aside, deleted at the end — on ext4 without a journal, creating files
# just after thousands were deleted is much slower, and that would charge
# one contender for the other's cleanup) and, as root, the page cache is
# dropped and the zip read back in. Needs zip, unzip and GNU time
# (installed with apt-get when root).
set -euo pipefail

RUNS=${RUNS:-5}
DIR=${DIR:-/tmp}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need zip || ! need unzip || [ ! -x /usr/bin/time ]; then
  [ "$(id -u)" = 0 ] || { echo "need zip, unzip and /usr/bin/time (run as root to install)" >&2; exit 1; }
  apt-get update -qq && apt-get install -y -qq zip unzip time >/dev/null
fi

top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "$DIR/imepipe-bench-extract.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "building imepipe ..." >&2
(cd "$top" && go build -o "$work/imepipe" ./cmd/imepipe)
goroot=$(go env GOROOT)
echo "zipping $goroot ..." >&2
(cd "$(dirname "$goroot")" && zip -qr "$work/goroot.zip" "$(basename "$goroot")")
entries=$(unzip -Z1 "$work/goroot.zip" | wc -l)
files=$(unzip -Z1 "$work/goroot.zip" | grep -vc '/$' || true)

# run NAME CMD... prints the wall seconds of one run.
run() {
  sync
  if [ "$(id -u)" = 0 ]; then echo 1 >/proc/sys/vm/drop_caches; fi
  cat "$work/goroot.zip" "$work/imepipe" >/dev/null
  /usr/bin/time -f "%e %U %S" -o "$work/time" "${@:2}" >/dev/null
  read -r wall user sys <"$work/time"
  printf '%-8s %6.2f s wall %6.2f s user %6.2f s sys\n' "$1" "$wall" "$user" "$sys" >&2
  echo "$wall"
}

mkdir -p "$work/kept"
u=() i=()
for r in $(seq 1 "$RUNS"); do
  u+=("$(run unzip unzip -q "$work/goroot.zip" -d "$work/u")"); mv "$work/u" "$work/kept/u$r"
  i+=("$(run imepipe "$work/imepipe" extract -o "$work/i" "$work/goroot.zip")"); mv "$work/i" "$work/kept/i$r"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mu=$(median "${u[@]}") mi=$(median "${i[@]}")
echo "GOROOT zip: $entries entries, $files files; medians of $RUNS interleaved rounds into $DIR"
echo "unzip -q         $mu s"
echo "imepipe extract  $mi s"
awk -v u="$mu" -v i="$mi" 'BEGIN {printf "unzip/imepipe    %.2fx\n", u / i}'
