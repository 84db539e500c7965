'use strict';

// What an idle fusewire breaker holds (issue #14): dropped without
// shutdown() and with nothing in flight, it is garbage at once (no timer,
// no shared buffer keeps it), and its native memory is sized by its options.
// RSS figures are benchmarks (bench/), not tests.

const { it } = require('node:test');
const assert = require('node:assert/strict');
const v8 = require('node:v8');
const vm = require('node:vm');
const CircuitBreaker = require('..');
const { native } = require('../lib/native');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const turn = () => new Promise(resolve => setImmediate(resolve));

async function collected (ref) {
  for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
    await turn();
    gc();
  }
  return ref.deref() === undefined;
}

it('a breaker dropped without shutdown() after its calls settled is collected', async () => {
  const finalized = [];
  const registry = new FinalizationRegistry(name => finalized.push(name));
  let b = new CircuitBreaker(async x => x, { timeout: 10000, name: 'dropped' });
  await b.fire(1);
  await b.fire().catch(() => {});
  registry.register(b, 'dropped');
  const ref = new WeakRef(b);
  b = null;
  assert.ok(await collected(ref), 'still reachable: a timer or the io buffer holds it');
  await turn();
  assert.deepEqual(finalized, ['dropped']);
});

it('one never fired, and one with a failure in its window, are collected too', async () => {
  const failed = async () => {
    const b = new CircuitBreaker(async () => { throw new Error('x'); }, { errorThresholdPercentage: 100 });
    await b.fire().catch(() => {});
    return new WeakRef(b);
  };
  const refs = [new WeakRef(new CircuitBreaker(async () => 1)), await failed()];
  for (const ref of refs) assert.ok(await collected(ref));
});

it('a breaker with a call in flight stays alive until the call times out', async () => {
  let b = new CircuitBreaker(() => new Promise(() => {}), { timeout: 30 });
  const call = b.fire().catch(e => e);
  const ref = new WeakRef(b);
  b = null;
  gc();
  assert.notEqual(ref.deref(), undefined);
  assert.equal((await call).code, 'ETIMEDOUT');
});

it('native memory follows the options: the counters come with the first call', () => {
  const small = new native.Engine(10000, 10, false);
  const large = new native.Engine(100000, 1000, false);
  const idle = small.footprint();
  assert.ok(idle < 1024, `an idle engine holds ${idle} bytes`);
  assert.ok(large.footprint() > 20 * idle, 'a window of 1000 buckets is sized for them');
  const io = new Float64Array(64);
  io[32] = 0; // one fire record
  small.flush(io, 1, 1);
  assert.ok(small.footprint() > idle, 'the counters are allocated on first use');
});
