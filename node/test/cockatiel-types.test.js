'use strict';

// cockatiel.d.ts: cockatiel 4's README snippets, typed against
// fusewire/cockatiel, compile with tsc --strict (and misuse does not).

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

it('cockatiel.d.ts accepts cockatiel README code and types the extras', () => {
  const tsc = path.join(__dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types-cockatiel')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
