#!/usr/bin/env bash
# Run the whole suite on each backend in ETOUR_TEST_BACKENDS (default: the embedded one).
#   embedded: a SQLite file per test and the in-process Redis
#   services: PostgreSQL (ETOUR_TEST_DATABASE_URL) and Redis (ETOUR_TEST_REDIS_URL)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The long proofs (pytest markers storm, faults, fuzz: the oversell storm, the fault runs, the
# schemathesis fuzzing) are part of the whole suite; ETOUR_LONG_TESTS=0 leaves them out.
export ETOUR_LONG_TESTS="${ETOUR_LONG_TESTS:-1}"
for backend in ${ETOUR_TEST_BACKENDS:-embedded}; do
  echo "== tests on the $backend backend =="
  ETOUR_TEST_BACKEND="$backend" .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
done
