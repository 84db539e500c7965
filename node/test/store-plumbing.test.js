'use strict';

// `{ store, name }`: what a policy hands a store and the typed errors of the
// plumbing (store/README.md, "Doors"), with a recording fake store.

const test = require('node:test');
const assert = require('node:assert');
const { TokenBucket, Bulkhead, Breaker, RetryBudget } = require('..');

function recorder (backend = {}) {
  const bound = [];
  return { bound, _bind (kind, name, config) { bound.push([kind, name, config]); return backend; } };
}

const MAKE = {
  bucket: (o) => new TokenBucket({ burst: 10, ...o }),
  bulkhead: (o) => new Bulkhead({ limit: 4, ...o }),
  budget: (o) => new RetryBudget({ ...o }),
  breaker: (o) => new Breaker({ ...o })
};

for (const [kind, make] of Object.entries(MAKE)) {
  test(`${kind}: binds once with its kind, name and a plain config`, () => {
    const store = recorder();
    make({ store, name: 'shared' });
    assert.deepStrictEqual(store.bound.map(([k, n]) => [k, n]), [[kind, 'shared']]);
    for (const v of Object.values(store.bound[0][2])) {
      assert.ok(v === null || typeof v === 'number' || typeof v === 'string', String(v));
    }
  });

  test(`${kind}: a store without a name, a bad name, a store that is not one`, () => {
    const cases = [
      [{ store: recorder() }, 'name'],
      [{ store: recorder(), name: '' }, 'name'],
      [{ store: recorder(), name: 7 }, 'name'],
      [{ store: 'redis://localhost', name: 'x' }, 'store'],
      [{ store: {}, name: 'x' }, 'store']
    ];
    for (const [o, field] of cases) {
      assert.throws(() => make(o), (e) => e instanceof TypeError && e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === field);
    }
  });
}

test('the config is in nanoseconds, the rate in lowest terms, as Python sends it', () => {
  const store = recorder();
  new TokenBucket({ burst: 20, tokens: 10, period: 1000, store, name: 'b' });
  new Bulkhead({ limit: 3, reserveCritical: 1, lease: 2500, store, name: 'h' });
  assert.deepStrictEqual(store.bound[0][2], { burst: 20, tokens: 1, period: 100000000 });
  assert.deepStrictEqual(store.bound[1][2], { limit: 3, reserve_critical: 1, reserve_normal: 0, lease: 2500000000 });
});

test('the bucket asks its backend; a shared rate cannot change', async () => {
  const waits = [0, 0, 5];
  const backend = { take: () => waits.shift(), available: () => 42, refund () {} };
  const b = new TokenBucket({ burst: 10, store: recorder(backend), name: 'b' });
  assert.strictEqual(b.tryTake(), true);
  await b.take();
  assert.strictEqual(b.tryTake(), false);
  assert.strictEqual(b.available, 42);
  assert.throws(() => b.setRate(5), (e) => e.field === 'tokens');
});

test("opossum's CircuitBreaker binds its engine's config as a count-window breaker", () => {
  const CircuitBreaker = require('..');
  const store = recorder({ state: 'closed' });
  new CircuitBreaker(async () => 1, { store, name: 'x', slidingWindowSize: 20, resetTimeout: 5000, volumeThreshold: 4 });
  const [[kind, name, config]] = store.bound;
  assert.deepStrictEqual([kind, name], ['breaker', 'x']);
  assert.strictEqual(config.window, 'count');
  assert.strictEqual(config.window_size, 20);
  assert.strictEqual(config.min_calls, 4);
  assert.strictEqual(config.open_backoff_base, 5000 * 1e6);
  assert.strictEqual(config.half_open_max_dwell, 5000 * 1e6, 'a probe is leased for resetTimeout by default');
  assert.strictEqual(config.comparison, 'above');
  for (const [o, field] of [
    [{ store: recorder(), name: 'x' }, 'slidingWindowSize'],
    [{ store: recorder(), slidingWindowSize: 10 }, 'name'],
    [{ store: recorder(), name: 'x', slidingWindowSize: 10, halfOpenMaxDwell: 0 }, 'halfOpenMaxDwell'],
    [{ store: recorder({ state: 'closed' }), name: 'x', slidingWindowSize: 10, state: { closed: false } }, 'state']
  ]) {
    assert.throws(() => new CircuitBreaker(async () => 1, o), (e) => e instanceof TypeError && e.field === field, field);
  }
});
