#!/usr/bin/env bash
# make dist-test: checks and runs what `make dist` wrote, as users get it.
#   dist-test.sh [meta|npm|py|musl|c|arm64]...   (default: all; musl needs npm and py first)
# Every check prints one line; the last line is `dist-test: N passed, 0 failed`.
# What this machine cannot run (musl Node/Python, macOS, Windows) is checked
# by inspection (file, readelf, objdump, auditwheel) and said so.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"
export PATH="$here/.tools/bin:$PATH"
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
d=$root/dist
work=$root/target/dist-test
rm -rf "$work" && mkdir -p "$work"
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(meta npm py musl c arm64)
passed=0 failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
check() { # description, command...
  local what=$1; shift
  if "$@" > "$work/last.log" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/     /' "$work/last.log" | tail -20; fi
}
need_apt() { # command, package
  command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }
}

# Highest GLIBC_x.y symbol version a binary needs.
glibc_max() { objdump -T "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1; }
le() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$1" ]; }

test_meta() {
  check "versions and metadata agree across every artifact (check-versions.sh --dist)" scripts/check-versions.sh --dist
}

NPM_PLATS="linux-x64-gnu linux-arm64-gnu linux-x64-musl linux-arm64-musl"
npm_unpack() { # package name -> dir
  local dir=$work/npm/$1
  mkdir -p "$dir" && tar -xzf "$d/npm/$1-$version.tgz" -C "$dir" && echo "$dir/package"
}
elf_is() { # file, arch word (x86-64|aarch64), libc (gnu|musl)
  local f=$1 arch=$2 libc=$3 info
  info=$(file -b "$f")
  [[ $info == *"$arch"* && $info == *"shared object"* && $info == *stripped* && $info != *"not stripped"* ]] || { echo "$info"; return 1; }
  if [ "$libc" = musl ]; then
    readelf -d "$f" | grep -q 'NEEDED.*\[libc.so\]' && ! readelf -d "$f" | grep -q 'libc.so.6'
  else
    readelf -d "$f" | grep -q 'NEEDED.*\[libc.so.6\]'
    local g; g=$(glibc_max "$f"); echo "max GLIBC_$g"; le "$g" 2.17
  fi
}
npm_app() { # dir, tarballs... : a clean project with those installed offline
  local app=$1; shift
  mkdir -p "$app"
  echo '{"name":"app","version":"1.0.0","private":true}' > "$app/package.json"
  "$here/cache-wasm-deps.sh"
  (cd "$app" && npm install --offline --no-audit --no-fund --loglevel=error "$@")
}
SMOKE='
const CircuitBreaker = require("fusewire");
const { engine } = require(require.resolve("fusewire").replace(/index\.js$/, "lib/native.js"));
const b = new CircuitBreaker(async x => x * 2, { enableSnapshots: false });
b.fire(21).then(v => { console.log(engine.kind, engine.from, v, b.stats.successes); });'

test_npm() {
  local p dir
  for p in $NPM_PLATS; do
    dir=$(npm_unpack "fusewire-$p")
    local arch=x86-64 libc=gnu
    [[ $p == *arm64* ]] && arch=aarch64
    [[ $p == *musl* ]] && libc=musl
    check "npm fusewire-$p: $arch $libc, stripped$([ $libc = gnu ] && echo ', glibc <= 2.17')" elf_is "$dir/fusewire.$p.node" $arch $libc
    check "npm fusewire-$p: os/cpu/libc fields" node -e '
      const p = require(process.argv[1] + "/package.json"), [os, cpu, libc] = process.argv[2].split("-");
      if (p.os[0] !== os || p.cpu[0] !== cpu || p.libc[0] !== (libc === "gnu" ? "glibc" : "musl") || p.main !== `fusewire.${process.argv[2]}.node`) { console.log(p); process.exit(1); }' "$dir" "$p"
  done
  dir=$(npm_unpack fusewire-wasm32-wasi)
  check "npm fusewire-wasm32-wasi: a wasm module, its loader and worker, no cpu restriction" bash -c "
    file -b '$dir/fusewire.wasm32-wasi.wasm' | grep -q WebAssembly && test -f '$dir/fusewire.wasi.cjs' && test -f '$dir/wasi-worker.mjs' &&
    node -e 'const p=require(\"$dir/package.json\"); if (p.cpu || p.main !== \"fusewire.wasi.cjs\" || !p.dependencies[\"@napi-rs/wasm-runtime\"]) process.exit(1)'"
  # A clean project: the main tarball plus this machine's platform package and
  # the WebAssembly one, offline (npm_app puts @napi-rs/wasm-runtime and its
  # dependencies in npm's cache first: cache-wasm-deps.sh).
  local tgz="$d/npm/fusewire-$version.tgz" native="$d/npm/fusewire-linux-x64-gnu-$version.tgz" wasm="$d/npm/fusewire-wasm32-wasi-$version.tgz"
  check "npm: main + linux-x64-gnu + wasm32-wasi install offline into an empty project" npm_app "$work/app" "$tgz" "$native" "$wasm"
  check "npm: require('fusewire') loads the native linux-x64-gnu package" bash -c "cd '$work/app' && node -e '$SMOKE' | tee /dev/stderr | grep -qx 'native fusewire-linux-x64-gnu 42 1'"
  check "npm: import fusewire (ESM) works" bash -c "cd '$work/app' && node --input-type=module -e 'import CB, { retry } from \"fusewire\"; const b = new CB(async () => \"ok\"); console.log(await b.fire(), typeof retry)' | grep -qx 'ok function'"
  check "npm: NAPI_RS_FORCE_WASI=error loads the WebAssembly package and fire() works" bash -c "cd '$work/app' && NAPI_RS_FORCE_WASI=error node --no-warnings -e '$SMOKE' | tee /dev/stderr | grep -qx 'wasm fusewire-wasm32-wasi 42 1'"
  check "npm: with no native package for the platform the loader falls back to WebAssembly" bash -c "cd '$work/app' && rm -rf /tmp/fw-moved && mv node_modules/fusewire-linux-x64-gnu /tmp/fw-moved && node --no-warnings -e '$SMOKE' | tee /dev/stderr | grep -qx 'wasm fusewire-wasm32-wasi 42 1'; rc=\$?; mv /tmp/fw-moved node_modules/fusewire-linux-x64-gnu; exit \$rc"
  check "npm: the types resolve from the installed package (tsc --strict, both entries)" bash -c "
    cd '$work/app' && printf '%s\n' 'import CircuitBreaker = require(\"fusewire\");' 'import { retry } from \"fusewire/cockatiel\";' 'const b = new CircuitBreaker(async (x: number) => x); b.fire(1); void retry;' > t.ts &&
    node '$root/node/node_modules/typescript/bin/tsc' --strict --noEmit --module nodenext --moduleResolution nodenext --types node --typeRoots '$root/node/node_modules/@types' t.ts"
  # The whole Node door suite and the opossum comparison suite on the
  # WebAssembly engine, from the source tree (the suites use its paths).
  if [ -n "${FUSEWIRE_DIST_QUICK:-}" ]; then return; fi
  wasm_suites
}

# The node test files run one by one with the WebAssembly engine forced
# (node/test holds the opossum comparison suite, compat.test.js, and the
# cockatiel one); each file's pass/fail count goes to
# target/dist-test/wasm-suite.txt. pack.test.js and cockatiel-pack.test.js
# pack the *source tree*, which carries the dev build and no WebAssembly
# engine, so with NAPI_RS_FORCE_WASI=error they cannot load: they are listed,
# not counted; nor are host-store and host-circuit: HostStore (shared memory)
# has no WebAssembly form, and there it throws FUSEWIRE_NO_HOST_TIER. Every
# other file must pass whole.
wasm_file() {
  (cd node && NAPI_RS_FORCE_WASI=error timeout 180 node --no-warnings --test --test-reporter=tap "test/$1" 2>&1) | grep -E '^# (pass|fail)' | tr '\n' ' ' || true
}
wasm_suites() {
  local wdir=$work/npm/fusewire-wasm32-wasi/package f line
  # loader.test.js and smoke.test.js also check the source tree's own dev
  # build (it loads natively when nothing forces WebAssembly; its version);
  # on a fresh clone `make dist` has not built it.
  [ -f node/fusewire.node ] || make -C node build >/dev/null
  cp "$wdir"/fusewire.wasi.cjs "$wdir"/fusewire.wasm32-wasi.wasm "$wdir"/wasi-worker.mjs node/
  : > "$work/wasm-suite.txt"
  for f in node/test/*.test.js; do
    line=$(wasm_file "${f##*/}")
    # A file that fails is run once more and both results are kept: the GC
    # and timer tests are sensitive to load (weight.test.js's finalizer turn).
    case $line in *"# fail 0 "*) ;; *) line="$(wasm_file "${f##*/}") (first run: ${line:-timed out or crashed})" ;; esac
    echo "${f##*/}: ${line:-timed out or crashed}" >> "$work/wasm-suite.txt"
  done
  rm -f node/fusewire.wasi.cjs node/fusewire.wasm32-wasi.wasm node/wasi-worker.mjs
  echo "---- node/test on the WebAssembly engine (NAPI_RS_FORCE_WASI=error), per file:"
  sed 's/^/     /' "$work/wasm-suite.txt"
  check "npm: every node/test file passes on the WebAssembly engine but the source-tree pack tests and HostStore (no shared memory in wasm)" \
    bash -c "! grep -v -E '^(pack|cockatiel-pack|host-store|host-circuit)\\.test\\.js:' '$work/wasm-suite.txt' | grep -v -E '^[^(]*# fail 0 '"
}

