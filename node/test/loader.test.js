'use strict';

// lib/native.js: which engine loads where. The candidate order is a pure
// function of platform, arch, libc and the environment; loadEngine is driven
// with a fake `require` so every platform and failure is reachable here.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { candidates, loadEngine, platformName, withoutHostTier } = require('../lib/native');

const linux = { platform: 'linux', arch: 'x64', musl: false, env: {} };
const ids = host => candidates(host).map(c => `${c.kind}:${c.id}`);

describe('native loader', () => {
  it('names platforms as napi-rs does', () => {
    assert.equal(platformName('linux', 'x64', false), 'linux-x64-gnu');
    assert.equal(platformName('linux', 'arm64', true), 'linux-arm64-musl');
    assert.equal(platformName('darwin', 'arm64', false), 'darwin-arm64');
    assert.equal(platformName('win32', 'x64', false), 'win32-x64-msvc');
  });

  it('prefers native (platform file, dev build, platform package), then WebAssembly', () => {
    assert.deepEqual(ids(linux), [
      'native:../fusewire.linux-x64-gnu.node',
      'native:../fusewire.node',
      'native:fusewire-linux-x64-gnu',
      'wasm:../fusewire.wasi.cjs',
      'wasm:fusewire-wasm32-wasi'
    ]);
    assert.ok(ids({ ...linux, arch: 'arm64', musl: true }).includes('native:fusewire-linux-arm64-musl'));
  });

  it('NAPI_RS_FORCE_WASI=true puts WebAssembly first, =error allows nothing else, other values change nothing', () => {
    assert.deepEqual(ids({ ...linux, env: { NAPI_RS_FORCE_WASI: 'true' } }).slice(0, 2),
      ['wasm:../fusewire.wasi.cjs', 'wasm:fusewire-wasm32-wasi']);
    assert.equal(ids({ ...linux, env: { NAPI_RS_FORCE_WASI: 'true' } }).length, 5);
    assert.deepEqual(ids({ ...linux, env: { NAPI_RS_FORCE_WASI: 'error' } }),
      ['wasm:../fusewire.wasi.cjs', 'wasm:fusewire-wasm32-wasi']);
    for (const v of ['0', 'false', '', '1']) {
      assert.deepEqual(ids({ ...linux, env: { NAPI_RS_FORCE_WASI: v } }), ids(linux), `NAPI_RS_FORCE_WASI=${JSON.stringify(v)}`);
    }
  });

  it('NAPI_RS_NATIVE_LIBRARY_PATH is the only candidate when set', () => {
    assert.deepEqual(candidates({ ...linux, env: { NAPI_RS_NATIVE_LIBRARY_PATH: '/x/y.node' } }),
      [{ kind: 'native', id: '/x/y.node' }]);
  });

  function fakeRequire(present) {
    return id => {
      if (present[id] instanceof Error) throw present[id];
      if (id in present) return present[id];
      const err = new Error(`Cannot find module '${id}'`);
      err.code = 'MODULE_NOT_FOUND';
      throw err;
    };
  }

  it('on macOS with only the WebAssembly package installed, loads it', () => {
    const wasm = { wasm: true };
    const got = loadEngine({ platform: 'darwin', arch: 'arm64', musl: false, env: {} },
      fakeRequire({ 'fusewire-wasm32-wasi': wasm }));
    assert.equal(got.engine, wasm);
    assert.equal(got.kind, 'wasm');
  });

  it('a native binary that fails to load (wrong libc) falls through to WebAssembly', () => {
    const dlopen = new Error('Error relocating fusewire.linux-x64-gnu.node: __memcpy_chk: symbol not found');
    const got = loadEngine({ ...linux, musl: true },
      fakeRequire({ 'fusewire-linux-x64-musl': dlopen, 'fusewire-wasm32-wasi': { w: 1 } }));
    assert.equal(got.from, 'fusewire-wasm32-wasi');
  });

  it('nothing loadable: one error naming the platform, each attempt and the npm fix', () => {
    const broken = new Error('invalid ELF header');
    assert.throws(() => loadEngine({ platform: 'freebsd', arch: 'riscv64', musl: false, env: {} },
      fakeRequire({ 'fusewire-freebsd-riscv64': broken })), err => {
      assert.equal(err.code, 'FUSEWIRE_NO_ENGINE');
      assert.match(err.message, /no engine loads on freebsd-riscv64/);
      assert.match(err.message, /fusewire-freebsd-riscv64: invalid ELF header/);
      assert.match(err.message, /fusewire-wasm32-wasi: not installed/);
      assert.match(err.message, /--omit=optional/);
      return true;
    });
  });

  it('NAPI_RS_FORCE_WASI=error with no WebAssembly engine throws rather than load native', () => {
    assert.throws(() => loadEngine({ ...linux, env: { NAPI_RS_FORCE_WASI: 'error' } },
      fakeRequire({ '../fusewire.node': {} })), /no engine loads/);
  });

  it('an engine without the host tier (WebAssembly) gets stand-ins: instanceof is false, using one says why', () => {
    class Engine {}
    const bare = { Engine, ioLayout: () => ({}) };
    const e = withoutHostTier(bare);
    assert.equal(e.Engine, Engine);
    assert.equal({} instanceof e.HostBudget, false);
    assert.throws(() => new e.NativeHostStore('app', 1024), { code: 'FUSEWIRE_NO_HOST_TIER', message: /HostStore .* needs the native engine/ });
    assert.throws(() => e.NativeHostStore.unlink('app'), { code: 'FUSEWIRE_NO_HOST_TIER' });
    const full = { NativeHostStore: 1, HostBreaker: 1, HostBucket: 1, HostBudget: 1, HostBulkhead: 1 };
    assert.equal(withoutHostTier(full), full);
  });

  it('in this source tree, the dev build loads natively', () => {
    const out = execFileSync(process.execPath, ['-e', 'console.log(JSON.stringify(require("./lib/native").engine))'],
      { cwd: path.join(__dirname, '..'), encoding: 'utf8', env: { ...process.env, NAPI_RS_FORCE_WASI: '' } });
    assert.equal(JSON.parse(out).kind, 'native');
  });
});
