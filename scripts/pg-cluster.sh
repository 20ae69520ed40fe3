#!/usr/bin/env bash
# A throw-away sharded PostgreSQL cluster on loopback: a coordinator and two shard servers (each started with
# scripts/pg-server.sh), the coordinator reaching the shards through postgres_fdw (foreign servers veil_shard0 and
# veil_shard1, user mappings for the `postgres` role).
#
#   scripts/pg-cluster.sh start DIR                 start the three servers, print the coordinator's URL
#                                                   (also written to DIR/url; the shards' to DIR/shard0/url, …)
#   scripts/pg-cluster.sh table DIR TABLE UNIT DEFS create TABLE sharded by hash of its column UNIT: on each shard
#                                                   TABLE_shardN (DEFS); on the coordinator TABLE (DEFS)
#                                                   PARTITION BY HASH (UNIT) whose two partitions are foreign
#                                                   tables on the shards. DEFS is the column list, e.g.
#                                                   'person_id int8, year int4, income float8'
#   scripts/pg-cluster.sh stop DIR                  stop the three servers and remove DIR
#   scripts/pg-cluster.sh url DIR                   print the coordinator's URL
#
# Rows inserted or copied into TABLE on the coordinator go to the shard of their unit; `veil query --db URL`
# against the coordinator reads them through postgres_fdw (docs/private-sql.md, PostgreSQL).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() { echo "usage: $0 start|stop|url DIR | table DIR TABLE UNIT DEFS" >&2; exit 2; }
[ $# -ge 2 ] || usage
command=$1
dir=$2

sql() { psql -v ON_ERROR_STOP=1 -qAt "$1" -c "$2"; }
# An identifier quoted for SQL (double quotes doubled).
ident() { printf '"%s"' "${1//\"/\"\"}"; }

case "$command" in
start)
    [ $# -eq 2 ] || usage
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # The servers run as `postgres` when started by root: they must be able to enter DIR.
    if [ "$(id -u)" = 0 ]; then chmod 755 "$dir"; fi
    trap 'bash "$here/pg-cluster.sh" stop "$dir" >/dev/null 2>&1' ERR
    coordinator=$(bash "$here/pg-server.sh" start "$dir/coordinator")
    sql "$coordinator" "CREATE EXTENSION postgres_fdw"
    for n in 0 1; do
        shard=$(bash "$here/pg-server.sh" start "$dir/shard$n")
        port=${shard##*:}
        port=${port%%/*}
        sql "$coordinator" "CREATE SERVER veil_shard$n FOREIGN DATA WRAPPER postgres_fdw
                            OPTIONS (host '127.0.0.1', port '$port', dbname 'postgres', fetch_size '10000')"
        sql "$coordinator" "CREATE USER MAPPING FOR postgres SERVER veil_shard$n OPTIONS (user 'postgres')"
    done
    trap - ERR
    echo "$coordinator" | tee "$dir/url"
    ;;
table)
    [ $# -eq 5 ] || usage
    table=$3 unit=$4 defs=$5
    coordinator=$(cat "$dir/url")
    sql "$coordinator" "CREATE TABLE $(ident "$table") ($defs) PARTITION BY HASH ($(ident "$unit"))"
    for n in 0 1; do
        sql "$(cat "$dir/shard$n/url")" "CREATE TABLE $(ident "${table}_shard$n") ($defs)"
        sql "$coordinator" "CREATE FOREIGN TABLE $(ident "${table}_shard$n") PARTITION OF $(ident "$table")
                            FOR VALUES WITH (MODULUS 2, REMAINDER $n) SERVER veil_shard$n
                            OPTIONS (table_name '${table//\'/\'\'}_shard$n')"
    done
    ;;
stop)
    [ $# -eq 2 ] || usage
    for part in coordinator shard0 shard1; do bash "$here/pg-server.sh" stop "$dir/$part"; done
    rm -rf "$dir"
    ;;
url)
    cat "$dir/url"
    ;;
*)
    usage
    ;;
esac
