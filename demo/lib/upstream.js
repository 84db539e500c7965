'use strict';

// The flaky upstream: a stand-in for the public JSON API the seed calls, so the
// demo runs with no internet. Its error rate and latency are changed at run
// time through /control (the dashboard's break/heal buttons call it too).

const http = require('node:http');

const POST = {
  userId: 1,
  id: 1,
  title: 'sunt aut facere repellat provident occaecati excepturi optio reprehenderit',
  body: 'quia et suscipit\nsuscipit recusandae consequuntur expedita et cum\nreprehenderit molestiae ut ut quas totam\nnostrum rerum est autem sunt rem eveniet architecto'
};

function clamp (value, lo, hi, otherwise) {
  const n = Number(value);
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : otherwise;
}

function createUpstream ({ errorRate = 0, latencyMs = 20, jitterMs = 10 } = {}) {
  const state = { errorRate, latencyMs, jitterMs, served: 0, failed: 0 };

  function configure (changes = {}) {
    state.errorRate = clamp(changes.errorRate, 0, 1, state.errorRate);
    state.latencyMs = clamp(changes.latencyMs, 0, 60000, state.latencyMs);
    state.jitterMs = clamp(changes.jitterMs, 0, 60000, state.jitterMs);
    return snapshot();
  }

  function snapshot () {
    const { errorRate, latencyMs, jitterMs, served, failed } = state;
    return { errorRate, latencyMs, jitterMs, served, failed };
  }

  function send (res, status, body) {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://upstream');
    if (url.pathname === '/control') {
      if (req.method === 'GET' && url.search === '') return send(res, 200, snapshot());
      // Accept the settings as query parameters or as a JSON body, so both
      // `curl -X POST '.../control?errorRate=1'` and the dashboard work.
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', chunk => { if (raw.length < 4096) raw += chunk; });
      req.on('end', () => {
        let body = {};
        try { body = raw ? JSON.parse(raw) : {}; } catch { return send(res, 400, { error: 'body is not JSON' }); }
        const query = Object.fromEntries(url.searchParams);
        send(res, 200, configure({ ...query, ...body }));
      });
      return;
    }
    if (url.pathname === '/healthz') return send(res, 200, { ok: true });
    if (!/^\/posts\/\d+$/.test(url.pathname)) return send(res, 404, { error: 'not found' });

    const delay = state.latencyMs + Math.random() * state.jitterMs;
    const fail = Math.random() < state.errorRate;
    const timer = setTimeout(() => {
      if (res.destroyed) return;
      if (fail) {
        state.failed++;
        return send(res, 500, { error: 'upstream failure (injected)' });
      }
      state.served++;
      send(res, 200, { ...POST, id: Number(url.pathname.split('/')[2]) });
    }, delay);
    // A caller that gave up (the breaker's timeout) should not keep the timer alive.
    res.on('close', () => clearTimeout(timer));
  });
  server.keepAliveTimeout = 5000;

  return { server, configure, snapshot };
}

// The flaky replica's error rate at start.
const FLAKY_ERROR_RATE = 0.3;

// Several replicas of the upstream. configure() and snapshot() act on all of
// them as one upstream (the dashboard's upstream controls, the e2e test's
// "break the upstream"); replica(i) is one of them.
function createReplicas (settings) {
  const list = settings.map(s => createUpstream(s));
  return {
    list,
    urls: [],
    replica: i => list[i],
    configure (changes = {}) {
      for (const r of list) r.configure(changes);
      return this.snapshot();
    },
    snapshot () {
      const all = list.map(r => r.snapshot());
      return {
        ...all[0],
        served: all.reduce((n, s) => n + s.served, 0),
        failed: all.reduce((n, s) => n + s.failed, 0),
        replicas: all
      };
    }
  };
}

module.exports = { createUpstream, createReplicas, FLAKY_ERROR_RATE };
