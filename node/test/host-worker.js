'use strict';

// A worker process of host-store.test.js: `node host-worker.js <job> <json args>`.
// Sends its result to the parent over IPC. Every process reads one clock,
// CLOCK_MONOTONIC (process.hrtime.bigint()), so a start time in it is a
// start line for all of them.

const fw = require('..');

const [job, json] = process.argv.slice(2);
const args = JSON.parse(json);
const store = new fw.HostStore(args.store);
const ns = () => process.hrtime.bigint();

function untilStart () {
  const start = BigInt(args.startAt);
  return new Promise((resolve) => {
    const tick = () => (ns() >= start ? resolve() : setTimeout(tick, 1));
    tick();
  });
}

const jobs = {
  async bucket () {
    const bucket = new fw.TokenBucket({ burst: 100, tokens: 100, period: 1000, store, name: 'api' });
    await untilStart();
    const end = ns() + BigInt(args.ms) * 1000000n;
    const grants = [];
    while (ns() < end) {
      if (bucket.tryTake()) grants.push(String(ns()));
    }
    return grants;
  },
  async probes () {
    const breaker = new fw.Breaker({ store, name: 'db', ...args.breaker });
    await untilStart();
    const end = ns() + BigInt(args.ms) * 1000000n;
    const held = [];
    while (ns() < end) {
      const a = breaker.tryAcquire();
      if (a.admitted) held.push(a.probe);
    }
    return held;
  },
  async bulkhead () {
    const bulkhead = new fw.Bulkhead({ limit: 3, store, name: 'pool' });
    await untilStart();
    const end = ns() + BigInt(args.ms) * 1000000n;
    const spans = [];
    while (ns() < end) {
      const release = bulkhead.tryAcquire();
      if (release === null) continue;
      const from = ns();
      for (let i = 0; i < 200; i++);
      spans.push([String(from), String(ns())]);
      release();
    }
    return spans;
  },
  async holdSlots () {
    const bulkhead = new fw.Bulkhead({ limit: 2, lease: args.lease, store, name: 'pool' });
    const held = [bulkhead.tryAcquire(), bulkhead.tryAcquire()];
    process.send({ ready: held.every((r) => r !== null) });
    await new Promise(() => {}); // until killed
  },
  async holdProbe () {
    const breaker = new fw.Breaker({ store, name: 'db', ...args.breaker });
    for (;;) {
      const a = breaker.tryAcquire();
      if (a.admitted) {
        process.send({ ready: a.probe });
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await new Promise(() => {}); // until killed
  },
  async bind () {
    try {
      new fw.TokenBucket({ burst: args.burst, tokens: args.burst, period: 1000, store, name: 'api' });
      return 'ok';
    } catch (e) {
      return `${e.code}:${e.field}`;
    }
  }
};

jobs[job]().then((result) => {
  if (result !== undefined) process.send({ result }, () => process.exit(0));
});
