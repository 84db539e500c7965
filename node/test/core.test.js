'use strict';

// The core's own types (Breaker, Backoff, RetryBudget) and the low-level
// methods of the policies. No sleeps: every call passes its `now`.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { Breaker, Backoff, RetryBudget, RetrySchedule, TokenBucket, Bulkhead, TickWidener } = require('..');

const configError = (field, problem) => (e) => {
  assert.ok(e instanceof TypeError, 'a TypeError');
  assert.equal(e.code, 'ERR_FUSEWIRE_CONFIG');
  assert.equal(e.field, field);
  assert.equal(e.problem, problem);
  assert.match(e.message, new RegExp(field.replace('.', '\\.')));
  return true;
};

describe('Breaker', () => {
  it('trips on the failure rate, refuses with retryAfter, probes, closes', () => {
    const b = new Breaker({ window: { count: 4 }, minCalls: 2, openBackoff: { kind: 'constant', base: 1000 } });
    const a = b.tryAcquire(0);
    assert.deepEqual({ ...a, permit: 0 }, { admitted: true, permit: 0, probe: false, transition: null });
    assert.ok(Number.isSafeInteger(a.permit), 'a permit is exact in a JS number (< 2^53)');
    assert.equal(b.record(a.permit, 'success', 5, 1), null);
    const c = b.tryAcquire(2);
    assert.deepEqual(b.record(c.permit, 'failure', 5, 3), { from: 'closed', to: 'open', reason: 'failureRate' });
    assert.equal(b.state, 'open');
    assert.deepEqual(b.tryAcquire(500), { admitted: false, retryAfter: 503, state: 'open', transition: null });
    const probe = b.tryAcquire(1003);
    assert.equal(probe.admitted, true);
    assert.equal(probe.probe, true);
    assert.deepEqual(probe.transition, { from: 'open', to: 'halfOpen', reason: 'openElapsed' });
    assert.equal(probe.permit % 2 ** 16, b.generation, 'generation in the low 16 bits');
    assert.equal(Math.floor(probe.permit / 2 ** 16) % 2, 1, 'probe flag in bit 16');
    assert.ok(Number.isSafeInteger(probe.permit));
    assert.equal(b.tryAcquire(1004).admitted, false, 'one probe at a time');
    assert.deepEqual(b.record(probe.permit, 'success', 1, 1005), { from: 'halfOpen', to: 'closed', reason: 'probesPassed' });
  });

  it('a permit from before a state change cannot move the breaker', () => {
    const b = new Breaker({ window: { count: 4 }, minCalls: 1, failureRate: 50 });
    const old = b.tryAcquire(0).permit;
    b.trip(1);
    b.close(2);
    assert.equal(b.record(old, 'failure', 1, 3), null);
    assert.equal(b.state, 'closed');
  });

  it('host moves, forced open waits forever (Infinity), snapshot', () => {
    const b = new Breaker({ window: { span: 1000, buckets: 10 } });
    assert.deepEqual(b.forceOpen(10), { from: 'closed', to: 'forcedOpen', reason: 'host' });
    const r = b.tryAcquire(20);
    assert.equal(r.admitted, false);
    assert.equal(r.retryAfter, Infinity);
    assert.deepEqual(b.disable(30), { from: 'forcedOpen', to: 'disabled', reason: 'host' });
    assert.equal(b.tryAcquire(40).admitted, true);
    assert.deepEqual(b.halfOpen(50), { from: 'disabled', to: 'halfOpen', reason: 'host' });
    assert.deepEqual(b.reset(60), { from: 'halfOpen', to: 'closed', reason: 'host' });
    assert.equal(b.poll(70), null);
    const s = b.snapshot(70);
    assert.equal(s.state, 'closed');
    assert.equal(s.since, 60);
    assert.deepEqual(Object.keys(s).sort(), ['clockRegressions', 'consecutiveFailures', 'counts', 'generation',
      'openUntil', 'permitsOut', 'probesInFlight', 'refusedPermits', 'reopens', 'since', 'state']);
    assert.deepEqual(Object.keys(s.counts).sort(), ['admitted', 'failures', 'ignored', 'rejected', 'slow', 'successes', 'timeouts']);
  });

  it('release gives a probe slot back; consecutiveFailures trips', () => {
    const b = new Breaker({ failureRate: null, consecutiveFailures: 2, openBackoff: { kind: 'constant', base: 10 } });
    b.record(b.tryAcquire(0).permit, 'failure', 1, 0);
    assert.deepEqual(b.record(b.tryAcquire(0).permit, 'timeout', 1, 0).reason, 'consecutiveFailures');
    const p = b.tryAcquire(10);
    assert.equal(p.probe, true);
    assert.equal(b.release(p.permit, 11), null);
    assert.equal(b.tryAcquire(12).admitted, true, 'the slot is free again');
  });

  it('now defaults to Date.now()', (t) => {
    let clock = 5000;
    t.mock.method(Date, 'now', () => clock);
    const b = new Breaker({ openBackoff: { kind: 'constant', base: 100 } });
    b.trip();
    clock = 5040;
    assert.equal(b.tryAcquire().retryAfter, 60);
    assert.equal(b.snapshot().openUntil, 5100);
  });

  it('bad input is a TypeError naming the field, never a crash', () => {
    assert.throws(() => new Breaker({ failureRate: 150 }), configError('failureRate', 'outOfRange'));
    assert.throws(() => new Breaker({ failureRate: NaN }), configError('failureRate', 'notANumber'));
    assert.throws(() => new Breaker({ slowCallRate: 50 }), configError('slowCallDuration', 'required'));
    assert.throws(() => new Breaker({ halfOpenProbes: 0 }), configError('halfOpenProbes', 'zero'));
    assert.throws(() => new Breaker({ openBackoff: { kind: 'constant', base: 500, max: 100 } }), configError('openBackoff.max', 'inconsistent'));
    assert.throws(() => new Breaker({ window: { span: 3, buckets: 4 } }), configError('window.span', 'inconsistent'));
    assert.throws(() => new Breaker({ window: { count: 0 } }), configError('window.count', 'zero'));
    assert.throws(() => new Breaker({ window: { span: 10000, buckets: 1025 } }), configError('window.buckets', 'outOfRange'));
    for (const [options, field] of [
      [{ minCalls: -1 }, 'minCalls'], [{ minCalls: 'x' }, 'minCalls'], [{ comparison: 'AtLeast' }, 'comparison'],
      [{ window: { count: 2 ** 21 } }, 'window.count'], [{ window: 5 }, 'window'], [{ openBackoff: { kind: 'x' } }, 'openBackoff.kind'],
      [{ seed: -1 }, 'seed'], [{ resetWindowOnClose: 1 }, 'resetWindowOnClose'], [null, 'options']
    ]) {
      assert.throws(() => new Breaker(options), (e) => e instanceof TypeError && e.field === field, field);
    }
    const b = new Breaker();
    assert.throws(() => b.tryAcquire(-1), { name: 'TypeError', field: 'now' });
    assert.throws(() => b.tryAcquire(Infinity), { name: 'TypeError', field: 'now' });
    assert.throws(() => b.record(0, 'boom'), { name: 'TypeError', field: 'outcome' });
    assert.throws(() => b.record(1.5, 'success'), { name: 'TypeError', field: 'permit' });
    assert.throws(() => b.release(2 ** 60), { name: 'TypeError', field: 'permit' });
    assert.throws(() => b.record(0, 'success', -3), { name: 'TypeError', field: 'duration' });
    // A forged permit is a permit: it reports for the current generation at worst.
    assert.equal(b.record(2 ** 33 - 1, 'success', 0, 0), null);
  });
});