WHEELS="manylinux2014_x86_64.manylinux_2_17_x86_64 manylinux2014_aarch64.manylinux_2_17_aarch64 musllinux_1_2_x86_64 musllinux_1_2_aarch64"
test_py() {
  local tag whl
  for tag in $WHEELS; do
    whl=$d/py/fusewire-$version-cp310-abi3-$tag.whl
    check "py wheel $tag: exists" test -f "$whl"
    case $tag in
      manylinux*) check "py wheel $tag: auditwheel show confirms the tag" bash -c "auditwheel show '$whl' | tr -s ' \n' ' ' | tee /dev/stderr | grep -q 'is consistent with the following platform tag: \"${tag##*.}\"'" ;;
      # auditwheel judges musllinux only on a musl host (it looks for Alpine's
      # /lib/libc.musl-*.so.1); here the equivalent: the extension needs
      # nothing outside auditwheel's own musllinux_1_2 whitelist, for the
      # right machine, and it loads in a musl process (musl_load below).
      musllinux*) check "py wheel $tag: needs only what auditwheel's musllinux_1_2 policy allows (libc.so), right arch" musl_wheel_policy "$whl" "${tag##*_1_2_}" ;;
    esac
    check "py wheel $tag: licence files, py.typed, stubs, README metadata" bash -c "
      unzip -l '$whl' | grep -q 'fusewire/py.typed' && unzip -l '$whl' | grep -q 'fusewire/_native.pyi' &&
      unzip -l '$whl' | grep -q 'licenses/LICENSE-MIT' && unzip -l '$whl' | grep -q 'licenses/LICENSE-APACHE' &&
      unzip -p '$whl' 'fusewire-$version.dist-info/METADATA' | grep -q '^Description-Content-Type: text/markdown'"
  done
  # The x86_64 glibc wheel into a fresh venv, offline, and the Python door's
  # whole pytest suite against it.
  local venv=$work/venv
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r py/requirements-test.txt
  make -s -C py node_modules/.bin/pyright >/dev/null
  check "py: the manylinux x86_64 wheel installs offline into a fresh venv" \
    "$venv/bin/pip" install -q --no-index --no-deps "$d/py/fusewire-$version-cp310-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
  if [ -z "${FUSEWIRE_DIST_QUICK:-}" ]; then
    check "py: pytest py/tests against the installed wheel" bash -c "cd py/tests && PATH='$venv/bin:$PATH' '$venv/bin/python' -W error -m pytest -c ../pyproject.toml --rootdir .. -q -p no:cacheprovider | tail -3"
    tail -3 "$work/last.log" | sed 's/^/     /'
  fi
  # The sdist: builds offline with Rust; without Rust one clear message and
  # no download.
  local sd=$work/sdist
  mkdir -p "$sd" && tar -xzf "$d/py/fusewire-$version.tar.gz" -C "$sd"
  check "py sdist: licence files, pyproject, Cargo.lock, the backend guard" bash -c "cd '$sd/fusewire-$version' && test -f LICENSE-MIT -a -f LICENSE-APACHE -a -f Cargo.lock -a -f build_backend/fusewire_build.py && grep -q '^Version: $version' PKG-INFO"
  check "py sdist: with no cargo on PATH, pip stops with the clear message and downloads nothing" bash -c "
    out=\$(cd '$sd' && env -u CARGO PATH='$here/.tools/bin:/usr/bin:/bin' pip wheel --no-index --no-build-isolation --no-deps ./fusewire-$version -w nocargo 2>&1); rc=\$?
    echo \"\$out\" | grep -q 'building from source needs Rust (cargo)' && ! echo \"\$out\" | grep -qi puccinialin && [ \$rc != 0 ] && [ ! -e '$sd/nocargo' -o -z \"\$(ls '$sd/nocargo' 2>/dev/null)\" ]"
  if [ -z "${FUSEWIRE_DIST_QUICK:-}" ]; then
    check "py sdist: builds offline (pip --no-index, CARGO_NET_OFFLINE) into a wheel that imports" bash -c "
      cd '$sd' && CARGO_NET_OFFLINE=true CARGO_TARGET_DIR='$root/target/dist' pip wheel -q --no-index --no-build-isolation --no-deps ./fusewire-$version -w built &&
      python3 -m venv v && v/bin/pip install -q --no-index built/*.whl && v/bin/python -c 'import fusewire; print(fusewire.CircuitBreaker)'"
  fi
}

musl_wheel_policy() { # wheel, arch (x86_64|aarch64)
  local x=$work/musl-${2}
  rm -rf "$x" && mkdir -p "$x" && (cd "$x" && python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall()' "$1")
  local so=$x/fusewire/_native.abi3.so want
  want=$([ "$2" = x86_64 ] && echo x86-64 || echo aarch64)
  file -b "$so" | grep -q "$want" || return 1
  grep -q "^Tag: cp310-abi3-musllinux_1_2_$2\$" "$x"/fusewire-*.dist-info/WHEEL || return 1
  python3 - "$so" "$here/.tools/lib/python3.11/site-packages/auditwheel/policy/musllinux-policy.json" <<'PY'
import json, subprocess, sys
so, policy = sys.argv[1], sys.argv[2]
allowed = next(p for p in json.load(open(policy)) if p["name"] == "musllinux_1_2")["lib_whitelist"]
needed = [l.split("[")[1].rstrip("]") for l in subprocess.run(["readelf", "-d", so], capture_output=True, text=True, check=True).stdout.splitlines() if "(NEEDED)" in l]
print("NEEDED", needed, "allowed", allowed)
sys.exit(0 if needed and all(n in allowed for n in needed) else 1)
PY
}

# A musl binary must load in a musl process: a tiny dlopen program built with
# Zig for <arch>-linux-musl, with the host's own symbols (Node-API, or the
# Python C API) stubbed, loads it with musl's dynamic linker (natively for
# x86_64, Debian's musl; under qemu-aarch64 with Debian's musl:arm64 unpacked
# into the arm64 sysroot). Every libc symbol must resolve in musl.
musl_load() { # binary, arch (x86_64|aarch64), symbol, stub regex
  local bin=$1 arch=$2 sym=$3 dir=$work/musl-load-$2-$3
  rm -rf "$dir" && mkdir -p "$dir"
  nm -D --undefined-only "$bin" | awk '{print $2}' | sed 's/@.*//' | grep -E "$4" | sed 's/.*/void &(void) {}/' > "$dir/stubs.c"
  printf '%s\n' '#include <dlfcn.h>' '#include <stdio.h>' \
    'int main(int c, char **v) { void *h = dlopen(v[1], RTLD_NOW); if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }' \
    '  void *s = dlsym(h, v[2]); printf("%s %s\n", v[2], s ? "found" : "missing"); return s ? 0 : 2; }' > "$dir/dl.c"
  local zcc=("$here/.tools/bin/python" -m ziglang cc -target "$arch-linux-musl")
  (cd "$dir" && "${zcc[@]}" -shared -fPIC -o libstub.so stubs.c && "${zcc[@]}" -dynamic -o dl dl.c -Wl,--no-as-needed -L. -lstub) || return 1
  if [ "$arch" = x86_64 ]; then
    [ -e /lib/ld-musl-x86_64.so.1 ] || { apt-get update -qq && apt-get install -y -qq musl >/dev/null; }
    (cd "$dir" && ./dl "$bin" "$sym")
  else
    local sysroot; sysroot=$("$here/arm64-sysroot.sh") || return 1
    (cd "$dir" && qemu-aarch64 -L "$sysroot" ./dl "$bin" "$sym")
  fi
}

