'use strict';

// The built-in traffic generator: GET /data at a steady rate, so the breaker
// has something to decide. Concurrency is capped, so a slow upstream cannot
// make it pile up requests; the rate is changed at run time from the dashboard.

const http = require('node:http');

const MAX_RPS = 200;
const MAX_IN_FLIGHT = 64;

// `url`: one URL, or a list taken in turn (the demo's app processes).
function createTraffic ({ url, rps = 10 }) {
  const urls = Array.isArray(url) ? url : [url];
  let turn = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  const state = { rps: 0, inFlight: 0, skipped: 0 };
  const counts = { ok: 0, fallback: 0, unavailable: 0, error: 0 };
  let timer = null;
  let due = 0;
  let last = 0;

  function one () {
    if (state.inFlight >= MAX_IN_FLIGHT) { state.skipped++; return; }
    state.inFlight++;
    let settled = false;
    const finish = outcome => {
      if (settled) return;
      settled = true;
      state.inFlight--;
      counts[outcome]++;
    };
    const req = http.get(urls[turn++ % urls.length], { agent, timeout: 10000 }, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', chunk => { body += chunk; });
      res.on('end', () => {
        if (res.statusCode === 503) return finish('unavailable');
        if (res.statusCode !== 200) return finish('error');
        finish(body.includes('"message"') ? 'fallback' : 'ok');
      });
      res.on('error', () => finish('error'));
    });
    req.on('timeout', () => req.destroy(new Error('traffic generator timeout')));
    req.on('error', () => finish('error'));
  }

  // A 20 ms tick with a running balance keeps odd rates (7/s) even.
  function tick () {
    const now = Date.now();
    due += (now - last) * state.rps / 1000;
    last = now;
    while (due >= 1) { due -= 1; one(); }
  }

  function setRate (value) {
    const n = Number(value);
    if (!Number.isFinite(n)) return state.rps;
    state.rps = Math.max(0, Math.min(MAX_RPS, Math.round(n)));
    if (state.rps > 0 && !timer) {
      last = Date.now();
      due = 1; // the first request goes out at once
      timer = setInterval(tick, 20);
    } else if (state.rps === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
    return state.rps;
  }

  function stop () {
    if (timer) clearInterval(timer);
    timer = null;
    agent.destroy();
  }

  setRate(rps);
  return {
    setRate,
    stop,
    snapshot: () => ({ rps: state.rps, maxRps: MAX_RPS, inFlight: state.inFlight, skipped: state.skipped, ...counts })
  };
}

module.exports = { createTraffic };