describe('Backoff', () => {
  it('raw and seeded delays', () => {
    const b = new Backoff({ kind: 'exponential', base: 100, factor: 2, max: 1000 });
    assert.deepEqual([0, 1, 2, 3, 4, 40].map(n => b.raw(n)), [100, 200, 400, 800, 1000, 1000]);
    assert.equal(b.max, 1000);
    const draw = () => {
      const j = new Backoff({ kind: 'exponential', base: 100, max: 1000, jitter: 'full', seed: 42 });
      return [0, 1, 2, 3].map(n => j.delay(n));
    };
    assert.deepEqual(draw(), draw(), 'one seed, one sequence');
    for (const d of draw()) assert.ok(d >= 0 && d <= 1000);
    assert.equal(new Backoff({ kind: 'linear', base: 10, step: 5 }).raw(2), 20);
    assert.equal(new Backoff({ kind: 'constant', base: 7 }).max, Infinity);
  });

  it('bad options name the field', () => {
    assert.throws(() => new Backoff({ kind: 'constant', base: 0 }), configError('base', 'zero'));
    assert.throws(() => new Backoff({ kind: 'exponential', base: 10, factor: 0.5 }), configError('factor', 'outOfRange'));
    assert.throws(() => new Backoff({ jitter: 'proportional', jitterPercent: 0 }), configError('jitterPercent', 'outOfRange'));
    assert.throws(() => new Backoff({ base: 'x' }), { name: 'TypeError', field: 'base' });
    assert.throws(() => new Backoff().raw(-1), { name: 'TypeError', field: 'n' });
  });
});

