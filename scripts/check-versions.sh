#!/usr/bin/env bash
# One version for the crate, the C library, the Python package and the npm
# package: the workspace's. Fails naming every place that disagrees.
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
[ -n "$want" ] || { echo "no [workspace.package] version in Cargo.toml" >&2; exit 1; }
bad=0
check() { # where, found
  if [ "$2" != "$want" ]; then echo "version mismatch: $1 says '$2', the workspace says '$want'" >&2; bad=1; fi
}
for crate in core ffi-c py node; do
  [ -f "$crate/Cargo.toml" ] || continue
  grep -q '^version.workspace = true' "$crate/Cargo.toml" || check "$crate/Cargo.toml" "$(sed -n 's/^version = "\(.*\)"/\1/p' "$crate/Cargo.toml" | head -1)"
done
[ -f py/pyproject.toml ] && check py/pyproject.toml "$(sed -n 's/^version = "\(.*\)"/\1/p' py/pyproject.toml | head -1)"
[ -f node/package.json ] && check node/package.json "$(node -p 'require("./node/package.json").version')"
[ -f node/package-lock.json ] && check node/package-lock.json "$(node -p 'require("./node/package-lock.json").version')"
[ $bad = 0 ] && echo "versions: all $want"
exit $bad
