#!/usr/bin/env bash
# Builds the release binaries, then runs the benchmark of the time-logging path on a fresh
# system of four processes. Arguments go to the bench, e.g.
#   ./scripts/bench.sh --backend both --json bench.json
#   ./scripts/bench.sh --quick
#   ./scripts/bench.sh --backend postgres --replicas 2   # two copies of each behind nginx
# PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); fresh
# databases are created there and dropped afterwards. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bins
# --replicas N puts N copies of each service behind a local nginx: install it when missing.
if [[ " $* " == *" --replicas "* ]] && ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "bench: installing nginx-light for --replicas"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light
fi
exec cargo run --release -q -p bench -- "$@"
