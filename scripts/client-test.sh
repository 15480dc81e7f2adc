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
# Building, starting and stopping the stack: scripts/lib/stack.sh (shared with ts-client-test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${CLIENT_TEST_VENV:-$HOME/.cache/prepaid-support/venv}"
PROFILE="${CLIENT_TEST_PROFILE:-debug}"
SERVICES=(sales invoicing projects helpdesk)

if [ ! -x "$VENV/bin/openapi-python-client" ]; then
  echo "client-test: creating $VENV with openapi-python-client"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q openapi-python-client
fi
echo "client-test: $("$VENV/bin/openapi-python-client" --version)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/client-test.XXXXXX")"
STACK_WHO=client-test
# shellcheck source=scripts/lib/stack.sh
source scripts/lib/stack.sh
cleanup() {
  stack_stop
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

# 2. Start the stack on the default ports with a fresh data folder (scripts/lib/stack.sh).
stack_ports_free
stack_build "$PROFILE"
stack_start "$WORK"
stack_wait_healthy

# 3. The seed flow through the generated clients, with a token signed by the stack's secret.
AUTH_TOKEN="$(stack_token admin client-test)"
export AUTH_TOKEN
set +e
PYTHONPATH="$WORK/clients" "$VENV/bin/python" tests/client/seed_flow.py
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  stack_log_tail
fi
exit "$rc"
