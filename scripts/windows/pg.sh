#!/usr/bin/env bash
# pg.sh start DIR | pg.sh stop DIR: a throwaway PostgreSQL cluster on the Linux
# side for the Windows build's store tests (the test binaries under Wine cannot
# start Linux programs; they reach it over loopback through IMEPIPE_PGTEST_ADDR,
# see internal/pgtest). start prints HOST:PORT, or nothing when PostgreSQL is not
# installed; trust authentication for the user postgres, fsync off, loopback only.
# As root both programs run as Debian's postgres user.
set -euo pipefail
cmd=$1 dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || exit 0
as=()
if [ "$(id -u)" = 0 ]; then
	chown postgres "$dir"
	as=(runuser -u postgres --)
fi
case $cmd in
start)
	"${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1
	# A free port: the first of a few random ones postgres can bind.
	for _ in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 30000))
		"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
			-o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
			start >/dev/null 2>&1 && { echo "127.0.0.1:$port"; exit 0; }
	done
	echo "pg.sh: postgres did not start (see $dir/postgres.log)" >&2
	exit 1
	;;
stop)
	[ -d "$dir/data" ] && "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	;;
esac
