'use strict';

// The other process of host-circuit.test.js's rolling-window test: fires
// failing calls through opossum's CircuitBreaker bound to the shared name
// when told, and says what state it sees.

const fw = require('..');

const [name, json] = process.argv.slice(2);
const options = JSON.parse(json);
const breaker = new fw(async () => { throw new Error('down'); }, { ...options, store: new fw.HostStore(name), name: 'db' });

process.on('message', async (m) => {
  if (m === 'exit') {
    breaker.shutdown();
    process.exit(0);
  }
  for (let i = 0; i < m.fail; i++) await breaker.fire().catch(() => {});
  process.send({ state: breaker.opened ? 'open' : breaker.halfOpen ? 'halfOpen' : 'closed' });
});
process.send({ ready: true });
