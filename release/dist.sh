#!/usr/bin/env bash
# make dist: writes dist/ with everything a release publishes, cross-built on
# one Linux x86-64 machine with Zig as the linker.
#   dist/npm/  fusewire-<v>.tgz, fusewire-<platform>-<v>.tgz (napi-rs layout),
#              fusewire-wasm32-wasi-<v>.tgz (the WebAssembly fallback)
#   dist/py/   abi3 wheels (manylinux_2_17 / musllinux_1_2, x86_64 / aarch64) + sdist
#   dist/c/    fusewire-c-<v>.tar.gz (headers, pkg-config, CMake, static libs)
#   dist/SHA256SUMS
# Usage: dist.sh [npm|py|c]...   (default: all three)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"
"$here/tools.sh"
export PATH="$here/.tools/bin:$PATH"
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
out=${DIST_OUT:-$root/dist}
stage=$root/target/dist-stage
tdir=$root/target/dist          # cargo target dir of the release builds
export CARGO_TARGET_DIR=$tdir
# A Node addon is a shared object: on musl it links libc dynamically (as
# `napi build` does for musl targets).
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=-crt-static"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=-crt-static"
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(npm py c)

# The npm platform names (napi-rs's) and the Rust targets behind them. The
# gnu ones carry cargo-zigbuild's glibc suffix: glibc 2.17 is the floor.
NPM_NATIVE=${FUSEWIRE_NPM_NATIVE-"linux-x64-gnu:x86_64-unknown-linux-gnu.2.17
linux-arm64-gnu:aarch64-unknown-linux-gnu.2.17
linux-x64-musl:x86_64-unknown-linux-musl
linux-arm64-musl:aarch64-unknown-linux-musl"}

build_npm() {
  local s=$stage/npm main
  rm -rf "$s" "$out/npm" && mkdir -p "$s" "$out/npm"
  main=$s/fusewire
  # The main package: the JS, the types, the loader; no binary.
  mkdir -p "$main"
  (cd node && cp -r package.json README.md LICENSE-MIT LICENSE-APACHE index.js index.mjs index.d.ts \
     cockatiel.js cockatiel.mjs cockatiel.d.ts lib "$main/")
  # napi-rs writes the per-platform package.json files (os/cpu/libc, main, files).
  (cd "$main" && "$root/node/node_modules/.bin/napi" create-npm-dirs --npm-dir npm >/dev/null)
  for entry in $NPM_NATIVE; do
    local plat=${entry%%:*} triple=${entry#*:} rt
    rt=${triple%.2.17}
    echo "==> npm: $plat ($triple)"
    CARGO_PROFILE_RELEASE_STRIP=symbols cargo zigbuild -q -p fusewire-node --release --target "$triple"
    cp "$tdir/$rt/release/libfusewire_node.so" "$main/npm/$plat/fusewire.$plat.node"
  done
  echo "==> npm: wasm32-wasi (wasm32-wasip1-threads, napi build)"
  mkdir -p "$s/wasm-build"
  (cd node && node_modules/.bin/napi build --platform --release --strip --no-dts-header -p fusewire-node \
     --manifest-path Cargo.toml --target wasm32-wasip1-threads --target-dir "$tdir" -o "$s/wasm-build" >/dev/null)
  cp "$s/wasm-build"/fusewire.wasi.cjs "$s/wasm-build"/fusewire.wasm32-wasi.wasm "$s/wasm-build"/wasi-worker.mjs \
     "$s/wasm-build"/fusewire.wasi-browser.js "$s/wasm-build"/wasi-worker-browser.mjs "$main/npm/wasm32-wasi/"
  for d in "$main"/npm/* "$main"; do cp node/LICENSE-MIT node/LICENSE-APACHE "$d/"; done
  node "$here/npm-finish.js" "$s" "$version"
  for d in "$main"/npm/* "$main"; do
    # (make test's quick form builds no native package: skip their empty dirs)
    compgen -G "$d/*.node" >/dev/null || compgen -G "$d/*.wasm" >/dev/null || [ -f "$d/index.js" ] || continue
    (cd "$out/npm" && npm pack --silent "$d" >/dev/null)
  done
  ls -la "$out/npm"
}

build_py() {
  rm -rf "$out/py" && mkdir -p "$out/py"
  local t
  for t in x86_64-unknown-linux-gnu:manylinux2014 aarch64-unknown-linux-gnu:manylinux2014 \
           x86_64-unknown-linux-musl:musllinux_1_2 aarch64-unknown-linux-musl:musllinux_1_2; do
    echo "==> py: ${t%%:*} (${t#*:})"
    maturin build -q --strip --zig -m py/Cargo.toml --target "${t%%:*}" --compatibility "${t#*:}" -o "$out/py"
  done
  echo "==> py: sdist"
  maturin sdist -m py/Cargo.toml -o "$out/py"
  ls -la "$out/py"
}

# Static libraries for the host (the same ld -r'd archive `make -C ffi-c lib`
# ships) and for three Cortex-M families (the firmware profile: no_std, LTO,
# opt-level s, panic = abort).
THUMBS="thumbv6m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabi"
build_c() {
  local name=fusewire-c-$version b
  b=$stage/c/$name
  rm -rf "$stage/c" "$out/c" && mkdir -p "$stage/c" "$out/c"
  echo "==> c: host library, headers, pkg-config, CMake"
  make -s -C ffi-c install PREFIX="$b" >/dev/null
  # Relocatable: pkg-config finds the prefix from the .pc file's own folder.
  sed -i 's|^prefix=.*|prefix=${pcfiledir}/../..|' "$b"/lib/pkgconfig/*.pc
  for t in $THUMBS; do
    echo "==> c: $t"
    cargo rustc -q -p fusewire-ffi --lib --crate-type staticlib --target "$t" --profile firmware \
      --no-default-features --features panic-handler
    mkdir -p "$b/lib/$t"
    cp "$tdir/$t/firmware/libfusewire_ffi.a" "$b/lib/$t/libfusewire.a"
  done
  cp LICENSE-MIT LICENSE-APACHE "$b/"
  cp ffi-c/README.md "$b/README-ffi-c.md"
  cp -r ffi-c/examples "$b/examples"
  sed "s/@VERSION@/$version/g" "$here/c-bundle-README.md" > "$b/README.md"
  tar -C "$stage/c" --owner=0 --group=0 --sort=name -czf "$out/c/$name.tar.gz" "$name"
  ls -la "$out/c"
}

for p in "${parts[@]}"; do "build_$p"; done
(cd "$out" && find . -type f \( -name '*.tgz' -o -name '*.whl' -o -name '*.tar.gz' \) | sort | xargs sha256sum > SHA256SUMS)
echo "==> dist: written to dist/ (version $version)"
