'use strict';

// HostStore: one breaker, bucket and bulkhead shared by real Node processes
// (child_process.fork, as cluster workers are), issue #17's "Exact" and
// "Faults". Workers: host-worker.js.

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { fork } = require('node:child_process');
const fw = require('..');

const WORKER = path.join(__dirname, 'host-worker.js');
let seq = 0;
const made = [];
// Every store a test made goes at exit, a failed test's too.
process.on('exit', () => { for (const name of made) fw.HostStore.unlink(name); });

function storeName () {
  const name = `nodetest-${process.pid}-${seq++}`;
  fw.HostStore.unlink(name);
  made.push(name);
  return name;
}

function spawn (job, args) {
  const child = fork(WORKER, [job, JSON.stringify(args)]);
  const messages = [];
  const waiters = [];
  child.on('message', (m) => {
    const w = waiters.shift();
    if (w) w(m); else messages.push(m);
  });
  const next = () => (messages.length ? Promise.resolve(messages.shift()) : new Promise((resolve) => waiters.push(resolve)));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, next, exited };
}

const startAt = (ms) => String(process.hrtime.bigint() + BigInt(ms) * 1000000n);

test('8 processes never exceed burst + rate x elapsed on one bucket', async () => {
  const store = storeName();
  new fw.TokenBucket({ burst: 100, tokens: 100, period: 1000, store: new fw.HostStore(store), name: 'api' });
  const t0 = process.hrtime.bigint() + 1500000000n;
  const workers = Array.from({ length: 8 }, () => spawn('bucket', { store, startAt: String(t0), ms: 2000 }));
  const results = await Promise.all(workers.map((w) => w.next()));
  const grants = results.flatMap((m) => m.result.map(BigInt)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  grants.forEach((t, i) => {
    const allowed = 100 + 100 * Number(t - t0) / 1e9;
    assert.ok(i + 1 <= allowed, `grant ${i + 1} at ${Number(t - t0) / 1e9}s`);
  });
  // And the fleet took what the bucket had from its first grant on (the
  // bucket is full then): not a bound that holds because nobody asked.
  const span = Number(grants[grants.length - 1] - grants[0]) / 1e9;
  assert.ok(grants.length >= (100 + 100 * span) * 0.9, `${grants.length} in ${span}s`);
  fw.HostStore.unlink(store);
});

const PROBES = { consecutiveFailures: 1, halfOpenProbes: 3, openBackoff: { kind: 'constant', base: 1 }, halfOpenMaxDwell: 60000 };

test('half-open admits exactly k probes across processes', async () => {
  const store = storeName();
  const b = new fw.Breaker({ store: new fw.HostStore(store), name: 'db', ...PROBES });
  b.trip();
  const workers = Array.from({ length: 8 }, () => spawn('probes', { store, startAt: startAt(1500), ms: 400, breaker: PROBES }));
  const held = (await Promise.all(workers.map((w) => w.next()))).flatMap((m) => m.result);
  assert.strictEqual(held.length, 3);
  assert.ok(held.every((probe) => probe));
  assert.strictEqual(b.snapshot().probesInFlight, 3);
  fw.HostStore.unlink(store);
});

test('the bulkhead limit holds across processes', async () => {
  const store = storeName();
  new fw.Bulkhead({ limit: 3, store: new fw.HostStore(store), name: 'pool' });
  const workers = Array.from({ length: 8 }, () => spawn('bulkhead', { store, startAt: startAt(1500), ms: 400 }));
  const spans = (await Promise.all(workers.map((w) => w.next()))).flatMap((m) => m.result);
  // Each span is read inside its slot's holding: the spans overlapping at
  // any instant are at most the slots held then.
  const events = spans.flatMap(([a, b]) => [[BigInt(a), 1], [BigInt(b), -1]])
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] - y[1]));
  let inside = 0;
  let most = 0;
  for (const [, d] of events) {
    inside += d;
    most = Math.max(most, inside);
  }
  assert.ok(spans.length > 100, String(spans.length));
  assert.ok(most <= 3, `at most 3 at once, saw ${most}`);
  assert.ok(most >= 2, 'the processes did overlap');
  fw.HostStore.unlink(store);
});

