'use strict';

// `npm pack` gives a tarball that installs offline into an empty project,
// and works there through both entries.

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const here = path.join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

it('npm pack installs offline into an empty project and works (CJS and ESM)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fusewire-pack-'));
  try {
    const out = execFileSync(npm, ['pack', '--json', '--pack-destination', dir], { cwd: here, encoding: 'utf8' });
    const [{ filename, files }] = JSON.parse(out);
    const names = files.map(f => f.path);
    for (const f of ['index.js', 'index.mjs', 'index.d.ts', 'fusewire.node', 'lib/circuit.js', 'package.json']) {
      assert.ok(names.includes(f), `${f} is packed`);
    }
    assert.ok(!names.some(n => n.startsWith('test/') || n.startsWith('src/')));
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    execFileSync(npm, ['install', '--offline', '--no-audit', '--no-fund', path.join(dir, filename)], { cwd: app, stdio: 'pipe' });
    const cjs = execFileSync(process.execPath, ['-e', `
      const CircuitBreaker = require('fusewire');
      const b = new CircuitBreaker(async x => x * 2, { enableSnapshots: false });
      b.fire(21).then(v => console.log(v, typeof CircuitBreaker.retry, b.stats.successes));
    `], { cwd: app, encoding: 'utf8' });
    assert.equal(cjs.trim(), '42 function 1');
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import CircuitBreaker, { TokenBucket, Bulkhead, retry } from 'fusewire';
      const b = new CircuitBreaker(async () => 'ok');
      console.log(await b.fire(), typeof TokenBucket, typeof Bulkhead, typeof retry);
    `], { cwd: app, encoding: 'utf8' });
    assert.equal(esm.trim(), 'ok function function function');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
