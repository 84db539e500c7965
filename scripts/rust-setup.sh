#!/usr/bin/env bash
# Installs the Rust pieces `make test` needs, idempotently: rustup components
# and targets for stable, and nightly with Miri and rust-src.
set -euo pipefail
if ! command -v rustup >/dev/null 2>&1; then
  echo "rustup is required (https://rustup.rs)" >&2
  exit 1
fi
have_target() { rustup target list --installed --toolchain "$1" 2>/dev/null | grep -qx "$2"; }
have_component() { rustup component list --installed --toolchain "$1" 2>/dev/null | grep -q "^$2"; }

for c in clippy rustfmt; do have_component stable "$c" || rustup component add --toolchain stable "$c"; done
for t in thumbv7em-none-eabihf thumbv6m-none-eabi; do have_target stable "$t" || rustup target add --toolchain stable "$t"; done

if [ "${FUSEWIRE_NIGHTLY:-1}" = 1 ]; then
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  for c in miri rust-src; do have_component nightly "$c" || rustup component add --toolchain nightly "$c"; done
fi
