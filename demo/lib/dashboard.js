'use strict';

// The dashboard's server side: per-second series and state transitions
// gathered from the breakers' events, the pool's endpoints and its
// eject/return events, the chaos switch, pushed to the page over Server-Sent
// Events, and the controls (upstream, replicas, breaker, chaos, traffic) as
// small JSON POSTs.

const path = require('node:path');
const express = require('express');
const { stateOf, probesInFlight } = require('./metrics');

const HISTORY_SECONDS = 180;
const MAX_TRANSITIONS = 200;
const COUNTED = ['fire', 'success', 'failure', 'reject', 'timeout', 'fallback'];

function percentile (sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// One breaker's live record: counts for the current second, a bounded history
// of past seconds, and every state change (bounded too).
function watchBreaker (breaker) {
  const startedAt = Date.now();
  const w = {
    breaker,
    current: freshSecond(),
    history: [],
    transitions: [{ at: startedAt, state: stateOf(breaker), cause: 'start' }]
  };
  for (const event of COUNTED) breaker.on(event, () => { w.current[event]++; });
  for (const event of ['success', 'failure']) {
    breaker.on(event, (_, latencyMs) => {
      if (typeof latencyMs === 'number' && w.current.latencies.length < 5000) w.current.latencies.push(latencyMs);
    });
  }
  return w;
}

function freshSecond () {
  const s = { latencies: [] };
  for (const event of COUNTED) s[event] = 0;
  return s;
}

function closeSecond (w, at) {
  const { latencies, ...counts } = w.current;
  latencies.sort((a, b) => a - b);
  w.history.push({ at, ...counts, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) });
  if (w.history.length > HISTORY_SECONDS) w.history.shift();
  w.current = freshSecond();
}

function breakerView (w) {
  const b = w.breaker;
  const stats = b.stats;
  const windowSeconds = (b.options.rollingCountTimeout || 10000) / 1000;
  const perSecond = {};
  for (const key of ['fires', 'successes', 'failures', 'rejects', 'timeouts', 'fallbacks']) {
    perSecond[key] = stats[key] / windowSeconds;
  }
  const last = w.transitions[w.transitions.length - 1];
  return {
    name: b.name,
    state: stateOf(b),
    since: last.at,
    enabled: b.enabled,
    probesInFlight: probesInFlight(b),
    options: {
      timeout: b.options.timeout,
      errorThresholdPercentage: b.options.errorThresholdPercentage,
      resetTimeout: b.options.resetTimeout,
      rollingCountTimeout: b.options.rollingCountTimeout
    },
    window: {
      seconds: windowSeconds,
      totals: {
        fires: stats.fires,
        successes: stats.successes,
        failures: stats.failures,
        rejects: stats.rejects,
        timeouts: stats.timeouts,
        fallbacks: stats.fallbacks
      },
      perSecond,
      errorPercentage: stats.fires ? (100 * stats.failures) / stats.fires : 0
    },
    latency: { mean: stats.latencyMean, percentiles: stats.percentiles },
    lastSecond: w.history[w.history.length - 1] || null
  };
}

const MAX_POOL_EVENTS = 100;

// The pool's live record: its eject/return events (bounded) and each
// endpoint's picks in the last second, for the traffic share.
function watchPool (pool) {
  if (!pool) return null;
  const w = { pool, events: [], picked: pool.stats().map(s => s.picked), share: pool.endpoints.map(() => 0), perSecond: pool.endpoints.map(() => 0) };
  const remember = (kind) => (e) => {
    w.events.push({ at: Date.now(), kind, endpoint: e.endpoint, url: e.url, reason: e.reason ?? null, until: e.until ?? null });
    if (w.events.length > MAX_POOL_EVENTS) w.events.shift();
  };
  pool.on('eject', remember('eject'));
  pool.on('return', remember('return'));
  return w;
}

function poolSecond (w) {
  const stats = w.pool.stats();
  const delta = stats.map((s, i) => s.picked - w.picked[i]);
  w.picked = stats.map(s => s.picked);
  const total = delta.reduce((a, b) => a + b, 0);
  w.perSecond = delta;
  w.share = delta.map(d => (total ? d / total : 0));
}

