# shellcheck shell=bash
# Sourced by the scripts that drive a running `stack` (client-test.sh, ts-client-test.sh): builds
# it, starts it on the default ports (8081-8084) with a data folder of its own, waits until all
# four services answer /health, mints a token signed by its secret, and stops it again.
#
#   STACK_WHO=client-test            # the prefix of this file's messages
#   source scripts/lib/stack.sh
#   trap 'stack_stop; rm -rf "$WORK"' EXIT
#   stack_ports_free                 # fails when one of the ports is taken
#   stack_build debug                # or release; sets STACK_BIN
#   stack_start "$WORK"              # data in $WORK/data, log in $WORK/stack.log; sets STACK_PID
#   stack_wait_healthy
#   AUTH_TOKEN="$(stack_token admin client-test)"
#   stack_log_tail                   # after a failure: the last lines of the log
#
# The build goes to $CARGO_TARGET_DIR, by default $HOME/.cache/prepaid-support/target like the
# other scripts and CI.

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/prepaid-support/target}"
STACK_WHO="${STACK_WHO:-stack}"
STACK_PORTS=(8081 8082 8083 8084)
STACK_BIN=""
STACK_PID=""
STACK_DIR=""

stack_ports_free() {
  local p
  for p in "${STACK_PORTS[@]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$STACK_WHO: port $p is already in use; stop what runs there first"
      exit 1
    fi
  done
}

stack_build() {
  local profile="${1:-debug}"
  if [ "$profile" = release ]; then cargo build -q --release --bin stack; else cargo build -q --bin stack; fi
  STACK_BIN="$CARGO_TARGET_DIR/$profile/stack"
  [ -x "$STACK_BIN" ] || { echo "$STACK_WHO: no binary at $STACK_BIN after the build"; exit 1; }
}

stack_start() {
  STACK_DIR="$1"
  mkdir -p "$STACK_DIR"
  RUST_LOG="${RUST_LOG:-warn}" "$STACK_BIN" --data-dir "$STACK_DIR/data" >"$STACK_DIR/stack.log" 2>&1 &
  STACK_PID=$!
}

stack_healthy() {
  curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$1/health" 2>/dev/null
}

stack_wait_healthy() {
  local p
  for p in "${STACK_PORTS[@]}"; do
    for _ in $(seq 1 150); do
      stack_healthy "$p" && break
      kill -0 "$STACK_PID" 2>/dev/null || { cat "$STACK_DIR/stack.log"; echo "$STACK_WHO: stack exited"; exit 1; }
      sleep 0.2
    done
    stack_healthy "$p" || { stack_log_tail; echo "$STACK_WHO: port $p never answered /health"; exit 1; }
  done
}

# stack_token ROLE SUB: prints a token for ROLE and SUB, valid for an hour.
stack_token() {
  "$STACK_BIN" --data-dir "$STACK_DIR/data" token --role "$1" --sub "$2" --ttl 1h
}

stack_log_tail() {
  echo "$STACK_WHO: the last lines of the stack's log:"
  tail -n 40 "$STACK_DIR/stack.log"
}

stack_stop() {
  if [ -n "$STACK_PID" ] && kill -0 "$STACK_PID" 2>/dev/null; then
    kill -TERM "$STACK_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$STACK_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$STACK_PID" 2>/dev/null || true
  fi
  STACK_PID=""
}