describe('RetryBudget', () => {
  it('spends on failures, earns on successes, counts refusals', () => {
    const b = new RetryBudget({ maxTokens: 4, tokenRatio: 0.5 });
    assert.equal(b.tokens, 4);
    assert.equal(b.maxTokens, 4);
    b.recordFailure();
    b.recordFailure();
    assert.equal(b.canRetry, false, '2 of 4 is not more than half');
    assert.equal(b.tryRetry(), false);
    assert.equal(b.throttled, 1);
    b.recordSuccess();
    assert.equal(b.tokensMilli, 2500);
    assert.equal(b.tryRetry(), true);
  });

  it('bad options name the field', () => {
    assert.throws(() => new RetryBudget({ maxTokens: 0 }), configError('maxTokens', 'zero'));
    assert.throws(() => new RetryBudget({ tokenRatio: 0 }), configError('tokenRatio', 'zero'));
    assert.throws(() => new RetryBudget({ tokenRatio: -1 }), { name: 'TypeError', field: 'tokenRatio' });
  });
});

describe('the policies, low level', () => {
  it('RetrySchedule.decide says why it gives up', () => {
    const r = new RetrySchedule({ maxAttempts: 2, backoff: { kind: 'constant', base: 10 } });
    r.start(0);
    assert.deepEqual(r.decide(0), { decision: 'retryAfter', delay: 10 });
    assert.deepEqual(r.decide(10), { decision: 'giveUp', reason: 'maxAttempts' });
    const d = new RetrySchedule({ maxAttempts: 10, maxElapsed: 100, backoff: { kind: 'constant', base: 60 } });
    d.start(0);
    assert.equal(d.decide(0).decision, 'retryAfter');
    assert.deepEqual(d.decide(60), { decision: 'giveUp', reason: 'deadline' });
  });

  it('TokenBucket.tryAcquire gives the exact wait, or the burst', () => {
    const b = new TokenBucket({ burst: 2, tokens: 1, period: 1000 });
    assert.equal(b.burst, 2);
    assert.deepEqual(b.tryAcquire(2, 0), { result: 'granted' });
    assert.deepEqual(b.tryAcquire(1, 250), { result: 'denied', retryAfter: 750 });
    assert.deepEqual(b.tryAcquire(3, 250), { result: 'exceedsBurst', burst: 2 });
    b.refund(1, 250);
    assert.deepEqual(b.tryAcquire(1, 250), { result: 'granted' });
  });

  it('Bulkhead slots by priority, free, refusals and leases', () => {
    const b = new Bulkhead({ limit: 2, reserveCritical: 1, lease: 100 });
    const normal = b.acquireSlot('normal', 0);
    assert.equal(typeof normal, 'number');
    assert.equal(b.acquireSlot('normal', 0), null, 'the last slot is kept for critical calls');
    assert.equal(b.free, 1);
    const critical = b.acquireSlot('critical', 0);
    assert.equal(b.free, 0);
    assert.equal(b.releaseSlot(2 ** 51, 1), 'notHeld', 'a made-up slot');
    assert.equal(b.extraReleases, 1);
    assert.equal(b.releaseSlot(critical, 1), null);
    assert.equal(b.releaseSlot(critical, 1), 'notHeld', 'a slot counts once');
    assert.equal(b.expire(50), 0, 'held for more than half its lease');
    assert.equal(b.expire(100), 1, 'a lost slot is freed within its lease');
    assert.equal(b.releaseSlot(normal, 100), 'expired');
    assert.deepEqual([b.inUse, b.expiredReleases, b.reclaimed, b.lease], [0, 1, 1, 100]);
  });

  it('TickWidener carries a wrapping u32 tick past the wrap', () => {
    const w = new TickWidener();
    assert.equal(w.widen(2 ** 32 - 10), 2 ** 32 - 10);
    assert.equal(w.widen(5), 2 ** 32 + 5);
    assert.equal(w.widen(3), 2 ** 32 + 5, 'never goes back');
  });
});

it('ESM exports the core types', async () => {
  const m = await import('../index.mjs');
  assert.equal(m.Breaker, Breaker);
  assert.equal(m.Backoff, Backoff);
  assert.equal(m.RetryBudget, RetryBudget);
});
