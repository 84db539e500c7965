#!/usr/bin/env bash
# make test's share of the release checks (the full matrix is make dist-test):
# the main npm package and the WebAssembly one, built with the release tools
# into target/dist-quick, installed offline into an empty project on this
# linux-x64 machine *without* its native package, so the loader's fallback
# runs for real: require('fusewire') must come up on WebAssembly and fire().
# Plus the version/licence checks.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"
scripts/check-versions.sh
out=$root/target/dist-quick
DIST_OUT=$out FUSEWIRE_NPM_NATIVE="" FUSEWIRE_TOOLS_WASM_ONLY=1 "$here/dist.sh" npm
version=$(node -p 'require("./node/package.json").version')
app=$root/target/dist-quick/app
rm -rf "$app" && mkdir -p "$app"
echo '{"name":"app","version":"1.0.0","private":true}' > "$app/package.json"
"$here/cache-wasm-deps.sh"
(cd "$app" && npm install --offline --no-audit --no-fund --loglevel=error "$out/npm/fusewire-$version.tgz" "$out/npm/fusewire-wasm32-wasi-$version.tgz")
got=$(cd "$app" && node --no-warnings -e '
const CircuitBreaker = require("fusewire");
const { engine } = require(require.resolve("fusewire").replace(/index\.js$/, "lib/native.js"));
const b = new CircuitBreaker(async x => x * 2, { enableSnapshots: false });
b.fire(21).then(v => console.log(engine.kind, engine.from, v));')
echo "quick: $got"
[ "$got" = "wasm fusewire-wasm32-wasi 42" ] || { echo "quick: want 'wasm fusewire-wasm32-wasi 42'" >&2; exit 1; }
echo "dist-quick: 1 passed, 0 failed"
