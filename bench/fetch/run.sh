#!/usr/bin/env bash
# Side-by-side download speed and memory of `imepipe fetch` against aria2c
# and curl, from a private nginx on 127.0.0.1 (issue #4, acceptance 3 and 4).
#
#   bench/fetch/run.sh            # 1 GiB throttled + unthrottled, 4 GiB RSS
#   SIZE_MIB=256 RUNS=1 bench/fetch/run.sh   # a quicker pass
#
# Needs nginx, aria2c, curl and GNU time (installed with apt-get when root).
# Figures go to stdout as a table; the work directory is removed at the end.
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-1024}     # the throttled/unthrottled file
BIG_MIB=${BIG_MIB:-4096}       # the sparse file for the RSS check
RUNS=${RUNS:-3}                # unthrottled repetitions (best and median shown)
RATE=${RATE:-25000000}         # nginx limit_rate per connection, bytes/s (25 MB/s)
CONNS=${CONNS:-8}
PARTS=${PARTS:-"throttled unthrottled rss"}   # which measurements to run

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx || ! need aria2c || ! need curl || [ ! -x /usr/bin/time ]; then
  [ "$(id -u)" = 0 ] || { echo "need nginx, aria2c, curl, /usr/bin/time (run as root to install)" >&2; exit 1; }
  apt-get update -qq && apt-get install -y -qq nginx-light aria2 curl time >/dev/null
fi

top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/imepipe-bench-fetch.XXXXXX)
ngx_pid=""
cleanup() {
  [ -n "$ngx_pid" ] && kill "$ngx_pid" 2>/dev/null && wait "$ngx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building imepipe ..." >&2
(cd "$top" && go build -o "$work/imepipe" ./cmd/imepipe)

mkdir -p "$work/www" "$work/ngx/tmp" "$work/out"
echo "writing a ${SIZE_MIB} MiB random file and a ${BIG_MIB} MiB sparse file ..." >&2
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$work/www/file.bin"
truncate -s "$((BIG_MIB << 20))" "$work/www/sparse.bin"
want=$(sha256sum "$work/www/file.bin" | cut -d' ' -f1)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
strict=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/ngx/nginx.conf" <<CONF
worker_processes 1;
pid $work/ngx/nginx.pid;
error_log $work/ngx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/ngx/tmp; proxy_temp_path $work/ngx/tmp; fastcgi_temp_path $work/ngx/tmp;
  uwsgi_temp_path $work/ngx/tmp; scgi_temp_path $work/ngx/tmp;
  sendfile on; keepalive_requests 100000;
  server {
    listen 127.0.0.1:$port; root $work/www;
    location /slow/ { alias $work/www/; limit_rate $RATE; }
  }
  # The same throttle with a small socket send buffer: nginx's limit_rate
  # is per request and lets each request start with a send buffer's worth
  # at full speed, which a client making many small requests would enjoy.
  server {
    listen 127.0.0.1:$strict sndbuf=64k; root $work/www;
    location /slow/ { alias $work/www/; limit_rate $RATE; }
  }
}
CONF
user=""; [ "$(id -u)" = 0 ] && user="user root;"
nginx -p "$work/ngx" -c "$work/ngx/nginx.conf" -g "daemon off; $user" &
ngx_pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done

# timed NAME CMD...: runs CMD, checks the output's SHA-256, prints seconds.
timed() {
  local name=$1; shift
  rm -f "$work/out/"*
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/err" || { echo "$name failed: $(tail -1 "$work/err")" >&2; exit 1; }
  t1=$(date +%s.%N)
  local got
  got=$(sha256sum "$work/out/file.bin" | cut -d' ' -f1)
  [ "$got" = "$want" ] || { echo "$name: wrong SHA-256" >&2; exit 1; }
  echo "$t1 - $t0" | bc -l
}

aria() { aria2c -q -x"$CONNS" -s"$CONNS" -k1M --file-allocation=none --allow-overwrite=true -d "$work/out" -o file.bin "$1"; }
curlget() { curl -s -o "$work/out/file.bin" "$1"; }
ime() { "$work/imepipe" fetch --connections "$CONNS" -o "$work/out/file.bin" "$1"; }

mbps() { echo "scale=1; $SIZE_MIB * 1048576 / $1 / 1000000" | bc -l; }
row() { printf '%-34s %8.2f s %8s MB/s\n' "$1" "$2" "$(mbps "$2")"; }

has() { case " $PARTS " in *" $1 "*) return 0;; esac; return 1; }

if has throttled; then
echo
echo "== ${SIZE_MIB} MiB, nginx limit_rate ${RATE} B/s per connection, ${CONNS} connections =="
for variant in "$port:default sndbuf" "$strict:sndbuf=64k"; do
  p=${variant%%:*}; label=${variant#*:}
  u="http://127.0.0.1:$p/slow/file.bin"
  a=$(timed aria2c aria "$u"); row "aria2c -x$CONNS -s$CONNS -k1M ($label)" "$a"
  i=$(timed imepipe ime "$u"); row "imepipe fetch ($label)" "$i"
  printf '  imepipe / aria2c time: %.3f (want <= 1.1)\n' "$(echo "$i / $a" | bc -l)"
  [ "$p" = "$port" ] && i_default=$i
  i_last=$i
done
c=$(timed curl curlget "http://127.0.0.1:$port/slow/file.bin"); row "curl (one connection)" "$c"
printf '  curl / imepipe time: %.2f default sndbuf, %.2f sndbuf=64k (want >= 6)\n' \
  "$(echo "$c / $i_default" | bc -l)" "$(echo "$c / $i_last" | bc -l)"
fi

if has unthrottled; then
echo
echo "== ${SIZE_MIB} MiB unthrottled on loopback, best and median of $RUNS =="
u="http://127.0.0.1:$port/file.bin"
stats() { sort -n | awk '{a[NR]=$1} END {printf "%.3f %.3f", a[1], a[int((NR+1)/2)]}'; }
cs=$(for _ in $(seq "$RUNS"); do timed curl curlget "$u"; done | stats)
is=$(for _ in $(seq "$RUNS"); do timed imepipe ime "$u"; done | stats)
printf '%-34s best %6.3f s  median %6.3f s\n' "curl" $cs
printf '%-34s best %6.3f s  median %6.3f s\n' "imepipe fetch" $is
printf '  imepipe / curl median time: %.3f (want <= 1.2)\n' "$(echo "${is#* } / ${cs#* }" | bc -l)"
fi

if has rss; then
echo
echo "== peak RSS, ${BIG_MIB} MiB sparse file, 16 connections =="
rm -f "$work/out/"*
/usr/bin/time -v "$work/imepipe" fetch --connections 16 -o "$work/out/sparse.bin" "http://127.0.0.1:$port/sparse.bin" \
  >/dev/null 2>"$work/time.txt"
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
printf 'imepipe fetch: max RSS %d KiB (%.1f MiB, want < 64), wall %s\n' "$rss" "$(echo "$rss / 1024" | bc -l)" "$wall"
fi
