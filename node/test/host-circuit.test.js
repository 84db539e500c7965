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

// opossum's default: a rolling window of rollingCountTimeout ms in
// rollingCountBuckets buckets, the error rate over calls started in it.
const ROLLING = { rollingCountTimeout: 1000, rollingCountBuckets: 10, volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeout: 60000 };

test("opossum's rolling window is shared by processes: another's failures count here, age out, and its trip opens the breaker here", async () => {
  const name = storeName();
  const here = new CircuitBreaker(fail, { ...ROLLING, store: new fw.HostStore(name), name: 'db' });
  const child = fork(__filename.replace('host-circuit.test.js', 'host-timed-worker.js'), [name, JSON.stringify(ROLLING)]);
  const next = () => new Promise((resolve) => child.once('message', resolve));
  assert.deepStrictEqual(await next(), { ready: true });
  child.send({ fail: 2 });
  assert.deepStrictEqual(await next(), { state: 'closed' }, '2 fires: below volumeThreshold');
  // The span and a bucket later (the host's clock), both have aged out:
  // one failure here is 1 fire of 1, below volumeThreshold.
  await new Promise((resolve) => setTimeout(resolve, 1200));
  await assert.rejects(here.fire(), /down/);
  assert.strictEqual(here.closed, true, "the other process's failures aged out");
  child.send({ fail: 2 });
  assert.deepStrictEqual(await next(), { state: 'open' }, '3 failed fires of 3 in the window');
  await assert.rejects(here.fire(), (e) => e.code === 'EOPENBREAKER');
  assert.strictEqual(here.opened, true);
  child.send('exit');
  await new Promise((resolve) => child.once('exit', resolve));
  here.shutdown();
  fw.HostStore.unlink(name);
});

test('a rolling window a store cannot hold, or two processes disagreeing on it, name opossum\'s options', () => {
  const name = storeName();
  assert.throws(() => new CircuitBreaker(fail, { ...ROLLING, rollingCountBuckets: 100, store: new fw.HostStore(name), name: 'db' }),
    (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === 'rollingCountBuckets');
  const a = new CircuitBreaker(fail, { ...ROLLING, store: new fw.HostStore(name), name: 'db' });
  assert.throws(() => new CircuitBreaker(fail, { ...ROLLING, rollingCountTimeout: 2000, store: new fw.HostStore(name), name: 'db' }),
    (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === 'rollingCountTimeout');
  assert.throws(() => new CircuitBreaker(fail, { ...ROLLING, slidingWindowSize: 10, store: new fw.HostStore(name), name: 'db' }),
    (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === 'slidingWindowSize');
  a.shutdown();
  fw.HostStore.unlink(name);
});
