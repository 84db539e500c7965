'use strict';

// A Python process and a Node process share one HostStore: the same
// bucket, bulkhead and breaker, bound with each door's own options for the
// same core config (durations compared in nanoseconds, rates in lowest
// terms). Run by `make -C tests host`: node host/cross_door.js <python>.

const assert = require('node:assert');
const path = require('node:path');
const { spawn } = require('node:child_process');
const fw = require('../../node');

const python = process.argv[2];
const name = `cross-door-${process.pid}`;
fw.HostStore.unlink(name);
process.on('exit', () => fw.HostStore.unlink(name));
const py = spawn(python, [path.join(__dirname, 'python_side.py'), name], { stdio: ['pipe', 'pipe', 'inherit'] });

py.stdout.once('data', (line) => {
  assert.strictEqual(String(line).trim(), 'ready');
  const store = new fw.HostStore(name);
  const bucket = new fw.TokenBucket({ burst: 100, tokens: 100, period: 1000, store, name: 'api' });
  const bulkhead = new fw.Bulkhead({ limit: 2, lease: 60000, store, name: 'pool' });
  const breaker = new fw.Breaker({ store, name: 'db', openBackoff: { kind: 'constant', base: 30000, max: 30000 } });
  assert.ok(bucket.available < 50, `Python took the tokens (${bucket.available} left)`);
  assert.strictEqual(bulkhead.inUse, 1, 'Python holds one slot');
  assert.strictEqual(breaker.state, 'open', 'Python tripped the breaker');
  // Half the rate: in lowest terms (1 token per 20 ms, not per 10 ms) the
  // first field that differs is the period.
  assert.throws(() => new fw.TokenBucket({ burst: 100, tokens: 50, period: 1000, store, name: 'api' }),
    (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === 'period');
  py.stdin.end();
  py.on('exit', (code) => {
    assert.strictEqual(code, 0);
    assert.strictEqual(bulkhead.inUse, 0, 'Python released its slot');
    fw.HostStore.unlink(name);
    console.log('host: a Python and a Node process shared one bucket, bulkhead and breaker');
  });
});