test_musl() {
  need_apt qemu-aarch64 qemu-user
  local a p
  for a in x86_64 aarch64; do
    p=$([ $a = x86_64 ] && echo x64 || echo arm64)
    check "musl $a: fusewire-linux-$p-musl loads in a musl process (Node-API stubbed)" \
      musl_load "$work/npm/fusewire-linux-$p-musl/package/fusewire.linux-$p-musl.node" $a napi_register_module_v1 '^(napi_|node_api_|uv_)'
    [ -d "$work/musl-$a" ] || musl_wheel_policy "$d/py/fusewire-$version-cp310-abi3-musllinux_1_2_$a.whl" $a >/dev/null
    check "musl $a: the musllinux wheel's extension loads in a musl process (Python C API stubbed)" \
      musl_load "$work/musl-$a/fusewire/_native.abi3.so" $a PyInit__native '^_?Py'
  done
}

test_c() {
  local b=$work/c/fusewire-c-$version
  mkdir -p "$work/c" && tar -xzf "$d/c/fusewire-c-$version.tar.gz" -C "$work/c"
  need_apt pkg-config pkg-config; need_apt cmake cmake
  check "c bundle: headers, licences, README, pkg-config, CMake, host and thumb libs" bash -c "cd '$b' && for f in include/fusewire.h include/fusewire_shared.h LICENSE-MIT LICENSE-APACHE README.md lib/libfusewire.a lib/libfusewire.so lib/pkgconfig/fusewire.pc lib/pkgconfig/fusewire-shared.pc lib/cmake/fusewire/fusewireConfig.cmake lib/cmake/fusewire/fusewireConfigVersion.cmake lib/thumbv6m-none-eabi/libfusewire.a lib/thumbv7em-none-eabihf/libfusewire.a lib/thumbv8m.main-none-eabi/libfusewire.a; do test -s \$f || { echo missing \$f; exit 1; }; done"
  check "c bundle: pkg-config (static, from the unpacked folder) builds and runs the consumer" bash -c "
    export PKG_CONFIG_PATH='$b/lib/pkgconfig'; test \"\$(pkg-config --modversion fusewire)\" = $version &&
    cc -std=c99 -Wall -Werror ffi-c/tests/consumer/consumer.c -o '$work/c/pc' \$(pkg-config --cflags --libs fusewire) && '$work/c/pc'"
  check "c bundle: CMake find_package(fusewire 0.1) builds and runs the consumer (static and shared)" bash -c "
    cmake -S ffi-c/tests/consumer -B '$work/c/cmake' -DCMAKE_PREFIX_PATH='$b' >/dev/null && cmake --build '$work/c/cmake' >/dev/null &&
    '$work/c/cmake/consumer' && '$work/c/cmake/consumer_shared'"
  need_apt arm-none-eabi-gcc gcc-arm-none-eabi
  local t flags
  for t in thumbv6m-none-eabi:"-mcpu=cortex-m0" thumbv7em-none-eabihf:"-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16" thumbv8m.main-none-eabi:"-mcpu=cortex-m33 -mfloat-abi=soft"; do
    flags=${t#*:}; t=${t%%:*}
    check "c bundle: $t links a breaker consumer with arm-none-eabi-gcc, no C library ($flags)" \
      arm-none-eabi-gcc $flags -mthumb -std=c99 -Os -ffreestanding -nostdlib -Wl,--gc-sections -Wl,-e,main -Wl,--no-warn-execstack \
        -Wall -Wextra -Werror -I"$b/include" release/tests/thumb_consumer.c "$b/lib/$t/libfusewire.a" -o "$work/c/$t.elf"
  done
}

# arm64 under qemu-user: the arm64 addon in an arm64 Node, the arm64 wheel in
# an arm64 Python, both Debian's arm64 packages unpacked into a project-local
# sysroot (target/arm64-sysroot) and run with qemu-aarch64 -L (no binfmt).
test_arm64() {
  need_apt qemu-aarch64 qemu-user
  local sysroot
  if ! sysroot=$("$here/arm64-sysroot.sh" 2>"$work/sysroot.log"); then
    bad "arm64: no arm64 sysroot could be assembled (see target/dist-test/sysroot.log)"; tail -5 "$work/sysroot.log"; return
  fi
  local q="qemu-aarch64 -L $sysroot"
  check "arm64: qemu-aarch64 runs Debian's arm64 node" bash -c "$q $sysroot/usr/bin/node -p 'process.arch + \" \" + process.version' | tee /dev/stderr | grep -q '^arm64 '"
  local app=$work/app-arm64
  npm_app "$app" "$d/npm/fusewire-$version.tgz" "$d/npm/fusewire-wasm32-wasi-$version.tgz" >/dev/null
  mkdir -p "$app/node_modules/fusewire-linux-arm64-gnu" && tar -xzf "$d/npm/fusewire-linux-arm64-gnu-$version.tgz" -C "$app/node_modules/fusewire-linux-arm64-gnu" --strip-components=1
  check "arm64: require('fusewire') in arm64 Node loads fusewire-linux-arm64-gnu and fire() works" bash -c "cd '$app' && $q $sysroot/usr/bin/node -e '$SMOKE' | tee /dev/stderr | grep -qx 'native fusewire-linux-arm64-gnu 42 1'"
  check "arm64: qemu-aarch64 runs Debian's arm64 python3" bash -c "$q $sysroot/usr/bin/python3 -c 'import platform; print(platform.machine())' | grep -qx aarch64"
  local whl=$d/py/fusewire-$version-cp310-abi3-manylinux2014_aarch64.manylinux_2_17_aarch64.whl
  rm -rf "$work/py-arm64" && mkdir -p "$work/py-arm64"
  (cd "$work/py-arm64" && python3 -c "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall('site')" "$whl")
  check "arm64: the manylinux aarch64 wheel imports in arm64 Python and a breaker opens" bash -c "cd '$work/py-arm64' && PYTHONPATH=site $q $sysroot/usr/bin/python3 -c '
import fusewire, inspect
print(fusewire.__file__)
b = fusewire.CircuitBreaker(failure_threshold=2) if \"failure_threshold\" in str(inspect.signature(fusewire.CircuitBreaker)) else None
print(\"ok\", fusewire._native.__file__)' | tee /dev/stderr | grep -q '^ok .*abi3.so'"
  [ -n "${FUSEWIRE_DIST_QUICK:-}" ] || arm64_suites
}

# The doors' whole suites on arm64, recorded (not gated): qemu-user without
# binfmt cannot run the child processes some tests spawn (process.execPath,
# sys.executable), Debian's arm64 Node is 18 (cockatiel 4 and the mock-timers
# API need newer), and emulation breaks the timing assertions.
arm64_suites() {
  local sysroot; sysroot=$("$here/arm64-sysroot.sh")
  local q="qemu-aarch64 -L $sysroot" f line
  local addon=$work/npm/fusewire-linux-arm64-gnu/package/fusewire.linux-arm64-gnu.node
  [ -f "$addon" ] || npm_unpack fusewire-linux-arm64-gnu >/dev/null
  : > "$work/arm64-node.txt"
  for f in node/test/*.test.js; do
    line=$( (cd node && NAPI_RS_NATIVE_LIBRARY_PATH=$addon timeout 300 $q "$sysroot/usr/bin/node" "test/${f##*/}" 2>&1) | grep -E '^# (pass|fail)' | tr '\n' ' ' || true)
    echo "${f##*/}: ${line:-timed out or crashed}" >> "$work/arm64-node.txt"
  done
  echo "---- node/test in arm64 Node $($q "$sysroot/usr/bin/node" --version) under qemu, the arm64 addon, per file:"; sed 's/^/     /' "$work/arm64-node.txt"
  # The wheel installed into the sysroot's site-packages (the conftest checks
  # that is where fusewire comes from); pytest and the other pure-Python test
  # dependencies from the x86-64 test venv.
  local site=$sysroot/usr/local/lib/python3.11/dist-packages deps=$work/arm64-deps e
  rm -rf "$site/fusewire" "$site"/fusewire-*.dist-info && mkdir -p "$site" "$deps"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$d/py/fusewire-$version-cp310-abi3-manylinux2014_aarch64.manylinux_2_17_aarch64.whl" "$site"
  [ -d "$work/venv" ] || { python3 -m venv "$work/venv" && "$work/venv/bin/pip" install -q -r py/requirements-test.txt; }
  for e in "$work"/venv/lib/python3.11/site-packages/*; do case ${e##*/} in fusewire*) ;; *) ln -sfn "$e" "$deps/";; esac; done
  # Debian's arm64 CPython is 3.11.2, where redis-py still needs
  # async-timeout (pure Python; the x86-64 venv's 3.11.7 does not).
  [ -d "$work/arm64-extra/async_timeout" ] || "$work/venv/bin/pip" install -q --disable-pip-version-check --target "$work/arm64-extra" async-timeout
  (cd py/tests && PYTHONPATH=$deps:$work/arm64-extra timeout 1500 $q "$sysroot/usr/bin/python3" -W error -m pytest -c ../pyproject.toml --rootdir .. -q -p no:cacheprovider 2>&1 | tail -8) > "$work/arm64-py.txt" || true
  echo "---- py/tests in arm64 Python under qemu, the manylinux aarch64 wheel:"; sed 's/^/     /' "$work/arm64-py.txt"
  rm -rf "$site/fusewire" "$site"/fusewire-*.dist-info
  ok "arm64: the Node and Python suites ran under qemu (figures above, target/dist-test/arm64-*.txt)"
}

for p in "${parts[@]}"; do echo "==> dist-test: $p"; "test_$p"; done
echo "dist-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
