'use strict';

// opossum's CircuitBreaker with { store, name }: one breaker for every
// process bound to the name in a HostStore (issue #17's opt-in extra).

const test = require('node:test');
const assert = require('node:assert');
const { fork } = require('node:child_process');
const fw = require('..');
const CircuitBreaker = fw;

let seq = 0;
const made = [];
// Every store a test made goes at exit, a failed test's too.
process.on('exit', () => { for (const name of made) fw.HostStore.unlink(name); });
function storeName () {
  const name = `nodecircuit-${process.pid}-${seq++}`;
  fw.HostStore.unlink(name);
  made.push(name);
  return name;
}

const OPTIONS = { slidingWindowSize: 10, volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeout: 60000 };
const fail = async () => { throw new Error('down'); };

test('failures through one breaker open it for another bound to the same name', async () => {
  const name = storeName();
  const a = new CircuitBreaker(fail, { ...OPTIONS, store: new fw.HostStore(name), name: 'db' });
  const b = new CircuitBreaker(async () => 'ok', { ...OPTIONS, store: new fw.HostStore(name), name: 'db' });
  const opened = [];
  a.on('open', () => opened.push('a'));
  b.on('open', () => opened.push('b'));
  for (let i = 0; i < 4; i++) await assert.rejects(a.fire(), /down/);
  assert.strictEqual(a.opened, true);
  await assert.rejects(b.fire(), (e) => e.code === 'EOPENBREAKER');
  assert.deepStrictEqual(opened, ['a', 'b'], "b follows the shared state and emits opossum's event");
  assert.strictEqual(b.stats.rejects, 1, 'stats stay this process\'s own');
  b.close();
  assert.strictEqual(a.closed, true);
  assert.strictEqual(await a.fallback(() => 'fallback').fire(), 'fallback');
  a.shutdown();
  b.shutdown();
  fw.HostStore.unlink(name);
});

test('a breaker opened in another process rejects here; its half-open probe is one for all', async () => {
  const name = storeName();
  const options = { ...OPTIONS, resetTimeout: 100, halfOpenMaxDwell: 5000 };
  const here = new CircuitBreaker(async () => 'ok', { ...options, store: new fw.HostStore(name), name: 'db' });
  const child = fork(__filename.replace('host-circuit.test.js', 'host-circuit-worker.js'), [name, JSON.stringify(options)]);
  const [msg] = await new Promise((resolve) => child.once('message', (m) => resolve([m])));
  assert.deepStrictEqual(msg, { opened: true });
  await assert.rejects(here.fire(), (e) => e.code === 'EOPENBREAKER');
  assert.strictEqual(here.opened, true);
  // After resetTimeout the breaker is half-open: one probe in all.
  await new Promise((resolve) => setTimeout(resolve, 150));
  child.send('probe');
  const [probe] = await new Promise((resolve) => child.once('message', (m) => resolve([m])));
  assert.deepStrictEqual(probe, { probe: 'held' });
  await assert.rejects(here.fire(), (e) => e.code === 'EOPENBREAKER', 'the child holds the only probe');
  child.send('settle');
  await new Promise((resolve) => child.once('exit', resolve));
  assert.strictEqual(await here.fire(), 'ok');
  assert.strictEqual(here.closed, true);
  here.shutdown();
  fw.HostStore.unlink(name);
});

test('configure() cannot change a shared rule', () => {
  const name = storeName();
  const b = new CircuitBreaker(async () => 1, { ...OPTIONS, store: new fw.HostStore(name), name: 'db' });
  assert.throws(() => b.configure({ errorThresholdPercentage: 10 }), (e) => e.field === 'errorThresholdPercentage');
  b.configure({ timeout: 500 });
  assert.throws(() => new CircuitBreaker(async () => 1, { ...OPTIONS, volumeThreshold: 5, store: new fw.HostStore(name), name: 'db' }),
    (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === 'minCalls');
  b.shutdown();
  fw.HostStore.unlink(name);
});
