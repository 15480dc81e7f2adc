#!/usr/bin/env bash
# The workspace's `rust-version` must be the true minimum: no older than the newest
# `rust-version` any locked dependency of this platform declares (cargo honours the lock, so
# an older toolchain could not build it), and the toolchain here must be at least that.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo metadata --format-version 1 --locked --filter-platform "$(rustc -vV | sed -n 's/^host: //p')" | python3 -c '
import json, subprocess, sys
meta = json.load(sys.stdin)
used = {node["id"] for node in meta["resolve"]["nodes"]}
def version(v): return tuple(int(x) for x in v.split(".")[:2])
ours = [p for p in meta["packages"] if p["id"] in meta["workspace_members"]]
declared = {p["rust_version"] for p in ours}
if len(declared) != 1 or None in declared:
    sys.exit(f"msrv: workspace members declare rust-version {sorted(map(str, declared))}: one is expected")
declared = declared.pop()
deps = [(version(p["rust_version"]), p["name"], p["version"]) for p in meta["packages"]
        if p["id"] in used and p["id"] not in meta["workspace_members"] and p.get("rust_version")]
need, name, at = max(deps)
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.split()[1]
print(f"msrv: rust-version {declared}; the locked dependencies need {need[0]}.{need[1]} ({name} {at}); rustc {rustc}")
if version(declared) != need:
    sys.exit(f"msrv: rust-version says {declared}, but the lock needs {need[0]}.{need[1]} ({name} {at})")
if version(rustc) < need:
    sys.exit(f"msrv: rustc {rustc} is older than {need[0]}.{need[1]}")
'
