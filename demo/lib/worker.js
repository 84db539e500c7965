'use strict';

// One more app process of `make demo` (bin/demo.js forks DEMO_WORKERS - 1 of
// them; the demo process itself is the first). It runs the same app.js, whose
// breaker and fallback bucket are bound to the demo's HostStore (DEMO_STORE),
// so every process decides on one shared state. It listens on a port of its
// own (the traffic generator takes the processes in turn) and tells the demo
// what it sees every 250 ms: its own calls, and the shared breaker's state
// and bucket as this process reads them.

const http = require('node:http');
const { app, breaker, fallbackBucket, pool } = require('../app');
const { workerCounts, breakerState } = require('./workers');

const counts = workerCounts(breaker);
const server = http.createServer(app);
server.listen(0, process.env.DEMO_HOST || '127.0.0.1', () => {
  process.send({ type: 'listening', port: server.address().port });
});

const report = setInterval(() => {
  process.send({
    type: 'view',
    view: { pid: process.pid, port: server.address().port, ...counts, state: breakerState(breaker), tokens: fallbackBucket.available }
  });
}, 250);

// The dashboard's chaos switch is per process (each has its own chaos on
// its breaker's action): the demo passes it on.
process.on('message', m => {
  if (m && m.type === 'chaos' && breaker.chaos) {
    if (m.action === 'on') breaker.chaos.enable();
    else if (m.action === 'off') breaker.chaos.disable();
    else if (m.action === 'rates') breaker.chaos.configure(m.rates);
  }
});

// The demo went away (stopped, or killed): stop serving.
process.on('disconnect', () => {
  clearInterval(report);
  breaker.shutdown();
  if (pool) pool.close();
  server.closeAllConnections();
  server.close();
  setTimeout(() => process.exit(0), 200).unref();
});
