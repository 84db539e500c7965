'use strict';

// The other process of host-circuit.test.js: opens the shared breaker,
// then (when told) takes its half-open probe and settles it.

const fw = require('..');

const [name, json] = process.argv.slice(2);
const options = JSON.parse(json);
let release = null;
const breaker = new fw(() => new Promise((resolve) => { release = resolve; }), { ...options, store: new fw.HostStore(name), name: 'db' });
const failing = new fw(async () => { throw new Error('down'); }, { ...options, store: new fw.HostStore(name), name: 'db' });

(async () => {
  for (let i = 0; i < 4; i++) await failing.fire().catch(() => {});
  process.send({ opened: failing.opened });
})();

process.on('message', (m) => {
  if (m === 'probe') {
    const p = breaker.fire();
    process.send({ probe: release !== null ? 'held' : 'refused' });
    p.catch(() => {});
  } else if (m === 'settle') {
    release('ok');
    setImmediate(() => {
      breaker.shutdown();
      failing.shutdown();
      process.exit(0);
    });
  }
});
