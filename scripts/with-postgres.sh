#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server and a throw-away sharded cluster: starts them
# (scripts/pg-server.sh, scripts/pg-cluster.sh), exports their URLs as VEIL_TEST_POSTGRES_URL and
# VEIL_TEST_POSTGRES_CLUSTER_URL (the cluster's coordinator), runs the command, and stops them however it ends.
#   scripts/with-postgres.sh swift test
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/veil-postgres.XXXXXX)
cluster=$(mktemp -d /tmp/veil-cluster.XXXXXX)
trap 'bash "$here/pg-server.sh" stop "$dir"; bash "$here/pg-cluster.sh" stop "$cluster"' EXIT
VEIL_TEST_POSTGRES_URL=$(bash "$here/pg-server.sh" start "$dir")
VEIL_TEST_POSTGRES_CLUSTER_URL=$(bash "$here/pg-cluster.sh" start "$cluster")
export VEIL_TEST_POSTGRES_URL VEIL_TEST_POSTGRES_CLUSTER_URL
echo "PostgreSQL for this run: $VEIL_TEST_POSTGRES_URL (cluster coordinator $VEIL_TEST_POSTGRES_CLUSTER_URL)" >&2
"$@"
