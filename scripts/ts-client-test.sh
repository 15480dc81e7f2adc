#!/usr/bin/env bash
# Proves the OpenAPI documents for a TypeScript frontend: generates types for the four documents
# in openapi/ with openapi-typescript, compiles tests/client-ts/flow.ts (the seed flow of
# tests/client/seed_flow.py, written with openapi-fetch's createClient<paths>()) with tsc in
# strict mode, starts `stack` on a temporary data folder on the default ports, mints an admin
# token with `stack token`, and runs the compiled flow with node.
# Exits non-zero on any failure; the last line is `N passed, M failed`.
#
#   ./scripts/ts-client-test.sh                      # debug build of stack
#   TS_CLIENT_TEST_PROFILE=release ./scripts/ts-client-test.sh
#
# Needs node 20 or later and npm. The packages are pinned in tests/client-ts/package-lock.json and
# installed with `npm ci` into tests/client-ts/node_modules; npm's cache lives in
# $HOME/.cache/prepaid-support/npm. The ports 8081-8084 must be free.
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE="${TS_CLIENT_TEST_PROFILE:-debug}"
NPM_CACHE="${TS_CLIENT_TEST_NPM_CACHE:-$HOME/.cache/prepaid-support/npm}"
SERVICES=(sales invoicing projects helpdesk)
DIR=tests/client-ts
BIN="$DIR/node_modules/.bin"

# 0. Node 20 or later (global fetch, AbortSignal.timeout, top-level await).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "ts-client-test: node and npm are needed (node 20 or later)"; exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "ts-client-test: node $(node --version) is too old; 20 or later is needed"; exit 1
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ts-client-test.XXXXXX")"
STACK_WHO=ts-client-test
# shellcheck source=scripts/lib/stack.sh
source scripts/lib/stack.sh
cleanup() {
  stack_stop
  rm -rf "$WORK"
}
trap cleanup EXIT

# 1. The pinned packages, exactly as locked.
(cd "$DIR" && npm ci --cache "$NPM_CACHE" --prefer-offline --no-audit --no-fund --loglevel=error) \
  || { echo "ts-client-test: npm ci in $DIR failed"; exit 1; }
echo "ts-client-test: openapi-typescript $("$BIN/openapi-typescript" --version 2>/dev/null | tail -n1 | grep -o '[0-9][0-9.]*'), typescript $("$BIN/tsc" --version | grep -o "[0-9][0-9.]*"), node $(node --version)"

# 2. Types for the four documents. openapi-typescript fails on a document it cannot read; fail on
#    its warnings too.
rm -rf "$DIR/generated"
mkdir -p "$DIR/generated"
for s in "${SERVICES[@]}"; do
  out="$("$BIN/openapi-typescript" "openapi/$s.json" --output "$DIR/generated/$s.d.ts" 2>&1)" \
    || { echo "$out"; echo "ts-client-test: generating the types of openapi/$s.json failed"; exit 1; }
  if grep -qi "warn" <<<"$out"; then
    echo "$out"; echo "ts-client-test: openapi-typescript warned about openapi/$s.json"; exit 1
  fi
done

# 3. The flow proves the types only if it does not get around them: no casts (`x as T`, `<T>x`),
#    no `any`, no @ts-ignore / @ts-expect-error / @ts-nocheck, no non-null assertions (`x!.y`,
#    `x!)`, `x![i]`, `x!;`). A plain grep, comments and strings included: reword them.
bad="$(grep -nE '[[:space:]]as[[:space:]]|\bany\b|@ts-|[[:alnum:]_)]!([^=]|$)|\]!([^=]|$)|(^|[=(,:?[:space:]])<[A-Za-z_$][^>]*>[[:space:]]*[[:alnum:]_$(]' "$DIR/flow.ts" || true)"
if [ -n "$bad" ]; then
  echo "$bad"
  echo "ts-client-test: $DIR/flow.ts must not use casts (as, <T>x), any, @ts- comments or non-null assertions (!): narrow with a real check instead"
  exit 1
fi

# 4. Compile in strict mode (tsconfig.json adds noUncheckedIndexedAccess, exactOptionalPropertyTypes
#    and more); any error fails.
rm -rf "$DIR/dist"
"$BIN/tsc" -p "$DIR" --strict || { echo "ts-client-test: tsc found errors in $DIR"; exit 1; }

# 5. Start the stack on the default ports with a fresh data folder (scripts/lib/stack.sh).
stack_ports_free
stack_build "$PROFILE"
stack_start "$WORK"
stack_wait_healthy

# 6. The seed flow through the typed clients, with a token signed by the stack's secret.
AUTH_TOKEN="$(stack_token admin client-test)"
export AUTH_TOKEN
set +e
node "$DIR/dist/flow.js"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  stack_log_tail
fi
exit "$rc"
