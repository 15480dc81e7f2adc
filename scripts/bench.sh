#!/usr/bin/env bash
# Builds the release binaries, then runs the benchmark of the time-logging path on a fresh
# system of four processes. Arguments go to the bench, e.g.
#   ./scripts/bench.sh --backend both --json bench.json
#   ./scripts/bench.sh --quick
# PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); fresh
# databases are created there and dropped afterwards. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bins
exec cargo run --release -q -p bench -- "$@"
