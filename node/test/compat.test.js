'use strict';

// The same cases, run on opossum 10 (the reference) and on fusewire: what
// passes on both is behaviour fusewire shares with opossum, measured.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { EventEmitter } = require('node:events');

const IMPLS = [
  ['opossum', require('opossum')],
  ['fusewire', require('..')]
];

const EVENTS = [
  'fire', 'success', 'failure', 'timeout', 'reject', 'open', 'close', 'halfOpen',
  'fallback', 'semaphoreLocked', 'healthCheckFailed', 'cacheHit', 'cacheMiss',
  'coalesceCacheHit', 'coalesceCacheMiss', 'shutdown'
];

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const ok = async x => x;
const boom = async () => { throw new Error('boom'); };
// No timers left behind: every breaker here gets these unless a test says otherwise.
const QUIET = () => ({ enableSnapshots: false });

function log (breaker) {
  const seen = [];
  for (const e of EVENTS) breaker.on(e, (...args) => seen.push([e, ...args]));
  seen.names = () => seen.map(s => s[0]);
  return seen;
}

const DEFAULT_EVENT_NAMES = [
  'success', 'failure', 'fallback', 'timeout', 'fire', 'reject', 'cacheHit',
  'cacheMiss', 'coalesceCacheHit', 'coalesceCacheMiss', 'open', 'close', 'semaphoreLocked'
];

