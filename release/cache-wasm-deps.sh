#!/usr/bin/env bash
# Puts the WebAssembly package's dependencies (@napi-rs/wasm-runtime and what
# it needs, at the versions node/package-lock.json pins) into npm's cache, so
# the release checks can install fusewire's tarballs with --offline: the
# fusewire packages come only from dist/, never from the registry, and the
# few third-party ones from the cache. node/'s `npm ci` caches their
# tarballs but not their registry documents, which an install of a tarball
# needs to resolve a version range; a machine with a cold cache failed here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
specs=$(node -e '
const lock = require(process.argv[1]).packages;
const seen = new Map();
const queue = ["@napi-rs/wasm-runtime"];
while (queue.length) {
  const name = queue.shift();
  if (seen.has(name)) continue;
  const entry = lock["node_modules/" + name];
  if (!entry) { console.error("cache-wasm-deps: " + name + " is not in node/package-lock.json"); process.exit(1); }
  seen.set(name, entry.version);
  queue.push(...Object.keys({ ...entry.dependencies, ...entry.peerDependencies }));
}
console.log([...seen].map(([n, v]) => n + "@" + v).join("\n"));' "$root/node/package-lock.json")
for spec in $specs; do
  npm cache add --prefer-offline --loglevel=error "$spec"
done
