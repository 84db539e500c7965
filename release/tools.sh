#!/usr/bin/env bash
# Installs what `make dist` and `make dist-test` need, idempotently, all of it
# project-local: the pinned Python tools (Zig, cargo-zigbuild, maturin,
# auditwheel) into release/.tools, the npm devDependencies of node/ (which pin
# @napi-rs/cli), and the rustup targets. Prints the PATH to use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
venv="$here/.tools"
# make test's quick form (quick.sh) builds only the WebAssembly package: it
# needs napi-rs from node/ and one rustup target, not the Python tools.
if [ -n "${FUSEWIRE_TOOLS_WASM_ONLY:-}" ]; then
  rustup target list --installed | grep -qx wasm32-wasip1-threads || rustup target add wasm32-wasip1-threads >&2
  nm="$root/node/node_modules/.package-lock.json"
  if [ ! -f "$nm" ] || [ "$root/node/package-lock.json" -nt "$nm" ]; then (cd "$root/node" && npm ci --no-audit --no-fund >&2); fi
  exit 0
fi
if [ ! -f "$venv/.stamp" ] || ! cmp -s "$here/requirements.txt" "$venv/.stamp"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/.stamp"
fi
targets="x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl
wasm32-wasip1-threads thumbv6m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabi"
installed=$(rustup target list --installed)
missing=()
for t in $targets; do grep -qx "$t" <<<"$installed" || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then rustup target add "${missing[@]}" >&2; fi
nm="$root/node/node_modules/.package-lock.json"
if [ ! -f "$nm" ] || [ "$root/node/package-lock.json" -nt "$nm" ]; then
  (cd "$root/node" && npm ci --no-audit --no-fund >&2)
fi
