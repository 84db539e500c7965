'use strict';

// Pool: picks over base URLs, outlier ejection and return as events,
// failover under the retry budget, per-endpoint breakers, bad options.
// The clock is injected (`now`), the poll timer off: no sleeps.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const CircuitBreaker = require('..');
const { Pool, RetryBudget } = CircuitBreaker;

const URLS = ['http://a', 'http://b', 'http://c'];
const clock = () => { const c = { t: 1000 }; c.now = () => c.t; return c; };
const gateway = (status) => Object.assign(new Error(`HTTP ${status}`), { status });

describe('Pool', () => {
  it('pick gives a base URL; picks spread by outstanding calls (power of two choices)', () => {
    const c = clock();
    const pool = new Pool(URLS, { seed: 11, now: c.now, timers: false });
    const held = Array.from({ length: 6 }, () => pool.pick());
    for (const p of held) assert.equal(p.url, URLS[p.endpoint]);
    // The core's answer for this seed (tests/vectors/pool.json picks-spread-by-outstanding).
    assert.deepEqual(held.map((p) => p.endpoint), [0, 1, 2, 0, 1, 0]);
    assert.deepEqual(pool.stats().map((s) => s.outstanding), [3, 2, 1]);
    for (const p of held) p.release();
    assert.deepEqual(pool.stats().map((s) => [s.outstanding, s.calls]), [[0, 0], [0, 0], [0, 0]]);
  });

  it('ejects after consecutive failures with an event, picks around it, returns it later', () => {
    const c = clock();
    const pool = new Pool(URLS, { seed: 2, consecutiveFailures: 3, maxEjectionPercent: 34, baseEjectionTime: 5000, now: c.now, timers: false });
    const events = [];
    pool.on('eject', (e) => events.push(['eject', e]));
    pool.on('return', (e) => events.push(['return', e]));
    for (let i = 0; i < 3; i++) pool.record(0, 500);
    assert.deepEqual(events, [['eject', { endpoint: 0, url: 'http://a', reason: 'consecutiveFailures', until: 6000 }]]);
    assert.equal(pool.stats(0).ejected, true);
    for (let i = 0; i < 50; i++) {
      const p = pool.pick();
      assert.notEqual(p.endpoint, 0, 'an ejected endpoint is not picked while others are healthy');
      p.record('success');
    }
    c.t = 5999;
    assert.deepEqual(pool.poll(), []);
    c.t = 6000;
    assert.deepEqual(pool.poll(), [{ event: 'return', endpoint: 0 }]);
    assert.deepEqual(events[1], ['return', { endpoint: 0, url: 'http://a' }]);
    assert.equal(pool.stats(0).ejected, false);
  });

  it('classifies 502/503/504 as gateway failures (status, statusCode, axios response.status)', () => {
    const c = clock();
    const pool = new Pool(URLS, { seed: 1, consecutiveGatewayFailures: 3, consecutiveFailures: 0, maxEjectionPercent: 34, now: c.now, timers: false });
    let ejected = null;
    pool.on('eject', (e) => { ejected = e; });
    pool.record(1, gateway(503));
    pool.record(1, Object.assign(new Error('x'), { statusCode: 502 }));
    assert.equal(pool.stats(1).consecutiveGatewayFailures, 2);
    pool.record(1, 500);
    assert.equal(pool.stats(1).consecutiveGatewayFailures, 0, 'a plain 500 breaks the gateway run');
    assert.equal(pool.stats(1).consecutiveFailures, 3);
    for (let i = 0; i < 3; i++) pool.record(1, { response: { status: 504 } });
    assert.equal(ejected.reason, 'consecutiveGatewayFailures');
    pool.record(2, gateway(404));
    assert.equal(pool.stats(2).successes, 1, 'a 4xx is the endpoint answering');
    assert.throws(() => pool.record(2, 'oops'), TypeError);
  });

  it('call() fails over to another endpoint on a gateway failure and records both', async () => {
    const c = clock();
    const pool = new Pool(URLS, { seed: 4, now: c.now, timers: false });
    const seen = [];
    const value = await pool.call(async (url) => {
      seen.push(url);
      if (seen.length === 1) throw gateway(503);
      return `ok from ${url}`;
    });
    assert.equal(seen.length, 2);
    assert.notEqual(seen[0], seen[1], 'the retry goes to a different endpoint');
    assert.equal(value, `ok from ${seen[1]}`);
    const byUrl = Object.fromEntries(pool.stats().map((s) => [s.url, s]));
    assert.equal(byUrl[seen[0]].consecutiveGatewayFailures, 1);
    assert.equal(byUrl[seen[1]].successes, 1);
    assert.equal(pool.stats().reduce((n, s) => n + s.outstanding, 0), 0);
  });

  it('call() treats a resolved 5xx response (fetch) as a failure, and returns the last one', async () => {
    const c = clock();
    const pool = new Pool(URLS, { seed: 4, retries: 1, now: c.now, timers: false });
    let n = 0;
    const res = await pool.call(async () => ({ status: 503, n: ++n }));
    assert.deepEqual(res, { status: 503, n: 2 });
    assert.equal(pool.stats().reduce((k, s) => k + s.consecutiveGatewayFailures, 0), 2);
  });

  it('call() stops failing over when the retry budget refuses, and rethrows the error', async () => {
    const c = clock();
    const budget = new RetryBudget({ maxTokens: 2, tokenRatio: 0.1 });
    const pool = new Pool(URLS, { seed: 4, retries: 5, budget, now: c.now, timers: false });
    let calls = 0;
    await assert.rejects(pool.call(async () => { calls++; throw gateway(502); }), /HTTP 502/);
    // 2 tokens: the first failure leaves 1 (not more than half): no retry.
    assert.equal(calls, 1);
    assert.equal(budget.throttled, 1);
    assert.equal(pool.budget, budget);
  });

  it('an error below 500 is rethrown without retrying (the endpoint is healthy)', async () => {
    const pool = new Pool(URLS, { seed: 4, now: clock().now, timers: false });
    let calls = 0;
    await assert.rejects(pool.call(async () => { calls++; throw gateway(404); }), /HTTP 404/);
    assert.equal(calls, 1);
  });

  it('with breaker options, each endpoint has a CircuitBreaker; an open one is failed over without counting', async () => {
    const c = clock();
    const pool = new Pool(URLS, { seed: 6, now: c.now, timers: false, breaker: { enableSnapshots: false } });
    assert.equal(pool.breakers.length, 3);
    pool.breakers[0].open();
    const urls = [];
    for (let i = 0; i < 20; i++) urls.push(await pool.call(async (url) => url, { retries: 1 }));
    // A pick of the open endpoint is handed back and the call fails over to a closed one.
    assert.ok(urls.every((u) => u !== 'http://a'), urls.join());
    assert.ok(pool.stats(0).picked > 0, 'the open endpoint was picked and failed over');
    assert.equal(pool.stats(0).calls, 0, 'refused calls are not counted on the endpoint');
    assert.equal(pool.stats().reduce((n, s) => n + s.outstanding, 0), 0);
    // With no retry left, the breaker's refusal is the call's error.
    pool.breakers[1].open();
    pool.breakers[2].open();
    await assert.rejects(pool.call(async (url) => url, { retries: 0 }), { code: 'EOPENBREAKER' });
    pool.close();
  });

  it('never ejects more than maxEjectionPercent of the pool, never all (panic routing when none is healthy)', () => {
    const c = clock();
    const one = new Pool(['http://only'], { seed: 1, consecutiveFailures: 1, now: c.now, timers: false });
    one.record(0, 'failure');
    assert.equal(one.stats(0).ejected, false, 'a one-endpoint pool cannot eject');
    const pool = new Pool(URLS, { seed: 1, consecutiveFailures: 1, maxEjectionPercent: 100, now: c.now, timers: false });
    assert.equal(pool.maxEjected, 2);
    const ejected = [];
    pool.on('eject', (e) => ejected.push(e.endpoint));
    for (let i = 0; i < 3; i++) pool.record(i, 503);
    assert.deepEqual(ejected, [0, 1], 'the third stays in: never all');
    assert.deepEqual(pool.stats().map((s) => s.ejected), [true, true, false]);
    for (let i = 0; i < 20; i++) {
      const p = pool.pick();
      assert.equal(p.endpoint, 2);
      assert.equal(p.panic, false);
      p.release();
    }
  });

  it('a clock that jumps back does not end an ejection early or late', () => {
    const c = clock();
    c.t = 10000;
    const pool = new Pool(URLS, { seed: 1, consecutiveFailures: 1, maxEjectionPercent: 34, baseEjectionTime: 30000, now: c.now, timers: false });
    pool.record(0, 'failure');
    assert.equal(pool.stats(0).ejectedUntil, 40000);
    c.t = 0; // the host's clock went back
    assert.deepEqual(pool.poll(), []);
    assert.equal(pool.stats(0).ejected, true);
    for (let i = 0; i < 10; i++) { const p = pool.pick(); assert.notEqual(p.endpoint, 0); p.release(); }
    c.t = 40000;
    assert.deepEqual(pool.poll(), [{ event: 'return', endpoint: 0 }]);
  });

  it('close() with calls in flight: they finish and are recorded, nothing throws', async () => {
    const c = clock();
    const pool = new Pool(URLS, { seed: 1, now: c.now, pollInterval: 10 });
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    const inFlight = pool.call(async (url) => { await gate; return url; });
    await Promise.resolve();
    assert.equal(pool.stats().reduce((n, s) => n + s.outstanding, 0), 1);
    pool.close();
    release();
    const url = await inFlight;
    assert.ok(URLS.includes(url));
    assert.equal(pool.stats().reduce((n, s) => n + s.outstanding, 0), 0);
    assert.equal(pool.stats().reduce((n, s) => n + s.successes, 0), 1);
  });

  it('a pick settles once; a second record or release is ignored', () => {
    const pool = new Pool(URLS, { seed: 1, now: clock().now, timers: false });
    const p = pool.pick();
    p.record(503);
    p.record(503);
    p.release();
    assert.equal(pool.stats(p.endpoint).calls, 1);
    assert.equal(pool.stats(p.endpoint).outstanding, 0);
  });

  it('the poll timer is unref\'d (it does not keep the process alive) and close() stops it', () => {
    const pool = new Pool(URLS, { pollInterval: 5 });
    const handles = process.getActiveResourcesInfo();
    assert.ok(handles.includes('Timeout'));
    pool.close();
  });

  it('the timer polls the core: a return event arrives without a call (mock timers, injected clock)', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const c = clock();
    const pool = new Pool(URLS, { seed: 2, consecutiveFailures: 1, maxEjectionPercent: 34, baseEjectionTime: 3000, pollInterval: 500, now: c.now });
    const returned = [];
    pool.on('return', (e) => returned.push(e.url));
    pool.record(1, 'failure');
    assert.equal(pool.stats(1).ejected, true);
    c.t += 2999;
    t.mock.timers.tick(3000);
    assert.deepEqual(returned, [], 'not before its ejection ends');
    c.t += 1;
    t.mock.timers.tick(500);
    assert.deepEqual(returned, ['http://b']);
    pool.close();
    c.t += 100000;
    t.mock.timers.tick(5000);
    assert.deepEqual(returned, ['http://b'], 'closed: no more polls');
  });

  it('with real HTTP servers and fetch: a replica answering 503 is failed over, then ejected', async () => {
    const http = require('node:http');
    const servers = [200, 200, 503].map((status) => http.createServer((req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(String(status));
    }));
    const urls = [];
    for (const srv of servers) {
      await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
      urls.push(`http://127.0.0.1:${srv.address().port}`);
    }
    const pool = new Pool(urls, { seed: 9, consecutiveGatewayFailures: 2, maxEjectionPercent: 34, timers: false });
    const ejected = [];
    pool.on('eject', (e) => ejected.push(e));
    try {
      for (let i = 0; i < 30; i++) {
        const res = await pool.call((url) => fetch(`${url}/x`));
        assert.equal(res.status, 200, 'the 503 replica is failed over');
        await res.text();
      }
      assert.equal(ejected.length, 1);
      assert.equal(ejected[0].url, urls[2]);
      assert.equal(ejected[0].reason, 'consecutiveGatewayFailures');
      assert.equal(pool.stats(2).ejected, true);
    } finally {
      pool.close();
      for (const srv of servers) srv.close();
    }
  });

  it('success-rate outliers are ejected by poll at the interval', () => {
    const c = clock();
    const urls = Array.from({ length: 5 }, (_, i) => `http://e${i}`);
    const pool = new Pool(urls, { seed: 3, interval: 1000, successRateRequestVolume: 10, consecutiveFailures: 0, consecutiveGatewayFailures: 0, now: c.now, timers: false });
    const events = [];
    pool.on('eject', (e) => events.push(e));
    c.t = 1;
    pool.poll();
    for (let i = 0; i < 5; i++) {
      for (let k = 0; k < 20; k++) pool.record(i, i === 4 && k % 2 ? 500 : 200);
    }
    c.t = 1001;
    const changes = pool.poll();
    assert.deepEqual(changes.map((e) => [e.event, e.endpoint, e.reason]), [['eject', 4, 'successRate']]);
    assert.equal(events[0].url, 'http://e4');
  });

  it('bad options: a TypeError or RangeError naming the option', async () => {
    const cases = [
      [[], {}, RangeError, 'endpoints', 'zero'],
      [new Array(65).fill('http://x'), {}, RangeError, 'endpoints', 'outOfRange'],
      ['http://a', {}, TypeError, 'endpoints'],
      [URLS, { interval: 0 }, RangeError, 'interval', 'zero'],
      [URLS, { baseEjectionTime: 0 }, RangeError, 'baseEjectionTime', 'zero'],
      [URLS, { baseEjectionTime: 10, maxEjectionTime: 5 }, RangeError, 'maxEjectionTime', 'inconsistent'],
      [URLS, { maxEjectionPercent: 101 }, RangeError, 'maxEjectionPercent', 'outOfRange'],
      [URLS, { maxEjectionPercent: -1 }, RangeError, 'maxEjectionPercent'],
      [URLS, { interval: '1000' }, TypeError, 'interval'],
      [URLS, { interval: NaN }, RangeError, 'interval'],
      [URLS, { interval: Infinity }, RangeError, 'interval'],
      [URLS, { consecutiveFailures: 2.5 }, RangeError, 'consecutiveFailures'],
      [URLS, { successRateStdevFactor: -1 }, RangeError, 'successRateStdevFactor'],
      [URLS, { seed: 1.5 }, RangeError, 'seed'],
      [URLS, { retries: -1 }, RangeError, 'retries'],
      [URLS, { budget: 3 }, TypeError, 'budget'],
      [URLS, { now: 5 }, TypeError, 'now'],
      [URLS, { timers: 'no' }, TypeError, 'timers'],
      [URLS, { pollInterval: 0 }, RangeError, 'pollInterval'],
      [URLS, { intervall: 10 }, TypeError, 'intervall']
    ];
    const pool = new Pool(URLS, { timers: false });
    await assert.rejects(pool.call(async (u) => u, { retries: -1 }), RangeError);
    await assert.rejects(pool.call(async (u) => u, { retries: '2' }), TypeError);
    await assert.rejects(pool.call('http://a'), TypeError);
    assert.throws(() => pool.stats(3), RangeError);
    assert.throws(() => pool.pick(-1), TypeError);
    for (const [urls, o, Kind, field, problem] of cases) {
      assert.throws(() => new Pool(urls, { timers: false, ...o }), (e) => {
        assert.ok(e instanceof Kind, `${JSON.stringify(o)}: ${e}`);
        assert.equal(e.field, field);
        if (problem) assert.equal(e.problem, problem);
        assert.match(e.message, new RegExp(field));
        return true;
      });
    }
  });
});
