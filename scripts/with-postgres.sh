#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server: starts one (scripts/pg-server.sh), exports its URL as
# VEIL_TEST_POSTGRES_URL, runs the command, and stops the server however the command ends.
#   scripts/with-postgres.sh swift test
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/veil-postgres.XXXXXX)
trap 'bash "$here/pg-server.sh" stop "$dir"' EXIT
VEIL_TEST_POSTGRES_URL=$(bash "$here/pg-server.sh" start "$dir")
export VEIL_TEST_POSTGRES_URL
echo "PostgreSQL for this run: $VEIL_TEST_POSTGRES_URL" >&2
"$@"