function poolView (w, upstream) {
  if (!w) return null;
  const replicas = upstream.snapshot().replicas || [];
  return {
    maxEjected: w.pool.maxEjected,
    endpoints: w.pool.stats().map((s, i) => ({
      ...s,
      share: w.share[i],
      pickedPerSecond: w.perSecond[i],
      replica: replicas[i] || null
    })),
    events: w.events.slice(-20)
  };
}

// The chaos wrapper on the breaker's action (null on opossum): its switch,
// its seed, and the injected faults the breaker counted.
function watchChaos (chaos, breaker) {
  if (!chaos) return null;
  const w = { chaos, injected: 0, current: 0, perSecond: 0 };
  breaker.on('failure', (err) => {
    if (err && err.code === 'ECHAOS') { w.injected++; w.current++; }
  });
  return w;
}

function chaosView (w) {
  if (!w) return { available: false };
  return {
    available: true,
    enabled: w.chaos.enabled,
    seed: String(w.chaos.seed),
    calls: w.chaos.calls,
    injected: w.injected,
    injectedPerSecond: w.perSecond,
    options: w.chaos.options
  };
}

function createDashboard ({ breakers, upstream, traffic, retryStats, buckets, metrics, pool = null, chaos = null, workers = null, info = {} }) {
  const watched = breakers.map(watchBreaker);
  const poolWatch = watchPool(pool);
  const chaosWatch = watchChaos(chaos, breakers[0]);
  const clients = new Set();
  const extras = { seconds: [] }; // traffic and policy counts per second
  let previousTotals = null;

  function policiesView () {
    const bucketView = {};
    for (const [name, b] of Object.entries(buckets)) {
      bucketView[name] = { available: b.available(), capacity: b.capacity, refillPerSecond: b.refillPerSecond, granted: b.granted, denied: b.denied };
    }
    return { retry: { ...retryStats }, buckets: bucketView };
  }

  function state () {
    return {
      ...info,
      now: Date.now(),
      breakers: watched.map(breakerView),
      upstream: upstream.snapshot(),
      traffic: traffic ? traffic.snapshot() : null,
      policies: policiesView(),
      pool: poolView(poolWatch, upstream),
      chaos: chaosView(chaosWatch),
      // every app process's own view of the shared breaker and bucket
      workers: workers ? { store: workers.store, name: workers.name, restarts: workers.restarts(), views: workers.views() } : null
    };
  }

  function send (res, event, data) {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  function broadcast (event, data) {
    for (const res of clients) send(res, event, data);
  }

  // Totals since start -> per-second differences for the traffic and policy charts.
  function extrasSecond (at) {
    const t = traffic ? traffic.snapshot() : {};
    const p = policiesView();
    const totals = {
      ok: t.ok || 0,
      fallback: t.fallback || 0,
      unavailable: t.unavailable || 0,
      error: t.error || 0,
      attempts: p.retry.attempts,
      retries: p.retry.retries,
      exhausted: p.retry.exhausted
    };
    for (const [name, b] of Object.entries(p.buckets)) {
      totals[`${name}.granted`] = b.granted;
      totals[`${name}.denied`] = b.denied;
    }
    const second = { at };
    for (const [key, value] of Object.entries(totals)) second[key] = value - ((previousTotals && previousTotals[key]) || 0);
    previousTotals = totals;
    extras.seconds.push(second);
    if (extras.seconds.length > HISTORY_SECONDS) extras.seconds.shift();
    return second;
  }

  function tick () {
    const at = Date.now();
    for (const w of watched) closeSecond(w, at);
    if (poolWatch) poolSecond(poolWatch);
    if (chaosWatch) { chaosWatch.perSecond = chaosWatch.current; chaosWatch.current = 0; }
    const second = extrasSecond(at);
    broadcast('tick', { ...state(), seconds: watched.map(w => w.history[w.history.length - 1]), extras: second });
  }
  extrasSecond(Date.now());
  const timer = setInterval(tick, 1000);

  for (const w of watched) {
    for (const [event, next] of [['open', 'open'], ['halfOpen', 'halfOpen'], ['close', 'closed']]) {
      w.breaker.on(event, () => {
        const transition = { at: Date.now(), state: next, cause: w.manual || 'traffic' };
        w.manual = null;
        w.transitions.push(transition);
        if (w.transitions.length > MAX_TRANSITIONS) w.transitions.shift();
        broadcast('transition', { name: w.breaker.name, ...transition, view: breakerView(w) });
      });
    }
  }

  const router = express.Router();
  router.use(express.json({ limit: '4kb' }));

  router.get('/', (req, res) => res.redirect('/dashboard/'));
  router.use('/dashboard', express.static(path.join(__dirname, '..', 'public')));

  router.get('/dashboard/events', (req, res) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive'
    });
    res.write('retry: 1000\n\n');
    send(res, 'hello', {
      ...state(),
      history: Object.fromEntries(watched.map(w => [w.breaker.name, w.history])),
      transitions: Object.fromEntries(watched.map(w => [w.breaker.name, w.transitions])),
      extras: extras.seconds
    });
    clients.add(res);
    req.on('close', () => clients.delete(res));
  });

  router.get('/dashboard/api/state', (req, res) => {
    res.json({ ...state(), transitions: Object.fromEntries(watched.map(w => [w.breaker.name, w.transitions])) });
  });

  router.post('/dashboard/api/upstream', (req, res) => {
    res.json(upstream.configure(req.body || {}));
    broadcast('tick', state());
  });

  // One replica's settings (the pool panel's controls).
  router.post('/dashboard/api/replicas/:index', (req, res) => {
    const r = upstream.replica ? upstream.replica(Number(req.params.index)) : null;
    if (!r) return res.status(404).json({ error: `no replica ${req.params.index}` });
    res.json(r.configure(req.body || {}));
    broadcast('tick', state());
  });

  router.post('/dashboard/api/chaos/:action', (req, res) => {
    if (!chaosWatch) return res.status(404).json({ error: 'no chaos on this breaker (fusewire only)' });
    const { action } = req.params;
    if (action === 'rates') {
      // The rates at run time ({ faultRate: 30 }); fusewire names a bad one.
      try {
        chaosWatch.chaos.configure(req.body || {});
      } catch (e) {
        return res.status(400).json({ error: e.message, field: e.field });
      }
      if (workers) workers.broadcast({ type: 'chaos', action, rates: req.body || {} });
      res.json(chaosView(chaosWatch));
      return broadcast('tick', state());
    }
    if (action === 'on') chaosWatch.chaos.enable();
    else if (action === 'off') chaosWatch.chaos.disable();
    else return res.status(400).json({ error: 'action is on, off or rates' });
    if (workers) workers.broadcast({ type: 'chaos', action });
    res.json(chaosView(chaosWatch));
    broadcast('tick', state());
  });

  router.post('/dashboard/api/traffic', (req, res) => {
    if (!traffic) return res.status(404).json({ error: 'traffic generator is off' });
    traffic.setRate((req.body || {}).rps);
    res.json(traffic.snapshot());
  });

  router.post('/dashboard/api/breakers/:name/:action', (req, res) => {
    const w = watched.find(x => x.breaker.name === req.params.name);
    if (!w) return res.status(404).json({ error: `no breaker named ${req.params.name}` });
    const { action } = req.params;
    if (action !== 'open' && action !== 'close') return res.status(400).json({ error: 'action is open or close' });
    w.manual = 'by hand';
    w.breaker[action]();
    w.manual = null;
    res.json(breakerView(w));
  });

  router.get('/metrics', async (req, res) => {
    res.set('content-type', metrics.contentType);
    res.end(await metrics.text());
  });

  function close () {
    clearInterval(timer);
    for (const res of clients) res.end();
    clients.clear();
  }

  return { router, close, state };
}

module.exports = { createDashboard };
