#!/usr/bin/env bash
# A throw-away PostgreSQL server for tests, benchmarks and demos: its own data folder, loopback only, a free
# port, trust authentication for the `postgres` role (which is why it listens on 127.0.0.1 only).
#
#   scripts/pg-server.sh start DIR    initdb into DIR/data, start, print the URL (also written to DIR/url)
#   scripts/pg-server.sh restart-immediate DIR   stop it as a crash would (no checkpoint) and start it again
#   scripts/pg-server.sh stop DIR     stop the server of DIR (fast shutdown) and remove DIR
#   scripts/pg-server.sh url DIR      print the URL of the server of DIR
#
# Run as root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

usage() { echo "usage: $0 start|restart-immediate|stop|url DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
command=$1
dir=$2

pg_bin() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
        echo "PostgreSQL server binaries not found (Debian: apt-get install postgresql)" >&2
        exit 1
    fi
    echo "$bin"
}

# Runs a PostgreSQL program (as the `postgres` user when root) with no open descriptor but 0–2: the server outlives
# this script, and whoever started the script may wait for a descriptor it handed down to close (Foundation's
# Process does).
as_server_user() {
    if [ "$(id -u)" = 0 ]; then set -- runuser -u postgres -- "$@"; fi
    python3 -c 'import os, sys; os.closerange(3, os.sysconf("SC_OPEN_MAX")); os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$command" in
start)
    bin=$(pg_bin)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_server_user "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    # A port can be taken between choosing and binding it; try a few.
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        if as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null; then
            echo "postgres://postgres@127.0.0.1:$port/postgres" | tee "$dir/url"
            exit 0
        fi
        sleep 0.2
    done
    echo "PostgreSQL did not start; its log:" >&2
    tail -20 "$dir/server.log" >&2
    exit 1
    ;;
restart-immediate)
    # Stops without a checkpoint, as in a crash, and starts again on the same port (recovery from the WAL).
    bin=$(pg_bin)
    as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m immediate \
        -w -t 60 restart >/dev/null
    ;;
stop)
    [ -d "$dir/data" ] || exit 0
    bin=$(pg_bin)
    as_server_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
url)
    cat "$dir/url"
    ;;
*)
    usage
    ;;
esac
