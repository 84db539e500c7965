'use strict';

// opossum-prometheus, unchanged, on a fusewire breaker: the same counters
// as on an opossum breaker given the same calls.

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { Registry } = require('prom-client');
const PrometheusMetrics = require('opossum-prometheus');

async function metricsFor (CircuitBreaker) {
  const registry = new Registry();
  let fail = false;
  const breaker = new CircuitBreaker(async x => { if (fail) throw new Error('down'); return x; },
    { name: 'svc', enableSnapshots: false });
  breaker.fallback(() => 'fb');
  const metrics = new PrometheusMetrics({ circuits: [breaker], registry });
  for (let i = 0; i < 3; i++) await breaker.fire(i);
  fail = true;
  for (let i = 0; i < 5; i++) await breaker.fire(i);
  const text = await metrics.metrics;
  metrics.clear();
  breaker.shutdown();
  const counters = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^circuit\{name="svc",event="(\w+)"\} (\d+)/);
    if (m) counters[m[1]] = Number(m[2]);
  }
  return { text, counters };
}

it('opossum-prometheus counts the same events on fusewire as on opossum', async () => {
  const ours = await metricsFor(require('..'));
  const theirs = await metricsFor(require('opossum'));
  assert.deepEqual(ours.counters, theirs.counters);
  assert.deepEqual(ours.counters, { fire: 8, success: 3, failure: 4, open: 1, reject: 1, fallback: 5 });
  assert.match(ours.text, /circuit_perf\{quantile="0.5",name="svc",event="success"\}/);
  assert.match(ours.text, /circuit_perf_count\{name="svc",event="failure"\} 4/);
});