test('a SIGKILLed worker loses its bulkhead slots for at most its lease', async () => {
  const store = storeName();
  const lease = 1000;
  const bulkhead = new fw.Bulkhead({ limit: 2, lease, store: new fw.HostStore(store), name: 'pool' });
  const w = spawn('holdSlots', { store, lease });
  assert.deepStrictEqual(await w.next(), { ready: true });
  assert.strictEqual(bulkhead.tryAcquire(), null);
  w.child.kill('SIGKILL');
  assert.strictEqual((await w.exited).signal, 'SIGKILL');
  const killed = Date.now();
  let release = null;
  while ((release = bulkhead.tryAcquire()) === null) {
    assert.ok(Date.now() - killed < lease + 2000, 'the slots never came back');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(Date.now() - killed <= lease + 300, "within its lease (and a loaded machine's slack)");
  release();
  assert.strictEqual(bulkhead.reclaimed, 2);
  fw.HostStore.unlink(store);
});

test('a SIGKILLed worker loses its probe for at most the half-open dwell', async () => {
  const store = storeName();
  const config = { consecutiveFailures: 1, openBackoff: { kind: 'constant', base: 50 }, halfOpenMaxDwell: 500 };
  const b = new fw.Breaker({ store: new fw.HostStore(store), name: 'db', ...config });
  b.trip();
  const w = spawn('holdProbe', { store, breaker: config });
  assert.deepStrictEqual(await w.next(), { ready: true });
  assert.strictEqual(b.tryAcquire().admitted, false);
  w.child.kill('SIGKILL');
  await w.exited;
  const killed = Date.now();
  let a;
  while (!(a = b.tryAcquire()).admitted) {
    assert.ok(Date.now() - killed < 2000, 'the probe never came back');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(a.probe);
  assert.ok(Date.now() - killed <= 500 + 50 + 300, "within the dwell and the open time (and slack)");
  b.record(a.permit, 'success', 1);
  assert.strictEqual(b.state, 'closed');
  fw.HostStore.unlink(store);
});

test('two processes disagreeing on a config get a typed error naming the option', async () => {
  const store = storeName();
  new fw.TokenBucket({ burst: 100, tokens: 100, period: 1000, store: new fw.HostStore(store), name: 'api' });
  const same = spawn('bind', { store, burst: 100 });
  assert.deepStrictEqual(await same.next(), { result: 'ok' });
  const other = spawn('bind', { store, burst: 50 });
  assert.deepStrictEqual(await other.next(), { result: 'ERR_FUSEWIRE_CONFIG:burst' });
  assert.throws(() => new fw.Bulkhead({ limit: 1, store: new fw.HostStore(store), name: 'api' }),
    (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === 'name');
  fw.HostStore.unlink(store);
});

test('bad names and sizes, a full store, an unsupported window size: typed errors', () => {
  const store = storeName();
  for (const [make, field] of [
    [() => new fw.HostStore('a/b'), 'store'],
    [() => new fw.HostStore(3), 'name'],
    [() => new fw.HostStore(store, { size: -1 }), 'size'],
    [() => new fw.HostStore(store, { size: 10 }), 'size'],
    [() => new fw.TokenBucket({ burst: 1, store: new fw.HostStore(store), name: 'x'.repeat(65) }), 'name'],
    [() => new fw.Breaker({ store: new fw.HostStore(store), name: 'w', window: { count: 7 }, minCalls: 5 }), 'window.count']
  ]) {
    assert.throws(make, (e) => e instanceof TypeError && e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === field, field);
  }
  const small = storeName();
  const s = new fw.HostStore(small, { size: 64 * 1024 });
  assert.throws(() => {
    for (let i = 0; i < 10000; i++) new fw.RetryBudget({ store: s, name: `b${i}` });
  }, (e) => e.code === 'ERR_FUSEWIRE_STORE' && e.reason === 'full' && e.store === small);
  fw.HostStore.unlink(store);
  fw.HostStore.unlink(small);
});

test('a core Breaker over a time window in a host store: one window for every binding, aged on the host clock', async () => {
  const store = storeName();
  const options = { window: { span: 300, buckets: 3 }, minCalls: 3, failureRate: 50, store: new fw.HostStore(store), name: 't' };
  const a = new fw.Breaker(options);
  const b = new fw.Breaker({ ...options, store: new fw.HostStore(store) });
  const fail = (br) => br.record(br.tryAcquire(0).permit, 'failure', 1, 0);
  fail(a);
  fail(b);
  assert.strictEqual(a.snapshot(0).counts.failures, 2);
  await new Promise((resolve) => setTimeout(resolve, 450));
  assert.strictEqual(b.snapshot(0).counts.failures, 0, 'aged out after the span');
  fail(a);
  fail(b);
  assert.strictEqual(a.state, 'closed', '2 of 2: below minCalls');
  const t = fail(b);
  assert.strictEqual(t && t.to, 'open');
  assert.strictEqual(a.state, 'open');
  fw.HostStore.unlink(store);
});

test('a budget in a host store drives retry() for every process', async () => {
  const store = storeName();
  const budget = new fw.RetryBudget({ maxTokens: 4, tokenRatio: 0.5, store: new fw.HostStore(store), name: 'r' });
  const other = new fw.RetryBudget({ maxTokens: 4, tokenRatio: 0.5, store: new fw.HostStore(store), name: 'r' });
  for (let i = 0; i < 3; i++) other.recordFailure();
  assert.strictEqual(budget.canRetry, false);
  let calls = 0;
  await assert.rejects(fw.retry(async () => { calls++; throw new Error('down'); }, { maxAttempts: 5, budget, backoff: { kind: 'constant', base: 1 } }));
  assert.strictEqual(calls, 1);
  fw.HostStore.unlink(store);
});

test('a Pool refuses a RetryBudget in a store (typed error on budget)', () => {
  const store = storeName();
  const budget = new fw.RetryBudget({ store: new fw.HostStore(store), name: 'r' });
  assert.throws(() => new fw.Pool(['a', 'b'], { budget }), (e) => e instanceof TypeError && /budget/.test(e.message));
  fw.HostStore.unlink(store);
});
