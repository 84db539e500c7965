#!/bin/sh
# Runs opossum's own test suite (tape) against fusewire, outside this repo:
#   scripts/opossum-suite.sh /path/to/opossum-checkout [workdir]
# The checkout (github:nodeshift/opossum, with its devDependencies installed
# by `npm install` in it) is used as is; a copy of its test/ in the workdir
# gets `require('../')` and `../lib/{circuit,cache,semaphore,status}` pointed
# at this package. Nothing of opossum is copied into fusewire.
set -eu
src=$(cd "$1" && pwd)
work=${2:-$(mktemp -d)}
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$work/test" "$work/lib"
mkdir -p "$work/lib"
cp -r "$src/test" "$work/test"
ln -sfn "$src/node_modules" "$work/node_modules"
echo "module.exports = require('$here');" > "$work/index.js"
for m in circuit cache semaphore status; do
  echo "module.exports = require('$here/lib/$m');" > "$work/lib/$m.js"
done
cd "$work"
node node_modules/.bin/tape test/*.js > tap.txt 2>&1 || true
grep -E '^# (tests|pass|fail)' tap.txt
grep -A8 '^not ok' tap.txt || true
