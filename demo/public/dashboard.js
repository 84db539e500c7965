'use strict';

// The dashboard page: no build step, no library. Server-Sent Events bring a
// `hello` (history so far), then a `tick` each second and a `transition` at
// each state change; charts are drawn on canvas by hand.

const HISTORY = 60; // seconds shown
const STATE_LABEL = { closed: 'CLOSED', open: 'OPEN', halfOpen: 'HALF-OPEN' };
const COLORS = {
  fire: '#c9d1d9', success: '#3fb950', failure: '#f85149', reject: '#d2a8ff',
  timeout: '#f0883e', fallback: '#58a6ff', closed: '#3fb950', open: '#f85149', halfOpen: '#e3b341'
};
const SERIES = ['fire', 'success', 'failure', 'reject', 'timeout', 'fallback'];

const $ = (sel, root = document) => root.querySelector(sel);
const view = { breakers: new Map(), extras: [], now: Date.now(), clockSkew: 0 };

const fmtRate = v => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(1));
const fmtMs = v => (v === null || v === undefined || v < 0 ? '–' : v >= 100 ? Math.round(v).toString() : v.toFixed(1));
const fmtTime = t => new Date(t).toLocaleTimeString([], { hour12: false });
const serverNow = () => Date.now() + view.clockSkew;

