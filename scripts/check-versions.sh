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
# The release tools' pins agree with the ones the doors test with.
if [ -f release/requirements.txt ]; then
  m_rel=$(sed -n 's/^maturin==//p' release/requirements.txt) m_py=$(sed -n 's/^maturin==//p' py/requirements-test.txt)
  [ "$m_rel" = "$m_py" ] || { echo "maturin pin: release/requirements.txt has '$m_rel', py/requirements-test.txt '$m_py'" >&2; bad=1; }
fi
# Licence files: the doors ship copies of the root ones.
for dir in node py ffi-c; do
  for f in LICENSE-MIT LICENSE-APACHE; do
    [ -f $f ] || continue
    cmp -s $f $dir/$f || { echo "licence: $dir/$f differs from the root $f (copy it again)" >&2; bad=1; }
  done
done

# --dist: the same across everything `make dist` wrote (dist/): one version,
# licence files, README, the types, py.typed.
if [ "${1:-}" = --dist ]; then
  d=dist tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  has() { # archive listing, path, what
    grep -qx "$2" <<<"$1" || { echo "$3: $2 missing" >&2; bad=1; }
  }
  n=0
  for t in "$d"/npm/*.tgz; do
    [ -f "$t" ] || { echo "no npm tarballs in $d/npm (run make dist)" >&2; bad=1; break; }
    list=$(tar -tzf "$t")
    pkg=$(tar -xzOf "$t" package/package.json)
    check "$t" "$(node -p 'JSON.parse(process.argv[1]).version' "$pkg")"
    for f in package/LICENSE-MIT package/LICENSE-APACHE; do has "$list" "$f" "$t"; done
    case ${t##*/} in
      fusewire-$want.tgz)
        for f in package/README.md package/index.d.ts package/cockatiel.d.ts package/index.js package/index.mjs package/lib/native.js; do has "$list" "$f" "$t"; done
        grep -q '^package/fusewire.*\.node$' <<<"$list" && { echo "$t: the main package carries a binary" >&2; bad=1; }
        node -e 'const p = JSON.parse(process.argv[1]); const o = p.optionalDependencies || {};
          const want = ["linux-x64-gnu","linux-arm64-gnu","linux-x64-musl","linux-arm64-musl","wasm32-wasi"].map(s => "fusewire-" + s);
          const bad = want.filter(w => o[w] !== p.version);
          if (bad.length || p.devDependencies) { console.error(process.argv[2] + ": optionalDependencies wrong for " + bad.join(", ") + (p.devDependencies ? "; has devDependencies" : "")); process.exit(1); }' "$pkg" "$t" || bad=1 ;;
    esac
    n=$((n + 1))
  done
  for w in "$d"/py/*.whl; do
    [ -f "$w" ] || { echo "no wheels in $d/py" >&2; bad=1; break; }
    list=$(python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$w")
    meta=$(python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode())' "$w")
    check "$w" "$(sed -n 's/^Version: //p' <<<"$meta")"
    for f in fusewire/py.typed fusewire/_native.pyi "fusewire-$want.dist-info/licenses/LICENSE-MIT" "fusewire-$want.dist-info/licenses/LICENSE-APACHE"; do has "$list" "$f" "$w"; done
    grep -q '^fusewire/_native.abi3.so$' <<<"$list" || { echo "$w: no abi3 extension" >&2; bad=1; }
    n=$((n + 1))
  done
  sd="$d/py/fusewire-$want.tar.gz"
  if [ -f "$sd" ]; then
    check "$sd" "$(tar -xzOf "$sd" "fusewire-$want/PKG-INFO" | sed -n 's/^Version: //p')"
    list=$(tar -tzf "$sd")
    for f in LICENSE-MIT LICENSE-APACHE README.md Cargo.lock python/fusewire/py.typed; do has "$list" "fusewire-$want/$f" "$sd"; done
    n=$((n + 1))
  else echo "no sdist $sd" >&2; bad=1; fi
  cb="$d/c/fusewire-c-$want.tar.gz"
  if [ -f "$cb" ]; then
    list=$(tar -tzf "$cb")
    for f in LICENSE-MIT LICENSE-APACHE README.md include/fusewire.h lib/pkgconfig/fusewire.pc lib/cmake/fusewire/fusewireConfigVersion.cmake; do has "$list" "fusewire-c-$want/$f" "$cb"; done
    check "$cb fusewire.pc" "$(tar -xzOf "$cb" "fusewire-c-$want/lib/pkgconfig/fusewire.pc" | sed -n 's/^Version: //p')"
    check "$cb fusewireConfigVersion.cmake" "$(tar -xzOf "$cb" "fusewire-c-$want/lib/cmake/fusewire/fusewireConfigVersion.cmake" | grep -o '"[0-9][0-9.]*"' | head -1 | tr -d '"')"
    n=$((n + 1))
  else echo "no C bundle $cb" >&2; bad=1; fi
  [ $bad = 0 ] && echo "dist: $n artifacts, all $want, licences, README, types and py.typed present"
fi
[ $bad = 0 ] && echo "versions: all $want"
exit $bad
