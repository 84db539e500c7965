'use strict';

// /metrics: opossum-prometheus itself on the fusewire breaker (the drop-in
// claim: the add-on reads `breaker.eventNames()` and listens, unchanged), and
// beside it the gauges opossum cannot give: the breaker state, half-open
// probes in flight, the retry and token-bucket counters of the demo, the
// pool's endpoints (ejected, in flight, picks, ejections by reason) and the
// chaos switch and decisions.

const client = require('prom-client');
const PrometheusMetrics = require('opossum-prometheus');

const STATE_CODE = { closed: 0, halfOpen: 1, open: 2 };

function stateOf (breaker) {
  if (breaker.opened) return 'open';
  if (breaker.halfOpen) return 'halfOpen';
  return 'closed';
}

// fusewire may let several probes through while half-open; opossum lets one,
// and says so through `pendingClose`.
function probesInFlight (breaker) {
  if (typeof breaker.halfOpenProbesInFlight === 'number') return breaker.halfOpenProbesInFlight;
  return breaker.halfOpen && breaker.pendingClose ? 1 : 0;
}

function createMetrics ({ breakers, retryStats, buckets = {}, pool = null, chaos = null }) {
  const registry = new client.Registry();
  const opossumMetrics = new PrometheusMetrics({ circuits: breakers, registry });

  new client.Gauge({
    name: 'fusewire_circuit_state',
    help: 'Circuit state: 0 closed, 1 half-open, 2 open',
    labelNames: ['name'],
    registers: [registry],
    collect () {
      for (const b of breakers) this.set({ name: b.name }, STATE_CODE[stateOf(b)]);
    }
  });

  new client.Gauge({
    name: 'fusewire_circuit_half_open_probes_in_flight',
    help: 'Trial calls running while the circuit is half-open',
    labelNames: ['name'],
    registers: [registry],
    collect () {
      for (const b of breakers) this.set({ name: b.name }, probesInFlight(b));
    }
  });

  if (retryStats) {
    for (const [key, help] of [
      ['attempts', 'Calls made to the upstream, first tries and retries'],
      ['retries', 'Retries after a retryable failure'],
      ['exhausted', 'Calls that failed after the last allowed attempt']
    ]) {
      new client.Counter({
        name: `fusewire_retry_${key}_total`,
        help,
        registers: [registry],
        collect () { this.reset(); this.inc(retryStats[key]); }
      });
    }
  }

  const bucketNames = Object.keys(buckets);
  if (bucketNames.length) {
    new client.Gauge({
      name: 'fusewire_token_bucket_available',
      help: 'Tokens available now',
      labelNames: ['bucket'],
      registers: [registry],
      collect () {
        for (const name of bucketNames) this.set({ bucket: name }, buckets[name].available());
      }
    });
    new client.Counter({
      name: 'fusewire_token_bucket_decisions_total',
      help: 'Token requests, granted or denied',
      labelNames: ['bucket', 'decision'],
      registers: [registry],
      collect () {
        this.reset();
        for (const name of bucketNames) {
          this.inc({ bucket: name, decision: 'granted' }, buckets[name].granted);
          this.inc({ bucket: name, decision: 'denied' }, buckets[name].denied);
        }
      }
    });
  }

  if (pool) {
    // Ejections by reason, counted from the pool's own events.
    const ejections = {};
    pool.on('eject', e => {
      const key = `${e.url}|${e.reason}`;
      ejections[key] = (ejections[key] || 0) + 1;
    });
    new client.Gauge({
      name: 'fusewire_pool_endpoint_ejected',
      help: 'Whether the endpoint is ejected from the pool now (1) or not (0)',
      labelNames: ['endpoint'],
      registers: [registry],
      collect () {
        for (const s of pool.stats()) this.set({ endpoint: s.url }, s.ejected ? 1 : 0);
      }
    });
    new client.Gauge({
      name: 'fusewire_pool_endpoint_outstanding',
      help: 'Calls picked for the endpoint and not yet settled',
      labelNames: ['endpoint'],
      registers: [registry],
      collect () {
        for (const s of pool.stats()) this.set({ endpoint: s.url }, s.outstanding);
      }
    });
    new client.Counter({
      name: 'fusewire_pool_picks_total',
      help: 'Calls the pool sent to the endpoint',
      labelNames: ['endpoint'],
      registers: [registry],
      collect () {
        this.reset();
        for (const s of pool.stats()) this.inc({ endpoint: s.url }, s.picked);
      }
    });
    new client.Counter({
      name: 'fusewire_pool_ejections_total',
      help: 'Ejections of the endpoint, by reason',
      labelNames: ['endpoint', 'reason'],
      registers: [registry],
      collect () {
        this.reset();
        for (const [key, n] of Object.entries(ejections)) {
          const [endpoint, reason] = key.split('|');
          this.inc({ endpoint, reason }, n);
        }
      }
    });
  }

  if (chaos) {
    new client.Gauge({
      name: 'fusewire_chaos_enabled',
      help: 'Whether chaos injection is on (1) or off (0)',
      labelNames: ['name'],
      registers: [registry],
      collect () { this.set({ name: breakers[0].name }, chaos.enabled ? 1 : 0); }
    });
    new client.Counter({
      name: 'fusewire_chaos_decisions_total',
      help: 'Calls chaos decided while on (injected or not)',
      labelNames: ['name'],
      registers: [registry],
      collect () { this.reset(); this.inc({ name: breakers[0].name }, chaos.calls); }
    });
  }

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    close: () => opossumMetrics.clear()
  };
}

module.exports = { createMetrics, stateOf, probesInFlight };
