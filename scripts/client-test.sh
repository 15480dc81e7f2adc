#!/usr/bin/env bash
# Proves the OpenAPI documents: generates Python clients for the four documents in openapi/ with
# openapi-python-client (from PyPI), starts `stack` on a temporary data folder on the default
# ports, mints an admin token with `stack token`, and drives the whole seed flow through the
# generated clients (their AuthenticatedClient, with that token: tests/client/seed_flow.py).
# Exits non-zero on any failure; the last line is `N passed, M failed`.
#
#   ./scripts/client-test.sh                      # debug build of stack
#   CLIENT_TEST_PROFILE=release ./scripts/client-test.sh
#
# The venv lives in $HOME/.cache/prepaid-support/venv and is reused; the ports 8081-8084 must be free.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${CLIENT_TEST_VENV:-$HOME/.cache/prepaid-support/venv}"
PROFILE="${CLIENT_TEST_PROFILE:-debug}"
SERVICES=(sales invoicing projects helpdesk)
PORTS=(8081 8082 8083 8084)

if [ ! -x "$VENV/bin/openapi-python-client" ]; then
  echo "client-test: creating $VENV with openapi-python-client"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q openapi-python-client
fi
echo "client-test: $("$VENV/bin/openapi-python-client" --version)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/client-test.XXXXXX")"
STACK_PID=""
cleanup() {
  if [ -n "$STACK_PID" ] && kill -0 "$STACK_PID" 2>/dev/null; then
    kill -TERM "$STACK_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$STACK_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$STACK_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# 1. Generate the four clients. No post hooks: the generator's default runs ruff, which we do not need.
printf 'post_hooks: []\n' > "$WORK/generator.yaml"
mkdir -p "$WORK/clients"
for s in "${SERVICES[@]}"; do
  out="$("$VENV/bin/openapi-python-client" generate --path "openapi/$s.json" --output-path "$WORK/clients/${s}_client" \
    --meta none --config "$WORK/generator.yaml" 2>&1)" || { echo "$out"; echo "client-test: generating the $s client failed"; exit 1; }
  # The generator reports problems with a document as warnings and leaves pieces out: fail on them.
  if grep -qi "warning" <<<"$out"; then
    echo "$out"; echo "client-test: the generator could not read all of openapi/$s.json"; exit 1
  fi
done

# 2. Start the stack on the default ports with a fresh data folder.
for p in "${PORTS[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "client-test: port $p is already in use; stop what runs there first"; exit 1
  fi
done
if [ "$PROFILE" = release ]; then cargo build -q --release --bin stack; else cargo build -q --bin stack; fi
TARGET="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
BIN="$TARGET/$PROFILE/stack"
RUST_LOG="${RUST_LOG:-warn}" "$BIN" --data-dir "$WORK/data" >"$WORK/stack.log" 2>&1 &
STACK_PID=$!
healthy() {
  "$VENV/bin/python" -c "import httpx,sys; sys.exit(0 if httpx.get('http://127.0.0.1:$1/health', timeout=1).status_code == 200 else 1)" 2>/dev/null
}
for p in "${PORTS[@]}"; do
  for _ in $(seq 1 150); do
    healthy "$p" && break
    kill -0 "$STACK_PID" 2>/dev/null || { cat "$WORK/stack.log"; echo "client-test: stack exited"; exit 1; }
    sleep 0.2
  done
  healthy "$p" || { tail -n 40 "$WORK/stack.log"; echo "client-test: port $p never answered /health"; exit 1; }
done

# 3. The seed flow through the generated clients, with a token signed by the stack's secret.
AUTH_TOKEN="$("$BIN" --data-dir "$WORK/data" token --role admin --sub client-test --ttl 1h)"
export AUTH_TOKEN
set +e
PYTHONPATH="$WORK/clients" "$VENV/bin/python" tests/client/seed_flow.py
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  echo "client-test: the last lines of the stack's log:"; tail -n 40 "$WORK/stack.log"
fi
exit "$rc"