for (const [impl, CircuitBreaker] of IMPLS) {
  describe(impl, () => {
    describe('module and statics', () => {
      it('exports the class itself, with isOurError and newStatus', () => {
        assert.equal(typeof CircuitBreaker, 'function');
        assert.ok(new CircuitBreaker(ok, QUIET()) instanceof EventEmitter);
        assert.equal(typeof CircuitBreaker.isOurError, 'function');
        const status = CircuitBreaker.newStatus({ enableSnapshots: false });
        assert.ok(status instanceof EventEmitter);
        assert.equal(status.stats.fires, 0);
        assert.equal(status.window.length, 10);
        assert.equal(typeof status.constructor, 'function');
        status.shutdown();
      });

      it('isOurError tells breaker errors from action errors', async () => {
        const b = new CircuitBreaker(boom, QUIET());
        const err = await b.fire().catch(e => e);
        assert.equal(CircuitBreaker.isOurError(err), false);
        b.open();
        const ours = await b.fire().catch(e => e);
        assert.equal(CircuitBreaker.isOurError(ours), true);
        assert.throws(() => CircuitBreaker.isOurError(undefined), TypeError);
      });
    });

    describe('constructor', () => {
      it('throws a TypeError without an action', () => {
        assert.throws(() => new CircuitBreaker(), {
          name: 'TypeError',
          message: 'No action provided. Cannot construct a CircuitBreaker without an invocable action.'
        });
      });

      it('resolves with a non-function action', async () => {
        const b = new CircuitBreaker('a value', QUIET());
        assert.equal(await b.fire(), 'a value');
      });

      it('fills the options object it was given with the defaults', () => {
        const options = { enableSnapshots: false };
        const b = new CircuitBreaker(ok, options);
        assert.equal(b.options, options);
        assert.equal(options.timeout, 10000);
        assert.equal(options.resetTimeout, 30000);
        assert.equal(options.errorThresholdPercentage, 50);
        assert.equal(options.rollingCountTimeout, 10000);
        assert.equal(options.rollingCountBuckets, 10);
        assert.equal(options.rollingPercentilesEnabled, true);
        assert.equal(options.capacity, Number.MAX_SAFE_INTEGER);
        assert.equal(options.cacheTTL, 0);
        assert.equal(options.coalesce, false);
        assert.equal(options.coalesceTTL, 10000);
        assert.deepEqual(options.coalesceResetOn, []);
        assert.equal(typeof options.errorFilter, 'function');
        assert.equal(options.errorFilter(new Error()), false);
        assert.equal(options.cacheGetKey(1, 'a'), '[1,"a"]');
        assert.equal(b.volumeThreshold, 0);
        assert.equal(b.warmUp, false);
        assert.equal(b.enabled, true);
      });

      it('takes only integer capacity and volumeThreshold', () => {
        const b = new CircuitBreaker(ok, { capacity: 2.5, volumeThreshold: 1.5, enableSnapshots: false });
        assert.equal(b.options.capacity, Number.MAX_SAFE_INTEGER);
        assert.equal(b.volumeThreshold, 0);
        const c = new CircuitBreaker(ok, { capacity: 3, volumeThreshold: 4, enableSnapshots: false });
        assert.equal(c.options.capacity, 3);
        assert.equal(c.volumeThreshold, 4);
      });

      it('names from options, the action, or a uuid; group defaults to the name', () => {
        assert.equal(new CircuitBreaker(ok, { name: 'n', ...QUIET() }).name, 'n');
        async function fetchThing () {}
        const b = new CircuitBreaker(fetchThing, QUIET());
        assert.equal(b.name, 'fetchThing');
        assert.equal(b.group, 'fetchThing');
        const anon = new CircuitBreaker(() => {}, QUIET());
        assert.match(anon.name, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.equal(new CircuitBreaker(ok, { group: 'g', ...QUIET() }).group, 'g');
      });

      it('rejects a cacheTransport without get, set and flush', () => {
        assert.throws(() => new CircuitBreaker(ok, { cache: true, cacheTransport: { get () {} } }), {
          name: 'TypeError',
          message: 'options.cacheTransport should be an object with `get`, `set` and `flush` methods'
        });
      });

      it('rejects an abortController without abort()', () => {
        assert.throws(() => new CircuitBreaker(ok, { abortController: {} }), {
          name: 'TypeError',
          message: 'AbortController does not contain `abort()` method'
        });
      });

      it('lists opossum\'s event names right after construction', () => {
        const b = new CircuitBreaker(ok, QUIET());
        assert.deepEqual(b.eventNames(), DEFAULT_EVENT_NAMES);
        b.on('halfOpen', () => {});
        assert.deepEqual(b.eventNames(), [...DEFAULT_EVENT_NAMES, 'halfOpen']);
      });
    });

    describe('fire and events', () => {
      it('fire then success(result, latency)', async () => {
        const b = new CircuitBreaker(ok, QUIET());
        const seen = log(b);
        assert.equal(await b.fire(7), 7);
        assert.deepEqual(seen.names(), ['fire', 'success']);
        assert.deepEqual(seen[0][1], [7]);
        assert.equal(seen[1][1], 7);
        assert.equal(typeof seen[1][2], 'number');
      });

      it('call(context, ...args) binds this', async () => {
        const b = new CircuitBreaker(async function (x) { return this.k + x; }, QUIET());
        assert.equal(await b.call({ k: 1 }, 2), 3);
      });

      it('a synchronous action and a throwing one', async () => {
        assert.equal(await new CircuitBreaker(x => x * 2, QUIET()).fire(4), 8);
        const b = new CircuitBreaker(() => { throw new Error('sync'); }, QUIET());
        await assert.rejects(b.fire(), /sync/);
        assert.equal(b.stats.failures, 1);
      });

      it('failure(err, latency, args) then open, with the default threshold', async () => {
        const b = new CircuitBreaker(boom, QUIET());
        const seen = log(b);
        await assert.rejects(b.fire(1, 2), /boom/);
        assert.deepEqual(seen.names(), ['fire', 'failure', 'open']);
        const [, err, latency, args] = seen[1];
        assert.equal(err.message, 'boom');
        assert.equal(typeof latency, 'number');
        assert.deepEqual(args, [1, 2]);
        assert.equal(b.opened, true);
        assert.equal(b.closed, false);
      });

      it('opens only above the threshold (strictly greater)', async () => {
        let fail = false;
        const b = new CircuitBreaker(async () => { if (fail) throw new Error('x'); return 1; }, QUIET());
        await b.fire();
        fail = true;
        await b.fire().catch(() => {});
        assert.equal(b.closed, true, '1 of 2 = 50% is not above 50');
        await b.fire().catch(() => {});
        assert.equal(b.opened, true, '2 of 3 is');
      });

      it('rejects with EOPENBREAKER while open, emitting fire then reject', async () => {
        const b = new CircuitBreaker(ok, QUIET());
        b.open();
        const seen = log(b);
        const err = await b.fire().catch(e => e);
        assert.equal(err.code, 'EOPENBREAKER');
        assert.equal(err.message, 'Breaker is open');
        assert.deepEqual(seen.names(), ['fire', 'reject']);
        assert.equal(seen[1][1], err);
        const s = b.stats;
        assert.equal(s.fires, 1);
        assert.equal(s.rejects, 1);
      });

      it('open() and close() emit once per change', () => {
        const b = new CircuitBreaker(ok, QUIET());
        const seen = log(b);
        b.open();
        b.open();
        b.close();
        b.close();
        assert.deepEqual(seen.names(), ['open', 'close']);
      });
    });

    describe('half-open', () => {
      it('emits halfOpen(resetTimeout); the trial success closes (close before success)', async () => {
        let fail = true;
        const b = new CircuitBreaker(async () => { if (fail) throw new Error('x'); return 'ok'; },
          { resetTimeout: 20, ...QUIET() });
        await b.fire().catch(() => {});
        assert.equal(b.opened, true);
        const seen = log(b);
        await sleep(60);
        assert.equal(b.halfOpen, true);
        assert.equal(b.pendingClose, true);
        assert.deepEqual(seen[0], ['halfOpen', 20]);
        fail = false;
        assert.equal(await b.fire(), 'ok');
        assert.deepEqual(seen.names(), ['halfOpen', 'fire', 'close', 'success']);
        assert.equal(b.closed, true);
      });

      it('lets one trial through; others are rejected until it settles', async () => {
        let release;
        const b = new CircuitBreaker(() => new Promise(resolve => { release = resolve; }),
          { resetTimeout: 10, ...QUIET() });
        b.open();
        await sleep(40);
        assert.equal(b.halfOpen, true);
        const trial = b.fire();
        assert.equal(b.pendingClose, false);
        const other = await b.fire().catch(e => e);
        assert.equal(other.code, 'EOPENBREAKER');
        release('done');
        assert.equal(await trial, 'done');
        assert.equal(b.closed, true);
      });

      it('a failed trial reopens and the reset timer runs again', async () => {
        const b = new CircuitBreaker(boom, { resetTimeout: 15, ...QUIET() });
        b.open();
        await sleep(50);
        assert.equal(b.halfOpen, true);
        const seen = log(b);
        await b.fire().catch(() => {});
        assert.deepEqual(seen.names(), ['fire', 'failure', 'open']);
        assert.equal(b.opened, true);
        await sleep(50);
        assert.equal(b.halfOpen, true);
      });
    });

    describe('timeout', () => {
      it('rejects with ETIMEDOUT, emits timeout then failure, ignores the late result', async () => {
        const b = new CircuitBreaker(() => sleep(60).then(() => 'late'), { timeout: 10, ...QUIET() });
        const seen = log(b);
        const err = await b.fire('a').catch(e => e);
        assert.equal(err.code, 'ETIMEDOUT');
        assert.equal(err.message, 'Timed out after 10ms');
        assert.equal(CircuitBreaker.isOurError(err), true);
        assert.deepEqual(seen.names(), ['fire', 'timeout', 'failure', 'open']);
        assert.equal(seen[1][1], err);
        assert.ok(seen[1][2] >= 9);
        assert.deepEqual(seen[1][3], ['a']);
        await sleep(80);
        assert.deepEqual(seen.names(), ['fire', 'timeout', 'failure', 'open']);
        const s = b.stats;
        assert.equal(s.timeouts, 1);
        assert.equal(s.failures, 1);
        assert.equal(s.successes, 0);
      });

      it('timeout: false never times out', async () => {
        const b = new CircuitBreaker(() => sleep(30).then(() => 'slow'), { timeout: false, ...QUIET() });
        assert.equal(await b.fire(), 'slow');
      });

      it('calls abortController.abort() on timeout', async () => {
        const abortController = new AbortController();
        const b = new CircuitBreaker(() => sleep(50), { timeout: 5, abortController, ...QUIET() });
        assert.equal(b.getAbortController(), abortController);
        assert.equal(b.getSignal(), abortController.signal);
        await b.fire().catch(() => {});
        assert.equal(abortController.signal.aborted, true);
      });

      it('autoRenewAbortController makes one and renews it on half-open', async () => {
        const b = new CircuitBreaker(() => sleep(40), {
          timeout: 5, resetTimeout: 10, autoRenewAbortController: true, ...QUIET()
        });
        const first = b.getAbortController();
        assert.ok(first instanceof AbortController);
        await b.fire().catch(() => {});
        assert.equal(first.signal.aborted, true);
        await sleep(40);
        assert.equal(b.halfOpen, true);
        assert.notEqual(b.getAbortController(), first);
        assert.equal(b.getSignal().aborted, false);
      });

      it('many pending calls time out in order', async () => {
        const b = new CircuitBreaker(() => sleep(80), { timeout: 10, errorThresholdPercentage: 100, ...QUIET() });
        const results = await Promise.all([1, 2, 3, 4, 5].map(i => b.fire(i).catch(e => e.code)));
        assert.deepEqual(results, Array(5).fill('ETIMEDOUT'));
        assert.equal(b.stats.timeouts, 5);
      });
    });

    describe('capacity', () => {
      it('rejects over capacity with ESEMLOCKED: semaphoreLocked then failure', async () => {
        const b = new CircuitBreaker(() => sleep(20), { capacity: 1, errorThresholdPercentage: 100, ...QUIET() });
        const first = b.fire();
        const seen = log(b);
        const err = await b.fire().catch(e => e);
        assert.equal(err.code, 'ESEMLOCKED');
        assert.equal(err.message, 'Semaphore locked');
        assert.deepEqual(seen.names(), ['fire', 'semaphoreLocked', 'failure']);
        assert.equal(seen[1][1], err);
        assert.equal(typeof seen[1][2], 'number');
        await first;
        const s = b.stats;
        assert.equal(s.semaphoreRejections, 1);
        assert.equal(s.failures, 1);
        assert.equal(b.semaphore.count, 1);
      });

      it('a semaphore rejection can open the circuit; calls in flight count in fires', async () => {
        const b = new CircuitBreaker(() => sleep(20), { capacity: 1, ...QUIET() });
        const first = b.fire();
        await b.fire().catch(() => {});
        assert.equal(b.closed, true, '1 failure of 2 fires (one in flight) is not above 50%');
        await b.fire().catch(() => {});
        assert.equal(b.opened, true, '2 of 3 is');
        await first;
      });
    });

    describe('fallback', () => {
      it('gets (...args, error); fire resolves with its value; emits fallback(result, error)', async () => {
        const b = new CircuitBreaker(boom, QUIET());
        let got;
        assert.equal(b.fallback((...a) => { got = a; return 'fb'; }), b);
        const seen = log(b);
        assert.equal(await b.fire(1, 2), 'fb');
        assert.deepEqual(got.slice(0, 2), [1, 2]);
        assert.equal(got[2].message, 'boom');
        assert.deepEqual(seen.names(), ['fire', 'failure', 'open', 'fallback']);
        assert.equal(seen[3][1], 'fb');
        assert.equal(seen[3][2].message, 'boom');
        assert.equal(b.stats.fallbacks, 1);
      });

      it('runs when open, and a throwing fallback rejects the call', async () => {
        const b = new CircuitBreaker(ok, QUIET());
        b.open();
        b.fallback(() => 'fb');
        assert.equal(await b.fire(), 'fb');
        b.fallback(() => { throw new Error('fb failed'); });
        await assert.rejects(b.fire(), /fb failed/);
      });

      it('can be another breaker, fired with the args', async () => {
        const other = new CircuitBreaker(async x => `other ${x}`, QUIET());
        const b = new CircuitBreaker(boom, QUIET()).fallback(other);
        assert.equal(await b.fire('a'), 'other a');
      });
    });

    describe('errorFilter', () => {
      it('counts a filtered error as a success, still rejects, runs no fallback', async () => {
        const b = new CircuitBreaker(boom, { errorFilter: (e, x) => x === 'skip', ...QUIET() });
        b.fallback(() => 'fb');
        const seen = log(b);
        await assert.rejects(b.fire('skip'), /boom/);
        assert.deepEqual(seen.names(), ['fire', 'success']);
        assert.equal(seen[1][1].message, 'boom');
        assert.equal(b.closed, true);
        const s = b.stats;
        assert.equal(s.successes, 1);
        assert.equal(s.failures, 0);
      });
    });

    describe('volumeThreshold and warm-up', () => {
      it('does not open below volumeThreshold fires', async () => {
        const b = new CircuitBreaker(boom, { volumeThreshold: 3, ...QUIET() });
        await b.fire().catch(() => {});
        await b.fire().catch(() => {});
        assert.equal(b.closed, true);
        await b.fire().catch(() => {});
        assert.equal(b.opened, true);
      });

      it('allowWarmUp keeps it closed during the first rollingCountTimeout', async () => {
        const b = new CircuitBreaker(boom, { allowWarmUp: true, rollingCountTimeout: 50, ...QUIET() });
        assert.equal(b.warmUp, true);
        await b.fire().catch(() => {});
        await b.fire().catch(() => {});
        assert.equal(b.closed, true);
        await sleep(80);
        assert.equal(b.warmUp, false);
        await b.fire().catch(() => {});
        assert.equal(b.opened, true);
      });
    });

    describe('enable and disable', () => {
      it('a disabled breaker just calls the action and emits only fire', async () => {
        const b = new CircuitBreaker(boom, { enabled: false, ...QUIET() });
        assert.equal(b.enabled, false);
        const seen = log(b);
        await assert.rejects(b.fire(), /boom/);
        assert.deepEqual(seen.names(), ['fire']);
        assert.equal(b.closed, true);
        assert.equal(b.stats.fires, 1);
        b.enable();
        await b.fire().catch(() => {});
        assert.equal(b.closed, true, 'the disabled fire counts: 1 failure of 2 fires');
        await b.fire().catch(() => {});
        assert.equal(b.opened, true);
        b.disable();
        assert.equal(await new CircuitBreaker(ok, { enabled: false, ...QUIET() }).fire(3), 3);
      });
    });

    describe('cache', () => {
      it('caches the first success per key: cacheMiss then cacheHit', async () => {
        let n = 0;
        const b = new CircuitBreaker(async x => `${x}${++n}`, { cache: true, ...QUIET() });
        const seen = log(b);
        assert.equal(await b.fire('a'), 'a1');
        assert.equal(await b.fire('a'), 'a1');
        assert.equal(await b.fire('b'), 'b2');
        assert.deepEqual(seen.names(), ['fire', 'cacheMiss', 'success', 'fire', 'cacheHit', 'fire', 'cacheMiss', 'success']);
        const s = b.stats;
        assert.equal(s.cacheHits, 1);
        assert.equal(s.cacheMisses, 2);
        assert.equal(s.fires, 3);
        b.clearCache();
        assert.equal(await b.fire('a'), 'a3');
      });

      it('cacheTTL expires entries; cacheGetKey picks the key', async () => {
        let n = 0;
        const b = new CircuitBreaker(async () => ++n, { cache: true, cacheTTL: 20, cacheGetKey: () => 'k', ...QUIET() });
        assert.equal(await b.fire(1), 1);
        assert.equal(await b.fire(2), 1);
        await sleep(40);
        assert.equal(await b.fire(3), 2);
      });

      it('uses a custom cacheTransport', async () => {
        const store = new Map();
        const cacheTransport = {
          get: k => store.get(k),
          set: (k, v) => store.set(k, v),
          flush: () => store.clear()
        };
        const b = new CircuitBreaker(ok, { cache: true, cacheTransport, ...QUIET() });
        await b.fire(1);
        assert.equal(store.size, 1);
        b.clearCache();
        assert.equal(store.size, 0);
      });

      it('answers from the cache while open', async () => {
        const b = new CircuitBreaker(ok, { cache: true, ...QUIET() });
        await b.fire(1);
        b.open();
        assert.equal(await b.fire(1), 1);
      });
    });

    describe('coalesce', () => {
      it('concurrent calls with one key share one promise', async () => {
        let n = 0;
        const b = new CircuitBreaker(async () => { await sleep(10); return ++n; }, { coalesce: true, ...QUIET() });
        const seen = log(b);
        const [x, y] = await Promise.all([b.fire('k'), b.fire('k')]);
        assert.equal(x, 1);
        assert.equal(y, 1);
        assert.deepEqual(seen.names(), ['fire', 'coalesceCacheMiss', 'fire', 'coalesceCacheHit', 'success']);
        const s = b.stats;
        assert.equal(s.coalesceCacheHits, 1);
        assert.equal(s.coalesceCacheMisses, 1);
        assert.equal(b.options.coalesceTTL, 10000);
      });

      it('coalesceResetOn drops the entry after the named outcomes', async () => {
        let n = 0;
        const b = new CircuitBreaker(async () => ++n, { coalesce: true, coalesceResetOn: ['success', 'bogus'], ...QUIET() });
        assert.deepEqual(b.options.coalesceResetOn, ['success']);
        assert.equal(await b.fire(), 1);
        assert.equal(await b.fire(), 2);
        const keep = new CircuitBreaker(async () => ++n, { coalesce: true, coalesceTTL: 1000, ...QUIET() });
        const first = await keep.fire();
        assert.equal(await keep.fire(), first);
      });
    });

    describe('status, stats and window', () => {
      it('stats carry every counter, latencyMean and the percentiles', async () => {
        const b = new CircuitBreaker(async x => { await sleep(x); return x; }, QUIET());
        await b.fire(0);
        await b.fire(0);
        const s = b.stats;
        for (const k of ['failures', 'fallbacks', 'successes', 'rejects', 'fires', 'timeouts', 'cacheHits',
          'cacheMisses', 'coalesceCacheHits', 'coalesceCacheMisses', 'semaphoreRejections']) {
          assert.equal(typeof s[k], 'number', k);
        }
        assert.equal(s.successes, 2);
        assert.equal(s.fires, 2);
        assert.deepEqual(Object.keys(s.percentiles).map(Number).sort((a, c) => a - c),
          [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 1]);
        assert.equal(typeof s.latencyMean, 'number');
        assert.equal(s.latencyTimes.length, 2);
        assert.deepEqual(b.stats, b.status.stats);
      });

      it('rollingPercentilesEnabled: false reports -1', async () => {
        const b = new CircuitBreaker(ok, { rollingPercentilesEnabled: false, ...QUIET() });
        await b.fire();
        const s = b.stats;
        assert.equal(s.latencyMean, -1);
        assert.equal(s.percentiles[0.5], -1);
        assert.deepEqual(s.latencyTimes, []);
      });

      it('window is a copy of rollingCountBuckets buckets, newest first, flagged on open', async () => {
        const b = new CircuitBreaker(boom, { rollingCountBuckets: 5, rollingCountTimeout: 500, ...QUIET() });
        await b.fire().catch(() => {});
        const w = b.status.window;
        assert.equal(w.length, 5);
        assert.equal(w[0].failures, 1);
        assert.equal(w[0].fires, 1);
        assert.equal(w[0].isCircuitBreakerOpen, true);
        assert.deepEqual(w[0].latencyTimes.length >= 0, true);
        w.pop();
        assert.equal(b.status.window.length, 5);
      });

      it('the window rolls: old buckets leave the stats', async () => {
        const b = new CircuitBreaker(ok, { rollingCountBuckets: 2, rollingCountTimeout: 40, ...QUIET() });
        await b.fire();
        assert.equal(b.stats.fires, 1);
        await sleep(100);
        assert.equal(b.stats.fires, 0);
      });

      it('emits snapshot(stats) every bucket interval', async () => {
        const b = new CircuitBreaker(ok, { rollingCountBuckets: 2, rollingCountTimeout: 40 });
        await b.fire();
        const keepAlive = setTimeout(() => {}, 1000); // the snapshot timer is unref'd
        const snap = await new Promise(resolve => b.status.once('snapshot', resolve));
        clearTimeout(keepAlive);
        assert.equal(typeof snap.fires, 'number');
        b.shutdown();
      });

      it('enableSnapshots: false emits none', async () => {
        const b = new CircuitBreaker(ok, { rollingCountBuckets: 2, rollingCountTimeout: 20, enableSnapshots: false });
        let n = 0;
        b.status.on('snapshot', () => n++);
        await sleep(50);
        assert.equal(n, 0);
      });

      it('rotateBucketController rotates the buckets on its rotate event', async () => {
        const rotateBucketController = new EventEmitter();
        const b = new CircuitBreaker(ok, { rollingCountBuckets: 2, rotateBucketController, ...QUIET() });
        await b.fire();
        assert.equal(b.status.window[0].fires, 1);
        rotateBucketController.emit('rotate');
        assert.equal(b.status.window[0].fires, 0);
        assert.equal(b.status.window[1].fires, 1);
        rotateBucketController.emit('rotate');
        assert.equal(b.stats.fires, 0);
        b.disable();
        assert.equal(rotateBucketController.listenerCount('rotate'), 0);
        b.enable();
        assert.equal(rotateBucketController.listenerCount('rotate'), 1);
        b.shutdown();
      });

      it('status option: a Status from newStatus, or plain stats, primes the window', async () => {
        const status = CircuitBreaker.newStatus({ stats: { fires: 10, failures: 5, successes: 5 }, enableSnapshots: false });
        assert.equal(status.stats.fires, 10);
        const b = new CircuitBreaker(ok, { status, ...QUIET() });
        assert.equal(b.status, status);
        assert.equal(b.stats.failures, 5);
        const c = new CircuitBreaker(ok, { status: { fires: 3, successes: 3 }, ...QUIET() });
        assert.equal(c.stats.fires, 3);
        c.shutdown();
      });

      it('status.increment counts like the breaker does', () => {
        const status = CircuitBreaker.newStatus({ enableSnapshots: false });
        status.increment('fires');
        status.increment('successes', 4);
        assert.equal(status.stats.fires, 1);
        assert.equal(status.stats.latencyMean, 4);
        status.shutdown();
      });
    });

    describe('state option and toJSON', () => {
      it('toJSON has state and status', async () => {
        const b = new CircuitBreaker(ok, { name: 'j', ...QUIET() });
        await b.fire();
        const j = b.toJSON();
        assert.deepEqual(Object.keys(j), ['state', 'status']);
        assert.deepEqual(Object.keys(j.state),
          ['name', 'enabled', 'closed', 'open', 'halfOpen', 'warmUp', 'shutdown', 'lastTimerAt']);
        assert.equal(j.state.name, 'j');
        assert.equal(j.state.closed, true);
        assert.equal(j.status.fires, 1);
        JSON.stringify(j);
      });

      it('restores open, half-open, shut down, and an expired open as half-open', () => {
        const open = new CircuitBreaker(ok, { state: { closed: false, lastTimerAt: Date.now() }, resetTimeout: 1000, ...QUIET() });
        assert.equal(open.opened, true);
        const half = new CircuitBreaker(ok, { state: { closed: false, halfOpen: true }, ...QUIET() });
        assert.equal(half.halfOpen, true);
        assert.equal(half.pendingClose, true);
        const old = new CircuitBreaker(ok, { state: { closed: false, lastTimerAt: Date.now() - 5000 }, resetTimeout: 100, ...QUIET() });
        assert.equal(old.halfOpen, true);
        const gone = new CircuitBreaker(ok, { state: { shutdown: true }, ...QUIET() });
        assert.equal(gone.isShutdown, true);
        const off = new CircuitBreaker(ok, { state: { enabled: false, warmUp: true }, ...QUIET() });
        assert.equal(off.enabled, false);
        assert.equal(off.warmUp, true);
        const saved = open.toJSON().state;
        const again = new CircuitBreaker(ok, { state: saved, resetTimeout: 1000, ...QUIET() });
        assert.equal(again.opened, true);
        for (const b of [open, half, old, gone, off, again]) b.shutdown();
      });
    });

    describe('shutdown', () => {
      it('emits shutdown, disables, removes listeners; later fires reject with ESHUTDOWN', async () => {
        const b = new CircuitBreaker(ok, QUIET());
        let shut = 0;
        b.on('shutdown', () => shut++);
        b.shutdown();
        assert.equal(shut, 1);
        assert.equal(b.isShutdown, true);
        assert.equal(b.enabled, false);
        assert.equal(b.closed, false);
        assert.equal(b.listenerCount('shutdown'), 0);
        const err = await b.fire().catch(e => e);
        assert.equal(err.code, 'ESHUTDOWN');
        assert.equal(err.message, 'The circuit has been shutdown.');
        assert.equal(CircuitBreaker.isOurError(err), true);
      });
    });

    describe('healthCheck', () => {
      it('checks its arguments', () => {
        const b = new CircuitBreaker(ok, QUIET());
        assert.throws(() => b.healthCheck('x'), { name: 'TypeError', message: 'Health check function must be a function' });
        assert.throws(() => b.healthCheck(ok, 'x'), { name: 'TypeError', message: 'Health check interval must be a number' });
      });

      it('a rejected check emits healthCheckFailed and opens', async () => {
        const b = new CircuitBreaker(ok, QUIET());
        const seen = log(b);
        b.healthCheck(() => Promise.reject(new Error('sick')), 10000);
        await sleep(5);
        assert.deepEqual(seen.names(), ['healthCheckFailed', 'open']);
        assert.equal(seen[0][1].message, 'sick');
        b.shutdown();
      });
    });
  });
}
