'use strict';

// The packed package resolves fusewire/cockatiel through its "exports" map:
// require() and import in an empty project that installed the tarball
// offline, and the types ship with it.

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const here = path.join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

it('npm pack: require and import fusewire/cockatiel from an installed tarball', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fusewire-cockatiel-pack-'));
  try {
    const out = execFileSync(npm, ['pack', '--json', '--pack-destination', dir], { cwd: here, encoding: 'utf8' });
    const [{ filename, files }] = JSON.parse(out);
    const names = files.map(f => f.path);
    for (const f of ['cockatiel.js', 'cockatiel.mjs', 'cockatiel.d.ts', 'lib/cockatiel.js']) {
      assert.ok(names.includes(f), `${f} is packed`);
    }
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    execFileSync(npm, ['install', '--offline', '--no-audit', '--no-fund', path.join(dir, filename)], { cwd: app, stdio: 'pipe' });
    const cjs = execFileSync(process.execPath, ['-e', `
      const { retry, handleAll, circuitBreaker, ConsecutiveBreaker, wrap } = require('fusewire/cockatiel');
      const p = wrap(retry(handleAll, { maxAttempts: 2 }), circuitBreaker(handleAll, { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }));
      let n = 0;
      p.execute(() => { if (++n < 2) throw new Error('once'); return n; }).then(v => console.log(v));
    `], { cwd: app, encoding: 'utf8' });
    assert.equal(cjs.trim(), '2');
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import { timeout, TimeoutStrategy, isTaskCancelledError } from 'fusewire/cockatiel';
      const e = await timeout(5, TimeoutStrategy.Aggressive).execute(() => new Promise(() => {})).catch(x => x);
      console.log(isTaskCancelledError(e), e.message);
    `], { cwd: app, encoding: 'utf8' });
    assert.equal(esm.trim(), 'true Operation timed out after 5ms');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
