#!/usr/bin/env bash
# prefix.sh PREFIX: makes PREFIX a ready headless Wine prefix for the Windows test
# binaries: `wineboot -i` (no X display needed; Mono and Gecko are not
# installed), then the ProcessPrng stand-in (processprng.c, built with mingw)
# copied into its system32 as bcryptprimitives.dll. Idempotent: a prefix that has
# both is left alone. It touches nothing outside PREFIX.
set -euo pipefail
prefix=${1:?usage: prefix.sh PREFIX}
here=$(cd "$(dirname "$0")" && pwd)
export WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY
sys32="$prefix/drive_c/windows/system32"
if [ ! -f "$prefix/system.reg" ] || [ ! -d "$sys32" ]; then
	mkdir -p "$prefix"
	wineboot -i >"$prefix/wineboot.log" 2>&1 || { cat "$prefix/wineboot.log" >&2; exit 1; }
	wineserver -w
fi
dll="$sys32/bcryptprimitives.dll"
if [ ! -f "$dll" ] || [ "$here/processprng.c" -nt "$dll" ]; then
	x86_64-w64-mingw32-gcc -shared -O2 -s -o "$dll.tmp" "$here/processprng.c" -ladvapi32
	mv "$dll.tmp" "$dll"
fi
