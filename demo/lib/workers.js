'use strict';

// The demo's app processes: the demo process serves the app itself and forks
// `count - 1` more (lib/worker.js), all bound to one HostStore region; each
// reports its view, which the dashboard shows side by side.

const path = require('node:path');
const { fork } = require('node:child_process');

/** Counts one process's own calls from its breaker's events. */
function workerCounts (breaker) {
  const counts = { calls: 0, successes: 0, failures: 0, rejects: 0, fallbacks: 0 };
  breaker.on('fire', () => { counts.calls++; });
  breaker.on('success', () => { counts.successes++; });
  breaker.on('failure', () => { counts.failures++; });
  breaker.on('reject', () => { counts.rejects++; });
  breaker.on('fallback', () => { counts.fallbacks++; });
  return counts;
}

/** The breaker's state as this process reads it (the shared one, in a store). */
function breakerState (breaker) {
  if (breaker.opened) return 'OPEN';
  if (breaker.halfOpen) return 'HALF_OPEN';
  return 'CLOSED';
}

/**
 * Forks `count` worker processes (env: DEMO_STORE and the app's settings),
 * resolves when each listens, with `urls`, `views()` (the latest report of
 * every process, the demo's own first), `broadcast(message)` and `stop()`.
 * A worker that dies is forked again; `restarts` counts them.
 */
function startWorkers ({ count, host, self }) {
  const children = new Map(); // child -> latest view
  let stopping = false;
  let restarts = 0;
  const urls = [];

  function spawn (slot) {
    return new Promise((resolve, reject) => {
      const child = fork(path.join(__dirname, 'worker.js'), [], { env: process.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.set(child, { pid: child.pid, slot, state: 'STARTING' });
      child.on('message', m => {
        if (m.type === 'listening') {
          urls[slot] = `http://${host}:${m.port}`;
          resolve();
        } else if (m.type === 'view') {
          children.set(child, { ...m.view, slot });
        }
      });
      child.once('error', reject);
      child.once('exit', () => {
        children.delete(child);
        if (stopping) return;
        restarts++;
        spawn(slot).catch(() => {});
      });
    });
  }

  return Promise.all(Array.from({ length: count }, (_, i) => spawn(i))).then(() => ({
    urls,
    views: () => [{ ...self(), slot: 'demo' }, ...[...children.values()].sort((a, b) => a.slot - b.slot)],
    restarts: () => restarts,
    broadcast: message => { for (const child of children.keys()) if (child.connected) child.send(message); },
    stop () {
      stopping = true;
      for (const child of children.keys()) if (child.connected) child.disconnect();
    }
  }));
}

module.exports = { startWorkers, workerCounts, breakerState };