function ago (t) {
  const s = Math.max(0, Math.round((serverNow() - t) / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  return `${m} min ${s % 60} s ago`;
}

// ---- canvas drawing ----

function prepare (canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

function niceMax (v) {
  if (v <= 5) return 5;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// Lines over the last HISTORY seconds; points are {at, [key]: value}.
function drawLines (canvas, points, keys, { stacked = false } = {}) {
  const { ctx, w, h } = prepare(canvas);
  const left = 34; const right = 6; const top = 6; const bottom = 18;
  const end = serverNow();
  const start = end - HISTORY * 1000;
  const x = at => left + ((at - start) / (HISTORY * 1000)) * (w - left - right);
  const shown = points.filter(p => p.at >= start - 1000);
  let max = 0;
  for (const p of shown) {
    if (stacked) max = Math.max(max, keys.reduce((s, k) => s + (p[k] || 0), 0));
    else for (const k of keys) max = Math.max(max, p[k] || 0);
  }
  max = niceMax(max);
  const y = v => top + (1 - v / max) * (h - top - bottom);

  ctx.font = '10px system-ui, sans-serif';
  ctx.fillStyle = '#8a99a8';
  ctx.strokeStyle = '#263240';
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const yy = Math.round(y(v)) + 0.5;
    ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(w - right, yy); ctx.stroke();
    ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
    ctx.fillText(Number.isInteger(v) ? v : v.toFixed(1), left - 5, yy);
  }
  ctx.textAlign = 'center'; ctx.textBaseline = 'alphabetic';
  for (let s = 0; s <= HISTORY; s += 15) {
    const xx = x(end - s * 1000);
    ctx.fillText(s === 0 ? 'now' : `-${s}s`, Math.min(w - 14, Math.max(left + 10, xx)), h - 4);
  }

  ctx.save();
  ctx.beginPath();
  ctx.rect(left, 0, w - left - right, h - bottom);
  ctx.clip();
  if (stacked) {
    const base = shown.map(() => 0);
    for (const k of keys) {
      ctx.fillStyle = COLORS[k] || k;
      ctx.globalAlpha = 0.85;
      const barW = Math.max(1, (w - left - right) / HISTORY - 1);
      shown.forEach((p, i) => {
        const v = p[k] || 0;
        if (!v) return;
        const y0 = y(base[i]); const y1 = y(base[i] + v);
        ctx.fillRect(x(p.at) - barW, y1, barW, y0 - y1);
        base[i] += v;
      });
    }
    ctx.globalAlpha = 1;
    ctx.restore();
    return;
  }
  ctx.lineJoin = 'round';
  for (const k of keys) {
    ctx.strokeStyle = COLORS[k] || k;
    ctx.lineWidth = k === 'fire' ? 1.2 : 2;
    ctx.setLineDash(k === 'fire' ? [4, 3] : []);
    ctx.beginPath();
    shown.forEach((p, i) => {
      const px = x(p.at); const py = y(p[k] || 0);
      if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    });
    ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.restore();
}

// The state as a coloured band over the same time axis as the chart above it.
function drawTimeline (canvas, transitions) {
  const { ctx, w, h } = prepare(canvas);
  const left = 34; const right = 6;
  const end = serverNow();
  const start = end - HISTORY * 1000;
  const x = at => left + ((Math.max(start, Math.min(end, at)) - start) / (HISTORY * 1000)) * (w - left - right);
  ctx.fillStyle = '#111820';
  ctx.fillRect(left, 4, w - left - right, h - 16);
  transitions.forEach((t, i) => {
    const next = transitions[i + 1];
    const to = next ? next.at : end;
    if (to < start) return;
    ctx.fillStyle = COLORS[t.state];
    ctx.globalAlpha = t.state === 'closed' ? 0.55 : 0.9;
    ctx.fillRect(x(t.at), 4, Math.max(2, x(to) - x(t.at)), h - 16);
  });
  ctx.globalAlpha = 1;
  ctx.font = '10px system-ui, sans-serif';
  ctx.fillStyle = '#8a99a8';
  ctx.textAlign = 'right';
  ctx.fillText('state', left - 5, h / 2);
}

// ---- breaker cards ----

function breakerCard (name) {
  if (view.breakers.has(name)) return view.breakers.get(name);
  const node = $('#breaker-template').content.firstElementChild.cloneNode(true);
  node.dataset.breaker = name;
  $('.name', node).textContent = name;
  $('.legend', node).innerHTML = SERIES.map(k => `<span><i style="background:${COLORS[k]}"></i>${k === 'fire' ? 'calls' : k === 'success' ? 'successes' : k + 's'}</span>`).join('');
  $('#breakers').appendChild(node);
  const card = { node, history: [], transitions: [], last: null };
  view.breakers.set(name, card);
  return card;
}

function renderBreaker (b) {
  const card = breakerCard(b.name);
  card.last = b;
  const { node } = card;
  const state = $('.state', node);
  state.dataset.state = b.state;
  state.textContent = STATE_LABEL[b.state] || b.state;
  node.dataset.state = b.state;
  $('.since', node).textContent = `since ${fmtTime(b.since)} · ${ago(b.since)}`;
  const o = b.options;
  $('.opts', node).textContent = `timeout ${o.timeout} ms · opens above ${o.errorThresholdPercentage}% errors · retries after ${o.resetTimeout / 1000} s` +
    (b.probesInFlight ? ` · ${b.probesInFlight} probe in flight` : '');
  $('.window-len', node).textContent = `(${b.window.seconds} s)`;
  for (const el of node.querySelectorAll('.tiles .v[data-k]')) el.textContent = fmtRate(b.window.perSecond[el.dataset.k]);
  const pct = b.window.errorPercentage;
  $('.errfill', node).style.width = `${Math.min(100, pct)}%`;
  $('.threshold', node).style.left = `${o.errorThresholdPercentage}%`;
  $('.errv', node).textContent = `${pct.toFixed(0)}%`;
  for (const el of node.querySelectorAll('dd[data-t]')) el.textContent = b.window.totals[el.dataset.t];
  $('.probes', node).textContent = b.probesInFlight;
  const p = b.latency.percentiles || {};
  for (const td of node.querySelectorAll('td[data-p]')) {
    td.textContent = fmtMs(td.dataset.p === 'mean' ? b.latency.mean : p[td.dataset.p]);
  }
}

function renderTransitions (card) {
  const list = $('.transitions', card.node);
  list.innerHTML = card.transitions.slice(-40).reverse().map(t =>
    `<li><span class="t">${fmtTime(t.at)}</span><span class="s-${t.state}">${STATE_LABEL[t.state]}</span><span class="c">${t.cause}</span></li>`
  ).join('');
}

function drawBreaker (card) {
  drawLines($('canvas.chart', card.node), card.history, SERIES);
  drawTimeline($('canvas.timeline', card.node), card.transitions);
}

// ---- policies and traffic ----

function renderExtras (state, second) {
  const r = state.policies.retry;
  if (second) {
    $('#retry-attempts').textContent = second.attempts;
    $('#retry-retries').textContent = second.retries;
    $('#retry-exhausted').textContent = second.exhausted;
    $('#bucket-granted').textContent = second['fallback.granted'] ?? '–';
    $('#bucket-denied').textContent = second['fallback.denied'] ?? '–';
    $('#resp-ok').textContent = second.ok;
    $('#resp-fallback').textContent = second.fallback;
    $('#resp-unavailable').textContent = second.unavailable;
  }
  $('#retry-totals').textContent = `since start: ${r.calls} calls, ${r.attempts} attempts, ${r.retries} retries, ${r.exhausted} gave up`;
  const bucket = state.policies.buckets.fallback;
  if (bucket) {
    $('#bucket-fill').style.width = `${(100 * bucket.available) / bucket.capacity}%`;
    $('#bucket-level').textContent = `${bucket.available} / ${bucket.capacity} tokens`;
  }
}

function drawExtras () {
  const points = view.extras.map(s => ({ ...s, granted: s['fallback.granted'] || 0, denied: s['fallback.denied'] || 0 }));
  COLORS.attempts = '#c9d1d9'; COLORS.retries = '#e3b341'; COLORS.exhausted = '#f85149';
  COLORS.granted = '#58a6ff'; COLORS.denied = '#f85149';
  COLORS.ok = '#3fb950'; COLORS.unavailable = '#f85149';
  drawLines($('#retry-chart'), points, ['attempts', 'retries', 'exhausted']);
  drawLines($('#bucket-chart'), points, ['granted', 'denied'], { stacked: true });
  drawLines($('#traffic-chart'), points, ['ok', 'fallback', 'unavailable'], { stacked: true });
}

function renderControls (state, force) {
  const u = state.upstream;
  const active = document.activeElement;
  if (force || active !== $('#error-rate')) $('#error-rate').value = Math.round(u.errorRate * 100);
  if (force || active !== $('#latency')) $('#latency').value = u.latencyMs;
  $('#error-rate-out').textContent = `${Math.round(u.errorRate * 100)}%`;
  $('#latency-out').textContent = `${u.latencyMs} ms`;
  if (state.traffic) {
    if (force || active !== $('#rps')) $('#rps').value = state.traffic.rps;
    $('#rps-out').textContent = `${state.traffic.rps} / s`;
  }
  if (state.module) $('#module').textContent = `breaker module: ${state.module}`;
  if (state.upstreamUrl) $('#upstream-url').textContent = state.upstreamUrl;
}

// ---- pool and chaos ----

const REPLICA = i => String.fromCharCode(65 + i); // A, B, C
const pct = v => `${Math.round(v * 100)}%`;
const esc = v => String(v).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
view.pool = [];   // per second: {at, share0, share1, ...}
view.chaos = [];  // per second: {at, injected}

function renderPool (pool, force) {
  if (!pool) { $('#pool-panel').hidden = true; return; }
  const rows = pool.endpoints.map((e, i) => {
    const health = e.ejected ? 'ejected' : 'healthy';
    const until = e.ejected ? ` until ${fmtTime(e.ejectedUntil)}` : '';
    const rate = e.replica ? pct(e.replica.errorRate) : '–';
    return `<tr data-endpoint="${i}" data-health="${health}">` +
      `<td>${REPLICA(i)} <span class="hint">${esc(e.url)}</span></td>` +
      `<td class="health" data-health="${health}" data-testid="endpoint-health">${health.toUpperCase()}${until}</td>` +
      `<td><span class="sharebar"><i style="width:${Math.round(e.share * 100)}%"></i></span><span class="share" data-testid="endpoint-share">${pct(e.share)}</span></td>` +
      `<td>${e.pickedPerSecond}</td><td>${e.outstanding}</td><td>${e.consecutiveFailures}</td><td>${e.ejections}</td><td>${rate}</td></tr>`;
  });
  $('#pool-endpoints').innerHTML = rows.join('');
  const flaky = pool.endpoints.length - 1;
  const f = pool.endpoints[flaky];
  $('#flaky-url').textContent = `${REPLICA(flaky)} · ${f.url}`;
  if (f.replica) {
    if (force || document.activeElement !== $('#flaky-rate')) $('#flaky-rate').value = Math.round(f.replica.errorRate * 100);
    $('#flaky-rate-out').textContent = pct(f.replica.errorRate);
  }
  $('#pool-events').innerHTML = pool.events.slice().reverse().map(e =>
    `<li data-kind="${e.kind}"><span class="t">${fmtTime(e.at)}</span> ${REPLICA(e.endpoint)} ` +
    (e.kind === 'eject' ? `ejected (${e.reason}) until ${fmtTime(e.until)}` : 'returned') + '</li>'
  ).join('');
}

function renderChaos (chaos, breakers) {
  if (chaos) {
    const on = chaos.available && chaos.enabled;
    const el = $('#chaos-state');
    el.dataset.enabled = String(!!on);
    el.textContent = !chaos.available ? 'N/A (opossum)' : on ? 'INJECTING' : 'OFF';
  }
  if (chaos && chaos.available) {
    const o = chaos.options || {};
    $('#chaos-desc').textContent = `on the breaker's action: ${o.faultRate ?? 0}% faults, ${o.latencyRate ?? 0}% delayed ${o.latencyMin ?? 0}–${o.latencyMax ?? 0} ms`;
    if (document.activeElement !== $('#chaos-fault')) $('#chaos-fault').value = o.faultRate ?? 0;
    $('#chaos-fault-out').textContent = `${o.faultRate ?? 0}%`;
    $('#chaos-injected-rate').textContent = chaos.injectedPerSecond;
    $('#chaos-injected').textContent = chaos.injected;
    $('#chaos-calls').textContent = chaos.calls;
    $('#chaos-seed').textContent = chaos.seed;
  }
  const b = breakers && breakers[0];
  if (b) {
    const s = $('#chaos-breaker-state');
    s.dataset.state = b.state;
    s.textContent = STATE_LABEL[b.state] || b.state;
  }
}

function drawPoolAndChaos () {
  COLORS.share0 = '#3fb950'; COLORS.share1 = '#58a6ff'; COLORS.share2 = '#f85149'; COLORS.injected = '#f85149';
  const keys = (view.poolSize ? Array.from({ length: view.poolSize }, (_, i) => `share${i}`) : []);
  drawLines($('#pool-chart'), view.pool, keys);
  drawLines($('#chaos-chart'), view.chaos, ['injected']);
}

function remember (state) {
  if (state.pool) {
    view.poolSize = state.pool.endpoints.length;
    const point = { at: state.now };
    state.pool.endpoints.forEach((e, i) => { point[`share${i}`] = e.pickedPerSecond; });
    view.pool.push(point);
    if (view.pool.length > HISTORY + 5) view.pool.shift();
  }
  if (state.chaos && state.chaos.available) {
    view.chaos.push({ at: state.now, injected: state.chaos.injectedPerSecond });
    if (view.chaos.length > HISTORY + 5) view.chaos.shift();
  }
}

// Every app process's own view: they share one breaker and one bucket, so
// they show the same state (a worker that has not called since a change
// shows it at its next read).
function renderWorkers (workers) {
  if (!workers) { $('#workers-panel').hidden = true; return; }
  $('#workers-panel').hidden = false;
  $('#workers-store').textContent = `${workers.views.length} app processes, one breaker and one bucket in ${workers.store}` +
    (workers.restarts ? ` · ${workers.restarts} restarted` : '');
  $('#workers-rows').innerHTML = workers.views.map(w =>
    `<tr data-testid="worker" data-pid="${w.pid}" data-state="${esc(String(w.state))}">` +
    `<td>${w.slot === 'demo' ? 'demo' : 'worker ' + (w.slot + 1)} <span class="hint">pid ${w.pid}${w.port ? ' · :' + w.port : ''}</span></td>` +
    `<td class="health" data-testid="worker-state">${esc(String(w.state))}</td>` +
    `<td>${w.calls ?? '–'}</td><td>${w.successes ?? '–'}</td><td>${w.failures ?? '–'}</td><td>${w.rejects ?? '–'}</td><td>${w.fallbacks ?? '–'}</td>` +
    `<td>${typeof w.tokens === 'number' ? w.tokens.toFixed(1) : '–'}</td></tr>`
  ).join('');
}

function render (state, second) {
  renderWorkers(state.workers);
  view.clockSkew = state.now - Date.now();
  for (const b of state.breakers) renderBreaker(b);
  renderExtras(state, second);
  renderControls(state);
  renderPool(state.pool);
  renderChaos(state.chaos, state.breakers);
}

function redraw () {
  for (const card of view.breakers.values()) {
    drawBreaker(card);
    if (card.last) $('.since', card.node).textContent = `since ${fmtTime(card.last.since)} · ${ago(card.last.since)}`;
  }
  drawExtras();
  drawPoolAndChaos();
  $('#clock').textContent = fmtTime(serverNow());
}

// ---- live updates ----

function connect () {
  const events = new EventSource('events');
  const conn = $('#conn');
  events.onopen = () => { conn.dataset.live = 'true'; conn.textContent = 'live'; };
  events.onerror = () => { conn.dataset.live = 'false'; conn.textContent = 'reconnecting…'; };

  events.addEventListener('hello', e => {
    const s = JSON.parse(e.data);
    for (const b of s.breakers) {
      const card = breakerCard(b.name);
      card.history = s.history[b.name] || [];
      card.transitions = s.transitions[b.name] || [];
      renderTransitions(card);
    }
    view.extras = s.extras || [];
    render(s, view.extras[view.extras.length - 1]);
    renderControls(s, true);
    redraw();
  });

  events.addEventListener('tick', e => {
    const s = JSON.parse(e.data);
    if (s.seconds) {
      s.breakers.forEach((b, i) => {
        const card = breakerCard(b.name);
        if (s.seconds[i]) card.history.push(s.seconds[i]);
        if (card.history.length > HISTORY + 5) card.history.shift();
      });
    }
    if (s.extras) {
      view.extras.push(s.extras);
      if (view.extras.length > HISTORY + 5) view.extras.shift();
    }
    if (s.seconds) remember(s);
    render(s, s.extras);
    redraw();
  });

  events.addEventListener('transition', e => {
    const t = JSON.parse(e.data);
    const card = breakerCard(t.name);
    card.transitions.push({ at: t.at, state: t.state, cause: t.cause });
    renderBreaker(t.view);
    renderTransitions(card);
    drawBreaker(card);
    renderChaos(null, [t.view]);
  });
}

// ---- controls ----

async function post (url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

function upstream (changes) {
  return post('api/upstream', changes).then(u => renderControls({ upstream: u }, true));
}

function firstBreaker () {
  return view.breakers.keys().next().value;
}

$('#break-upstream').addEventListener('click', () => upstream({ errorRate: 1 }));
$('#slow-upstream').addEventListener('click', () => upstream({ latencyMs: 4000 }));
$('#heal-upstream').addEventListener('click', () => upstream({ errorRate: 0, latencyMs: 20 }));
$('#error-rate').addEventListener('change', e => upstream({ errorRate: e.target.value / 100 }));
$('#error-rate').addEventListener('input', e => { $('#error-rate-out').textContent = `${e.target.value}%`; });
$('#latency').addEventListener('change', e => upstream({ latencyMs: Number(e.target.value) }));
$('#latency').addEventListener('input', e => { $('#latency-out').textContent = `${e.target.value} ms`; });
$('#rps').addEventListener('input', e => { $('#rps-out').textContent = `${e.target.value} / s`; });
$('#rps').addEventListener('change', e => post('api/traffic', { rps: Number(e.target.value) }));
$('#open-breaker').addEventListener('click', () => post(`api/breakers/${encodeURIComponent(firstBreaker())}/open`).then(renderBreaker));
$('#close-breaker').addEventListener('click', () => post(`api/breakers/${encodeURIComponent(firstBreaker())}/close`).then(renderBreaker));

function replica (changes) {
  const i = (view.poolSize || 3) - 1;
  return post(`api/replicas/${i}`, changes).then(r => { $('#flaky-rate-out').textContent = pct(r.errorRate); });
}
$('#break-flaky').addEventListener('click', () => replica({ errorRate: 1 }));
$('#flaky-flaky').addEventListener('click', () => replica({ errorRate: 0.3 }));
$('#heal-flaky').addEventListener('click', () => replica({ errorRate: 0 }));
$('#flaky-rate').addEventListener('input', e => { $('#flaky-rate-out').textContent = `${e.target.value}%`; });
$('#flaky-rate').addEventListener('change', e => replica({ errorRate: e.target.value / 100 }));
$('#chaos-fault').addEventListener('input', e => { $('#chaos-fault-out').textContent = `${e.target.value}%`; });
$('#chaos-fault').addEventListener('change', e => post('api/chaos/rates', { faultRate: Number(e.target.value) }).then(c => renderChaos(c)));
$('#chaos-on').addEventListener('click', () => post('api/chaos/on').then(c => renderChaos(c)));
$('#chaos-off').addEventListener('click', () => post('api/chaos/off').then(c => renderChaos(c)));

window.addEventListener('resize', redraw);
setInterval(() => { $('#clock').textContent = fmtTime(serverNow()); }, 1000);
connect();
