'use strict';

// Finds the engine: a native addon where one fits this machine, the
// WebAssembly build (napi-rs's wasm32-wasip1-threads target on
// @napi-rs/wasm-runtime) where none does. The io layout, record codes and
// states come from the engine itself (src/engine.rs `io_layout`), declared once.
//
// Where the engine is looked for, in order (napi-rs's names and conventions):
//   1. NAPI_RS_NATIVE_LIBRARY_PATH, if set: that file and nothing else.
//   2. Native: ../fusewire.<platform>.node (a `napi build --platform` output),
//      ../fusewire.node (the dev build, `make -C node build`), then the npm
//      package fusewire-<platform> (an optional dependency npm installs only
//      where its os/cpu/libc match).
//   3. WebAssembly: ../fusewire.wasi.cjs, then the package fusewire-wasm32-wasi.
// NAPI_RS_FORCE_WASI=true tries WebAssembly first (native stays a fallback);
// NAPI_RS_FORCE_WASI=error loads WebAssembly or throws. Any other value
// (unset, 0, false) prefers native.

const fs = require('node:fs');
const path = require('node:path');

// napi-rs's platform names: `${platform}-${arch}` plus the ABI where one
// platform has several (linux: gnu or musl; windows: msvc).
function platformName(platform, arch, musl) {
  if (platform === 'linux') return `linux-${arch}-${musl ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

// musl or glibc? The same three probes napi-rs's generated loader makes, in
// the same order: /usr/bin/ldd's text, then process.report (glibc reports
// its runtime version; musl shows up as a loaded ld-musl/libc.musl).
function isMusl() {
  if (process.platform !== 'linux') return false;
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch { /* no ldd: ask the process report */ }
  try {
    const report = process.report && process.report.getReport();
    if (report && report.header && report.header.glibcVersionRuntime) return false;
    const libs = (report && report.sharedObjects) || [];
    return libs.some(f => f.includes('libc.musl-') || f.includes('ld-musl-'));
  } catch {
    return false;
  }
}

/**
 * The module specifiers to try, in order, each tagged with what it is.
 * Pure (no file system): the tests call it with every platform and switch.
 * @param {{platform: string, arch: string, musl: boolean, env: Record<string, string|undefined>}} host
 * @returns {{kind: 'native'|'wasm', id: string}[]}
 */
function candidates({ platform, arch, musl, env }) {
  if (env.NAPI_RS_NATIVE_LIBRARY_PATH) return [{ kind: 'native', id: env.NAPI_RS_NATIVE_LIBRARY_PATH }];
  const name = platformName(platform, arch, musl);
  const native = [
    { kind: 'native', id: `../fusewire.${name}.node` },
    { kind: 'native', id: '../fusewire.node' },
    { kind: 'native', id: `fusewire-${name}` }
  ];
  const wasm = [
    { kind: 'wasm', id: '../fusewire.wasi.cjs' },
    { kind: 'wasm', id: 'fusewire-wasm32-wasi' }
  ];
  const force = env.NAPI_RS_FORCE_WASI;
  if (force === 'error') return wasm;
  if (force === 'true') return [...wasm, ...native];
  return [...native, ...wasm];
}

/**
 * Loads the first candidate that loads. Throws one error naming this
 * platform and every attempt when none does.
 * @param {(id: string) => unknown} load
 */
function loadEngine(host, load = require) {
  const errors = [];
  for (const c of candidates(host)) {
    try {
      const engine = load(c.id);
      return { engine, kind: c.kind, from: c.id };
    } catch (err) {
      // A missing candidate is the normal case; any other failure (a binary
      // for another libc, a corrupt file) is kept for the message too.
      errors.push(`${c.id}: ${err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(c.id.replace('../', '')) ? 'not installed' : (err && err.message) || err}`);
    }
  }
  const name = platformName(host.platform, host.arch, host.musl);
  const err = new Error(
    `fusewire: no engine loads on ${name} (Node ${process.versions.node}). ` +
    `Tried:\n  ${errors.join('\n  ')}\n` +
    `npm installs the matching fusewire-${name} package, or fusewire-wasm32-wasi where none exists: ` +
    'reinstall without --no-optional / --omit=optional (npm bug 4828: delete package-lock.json and node_modules, then npm install).'
  );
  err.code = 'FUSEWIRE_NO_ENGINE';
  throw err;
}

// The WebAssembly engine works on copies of the typed arrays passed to it
// (emnapi): after each method, copy every typed-array argument back, so the
// answers the engine writes into `io` reach JavaScript as they do natively.
function syncBackAfterCalls(engine) {
  const back = engine.wasmSyncBack;
  if (typeof back !== 'function') return engine;
  for (const value of Object.values(engine)) {
    if (typeof value !== 'function' || !value.prototype) continue;
    const proto = value.prototype;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, name);
      if (name === 'constructor' || typeof d.value !== 'function') continue;
      const f = d.value;
      proto[name] = function (...args) {
        const r = f.apply(this, args);
        for (const a of args) if (a instanceof Float64Array) back(a);
        return r;
      };
    }
  }
  return engine;
}

// The host tier (HostStore: shared memory between processes) has no
// WebAssembly form, so those classes are absent from the WebAssembly engine.
// Stand-ins keep `instanceof` checks working (always false) and make using
// one fail with a message that says why, instead of "not a constructor".
const HOST_ONLY = ['NativeHostStore', 'HostBreaker', 'HostBucket', 'HostBudget', 'HostBulkhead'];
function withoutHostTier(engine) {
  const missing = HOST_ONLY.filter(name => engine[name] === undefined);
  if (missing.length === 0) return engine;
  const out = Object.create(Object.getPrototypeOf(engine), Object.getOwnPropertyDescriptors(engine));
  for (const name of missing) {
    const Absent = class {
      constructor() {
        const err = new Error('fusewire: HostStore (policies in shared memory) needs the native engine; ' +
          'this process runs the WebAssembly one (no native package fits this platform, or NAPI_RS_FORCE_WASI is set). ' +
          'Use an in-process policy or RedisStore here.');
        err.code = 'FUSEWIRE_NO_HOST_TIER';
        throw err;
      }
      static unlink() { return new Absent(); }
    };
    Object.defineProperty(Absent, 'name', { value: name });
    out[name] = Absent;
  }
  return out;
}

const host = { platform: process.platform, arch: process.arch, musl: isMusl(), env: process.env };
const loaded = loadEngine(host);
const native = loaded.kind === 'wasm' ? withoutHostTier(syncBackAfterCalls(loaded.engine)) : loaded.engine;

module.exports = {
  native,
  // 'native' or 'wasm', and the specifier it came from (tests and the README's
  // "which engine am I on" recipe read these).
  engine: { kind: loaded.kind, from: loaded.from, platform: platformName(host.platform, host.arch, host.musl) },
  candidates,
  loadEngine,
  withoutHostTier,
  platformName,
  ...native.ioLayout(),
  // Records a breaker appends before the buffer is drained (a JS choice:
  // the buffer is shared by every breaker, see lib/status.js).
  RING: 256
};
