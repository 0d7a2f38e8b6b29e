#!/bin/bash
# pgctl.sh: a private PostgreSQL 15 cluster for the tests, never a system one.
# The cluster lives in one directory of its own (made with mktemp under
# /tmp): data in DIR/data, its log in DIR/log, and it listens only on a
# Unix socket in DIR (listen_addresses = ''), so nothing is reachable from
# the network and no port can clash. Started as root (CI), the cluster runs
# as an unprivileged user (PGCTL_USER, default hostmail, which deps.sh adds).
# Durability is off (fsync, full pages): it is thrown away after the tests.
#
#   pgctl.sh create          make and start a cluster; prints its directory
#   pgctl.sh dsn DIR         the libpq connection string (database postgres)
#   pgctl.sh stop DIR        stop it (fast shutdown: sessions are ended)
#   pgctl.sh start DIR       start it again
#   pgctl.sh destroy DIR     stop it and remove DIR
#   pgctl.sh run CMD...      create, run CMD with HOSTMAIL_TEST_PG_DSN set
#                            (database hostmail_test), HOSTMAIL_TEST_PG_DIR
#                            and HOSTMAIL_TEST_PGCTL (this script, for tests
#                            that stop and start it), destroy; CMD's status
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGUSER_NAME=hmtest           # the cluster's superuser (trust over the socket)

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "${PGCTL_USER:-hostmail}" -- "$@"
	else
		"$@"
	fi
}

dsn() {
	echo "host=$1 port=5432 user=$PGUSER_NAME dbname=${2:-postgres}"
}

start() {
	as_owner "$PGBIN/pg_ctl" -D "$1/data" -l "$1/log" -w -t 60 start >/dev/null
}

stop() {
	if [ -f "$1/data/postmaster.pid" ]; then
		as_owner "$PGBIN/pg_ctl" -D "$1/data" -m fast -w -t 60 stop >/dev/null
	fi
}

create() {
	local dir
	dir=$(mktemp -d /tmp/hm-pg-XXXXXX)
	chmod 0755 "$dir"
	[ "$(id -u)" -eq 0 ] && chown "${PGCTL_USER:-hostmail}:" "$dir"
	if ! as_owner "$PGBIN/initdb" -D "$dir/data" -U "$PGUSER_NAME" --auth=trust \
		-E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		rm -rf "$dir"
		return 1
	fi
	cat >>"$dir/data/postgresql.conf" <<-EOF
		listen_addresses = ''
		unix_socket_directories = '$dir'
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		shared_buffers = 16MB
		port = 5432
		max_connections = 200
	EOF
	if ! start "$dir"; then
		cat "$dir/log" >&2
		rm -rf "$dir"
		return 1
	fi
	echo "$dir"
}

destroy() {
	case "$1" in
	/tmp/hm-pg-*) ;;
	*) echo "pgctl.sh: refusing to remove $1 (not made by pgctl.sh)" >&2; return 1 ;;
	esac
	stop "$1" || true
	rm -rf "$1"
}

cmd=${1:-}
shift || true
case "$cmd" in
create) create ;;
dsn) dsn "$1" "${2:-}" ;;
stop) stop "$1" ;;
start) start "$1" ;;
destroy) destroy "$1" ;;
run)
	dir=$(create)
	trap 'destroy "$dir"' EXIT
	psql -q -X -d "$(dsn "$dir")" -c "CREATE DATABASE hostmail_test" >/dev/null
	HOSTMAIL_TEST_PG_DSN=$(dsn "$dir" hostmail_test) HOSTMAIL_TEST_PG_DIR=$dir \
		HOSTMAIL_TEST_PGCTL=$(readlink -f "$0") "$@"
	;;
*)
	echo "usage: pgctl.sh create | dsn DIR [DB] | stop DIR | start DIR | destroy DIR | run CMD..." >&2
	exit 2
	;;
esac
