#!/usr/bin/env bash
# Runs every test of the workspace, on SQLite and on PostgreSQL.
# PostgreSQL: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres). When no
# server answers, the PostgreSQL half of each storage test says loudly that it is skipped;
# REQUIRE_POSTGRES=1 turns that into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/prepaid-support/target}"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
