'use strict';

// The dashboard's server side: per-second series and state transitions
// gathered from the breakers' events, pushed to the page over Server-Sent
// Events, and the controls (upstream, breaker, traffic) as small JSON POSTs.

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

function createDashboard ({ breakers, upstream, traffic, retryStats, buckets, metrics, info = {} }) {
  const watched = breakers.map(watchBreaker);
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
      policies: policiesView()
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
