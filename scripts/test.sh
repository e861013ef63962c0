#!/usr/bin/env bash
# Sets up a fresh machine (scripts/setup.sh) and runs every check: lint, type-check, unit tests and the
# end-to-end suites. The store suite runs on SQLite and on a throw-away PostgreSQL server started here.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh

pg_started=""
cleanup() { if [ -n "$pg_started" ]; then scripts/pg-test.sh stop || true; fi; }
trap cleanup EXIT
if [ -z "${HAVIP_TEST_PG_URL:-}" ]; then
  if url="$(scripts/pg-test.sh start)"; then
    export HAVIP_TEST_PG_URL="$url"
    pg_started=1
    echo "test: PostgreSQL for the store suite at $url" >&2
  else
    echo "!!! test: could not start PostgreSQL: the PostgreSQL half of the store suite will not run !!!" >&2
  fi
fi
if [ "$(id -u)" != 0 ]; then
  echo "!!! test: not root: the Linux lab suites (namespaces, keepalived) will report themselves skipped !!!" >&2
fi
# Every step runs even when an earlier one fails, so one run shows everything that is wrong.
failed=()
for step in lint typecheck test:unit test:e2e; do
  echo "=== npm run $step" >&2
  npm run --silent "$step" || failed+=("$step")
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "!!! test: failed: ${failed[*]}" >&2
  exit 1
fi
echo "test: lint, type-check, unit and end-to-end suites all passed" >&2
