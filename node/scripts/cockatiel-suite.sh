#!/bin/sh
# Runs cockatiel's own mocha suite against fusewire/cockatiel, outside this repo:
#   scripts/cockatiel-suite.sh /path/to/cockatiel-checkout [workdir]
# The checkout (github:connor4312/cockatiel, `npm install` and `npx tsc` run
# in it, so its dist/ holds the compiled suite) is used as is; a copy of its
# dist/ in the workdir has every public module (index, the policies,
# backoffs, breakers, errors, events) replaced by a re-export of
# fusewire/cockatiel. Kept from cockatiel: its test helpers and the
# internals its tests import directly (common/abort, common/defer,
# common/Executor): their own tests (abort.test, Executor.test) test
# cockatiel's internals, not fusewire, and are not run.
# Nothing of cockatiel is copied into fusewire.
set -eu
src=$(cd "$1" && pwd)
work=${2:-$(mktemp -d)}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
rm -rf "$work/dist"
cp -r "$src/dist" "$work/dist"
cp "$src/package.json" "$src/.mocharc.cjs" "$work/"
ln -sfn "$src/node_modules" "$work/node_modules"
cd "$work/dist"
for f in $(find . -name '*.js' ! -name '*.test.js'); do
  case "$f" in
    ./common/abort.js|./common/defer.js|./common/Executor.js) continue ;;
  esac
  echo "export * from '$here/cockatiel.mjs';" > "$f"
done
rm -f common/abort.test.js common/Executor.test.js common/Executor.bench.js
cd "$work"
node node_modules/.bin/mocha --reporter tap > tap.txt 2>&1 || true
grep -E '^# (tests|pass|fail)' tap.txt
grep -A12 '^not ok' tap.txt || true
