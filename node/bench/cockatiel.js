'use strict';

// One run, fusewire/cockatiel against cockatiel 4 (dev-dependency), side by
// side: ns per call, one call at a time (await each), for each policy and
// for wrap(retry, breaker, timeout), on the success path (a function that
// resolves at once) and on failure paths (an open breaker's rejection, a
// handled failure that is counted, a retry that gives up, a timeout around
// a failing call). Rounds alternate the libraries; the median round counts.
// Prints a markdown table. `node bench/cockatiel.js` (make -C node build first).

const os = require('node:os');

const ROUNDS = Number(process.env.ROUNDS || 7);
const CALLS = Number(process.env.CALLS || 50_000);
const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const ok = async () => 1;
const ERR = new Error('down');
const fail = () => Promise.reject(ERR);

const FLOOR = { execute: async (fn, signal) => await fn({ signal }) };
// No policy at all: the call itself (what no wrapper can go below).
const BARE = { execute: (fn, signal) => fn({ signal }) };

function cases (c) {
  const breaker = () => c.circuitBreaker(c.handleAll, { halfOpenAfter: 10_000, breaker: new c.ConsecutiveBreaker(5) });
  // opened by failures, for longer than the run: every call is refused
  const open = c.circuitBreaker(c.handleAll, { halfOpenAfter: 1e9, breaker: new c.ConsecutiveBreaker(1) });
  open.execute(fail).catch(() => 0);
  const isolated = breaker();
  isolated.isolate(); // held open by hand
  const counting = c.circuitBreaker(c.handleAll, { halfOpenAfter: 10_000, breaker: new c.ConsecutiveBreaker(1e9) });
  const sampling = c.circuitBreaker(c.handleAll, { halfOpenAfter: 10_000, breaker: new c.SamplingBreaker({ threshold: 0.5, duration: 10_000 }) });
  const pipeline = c.wrap(c.retry(c.handleAll, { maxAttempts: 3 }), breaker(), c.timeout(10_000, c.TimeoutStrategy.Aggressive));
  const noRetry = c.retry(c.handleAll, { maxAttempts: 0 });
  return {
    // no policy: the call alone, then one async frame around it (the same
    // objects in both columns: their two figures show the noise)
    'floor: fn(ctx), no wrapper (success)': [BARE, ok],
    'floor: async (fn) => await fn(ctx) (success)': [FLOOR, ok],
    'retry (success)': [c.retry(c.handleAll, { maxAttempts: 3 }), ok],
    'circuitBreaker, ConsecutiveBreaker (success)': [breaker(), ok],
    'circuitBreaker, SamplingBreaker (success)': [sampling, ok],
    'timeout, aggressive (success)': [c.timeout(10_000, c.TimeoutStrategy.Aggressive), ok],
    'timeout, cooperative (success)': [c.timeout(10_000, c.TimeoutStrategy.Cooperative), ok],
    'wrap(retry, breaker, timeout) (success)': [pipeline, ok],
    'floor: fn(ctx), no wrapper (a rejected call)': [BARE, fail],
    'breaker open: BrokenCircuitError': [open, ok],
    'breaker isolated: IsolatedCircuitError': [isolated, ok],
    'breaker closed: failure counted': [counting, fail],
    'retry gives up (maxAttempts 0)': [noRetry, fail],
    'timeout around a failing call': [c.timeout(10_000, c.TimeoutStrategy.Aggressive), fail]
  };
}

async function run (policy, fn, n) {
  const swallow = () => 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await policy.execute(fn).catch(swallow);
  return Number(process.hrtime.bigint() - t0) / n;
}

async function main () {
  const libs = { cockatiel: await import('cockatiel'), fusewire: require('../cockatiel') };
  const built = { cockatiel: cases(libs.cockatiel), fusewire: cases(libs.fusewire) };
  const names = Object.keys(built.cockatiel);
  const ns = {};
  for (const name of names) {
    ns[name] = { cockatiel: [], fusewire: [] };
    for (const lib of ['cockatiel', 'fusewire']) await run(...built[lib][name], 2000); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      for (const lib of r % 2 ? ['fusewire', 'cockatiel'] : ['cockatiel', 'fusewire']) {
        ns[name][lib].push(await run(...built[lib][name], CALLS));
      }
    }
  }
  const load = os.loadavg().map(x => x.toFixed(2)).join(' ');
  console.log(`machine: ${os.cpus()[0].model}, ${os.cpus().length} cores; node ${process.version}; ${new Date().toISOString()}; load average ${load}`);
  console.log(`${ROUNDS} rounds x ${CALLS} calls each, one call at a time, median round\n`);
  console.log('| per call | cockatiel 4.0.0 | fusewire/cockatiel | ratio (cockatiel / fusewire) |');
  console.log('|---|---:|---:|---:|');
  for (const name of names) {
    const a = median(ns[name].cockatiel);
    const b = median(ns[name].fusewire);
    console.log(`| ${name} | ${a.toFixed(0)} ns | ${b.toFixed(0)} ns | ${(a / b).toFixed(2)}x |`);
  }
}

main();
