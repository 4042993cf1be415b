#!/usr/bin/env bash
# Set up, migrate, load the Wenzhou demo data and serve on the embedded defaults
# (a SQLite file under ./data and the in-process Redis) at http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/etour init-db
.venv/bin/etour seed-demo
exec .venv/bin/etour serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" "$@"
