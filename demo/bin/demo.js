#!/usr/bin/env node
'use strict';

// `make demo`: three upstream replicas (one flaky), the seed's Express app on
// fusewire (a Pool over the replicas, chaos on the breaker's action), the
// dashboard and /metrics, and a traffic generator, all on loopback.
//
//   node bin/demo.js [--duration <seconds>] [--rps <n>] [--no-traffic] [--workers <n>] [--redis <url>]
//
// The app runs in --workers processes (DEMO_WORKERS, default 2: this one and
// one forked worker), sharing one breaker and one fallback bucket through a
// HostStore (shared memory), or through Redis with --redis redis://host:port
// (DEMO_REDIS); the traffic generator takes them in turn.
//
// Environment: DEMO_PORT (app, default 3000, or a free port if taken),
// DEMO_UPSTREAM_PORT (the first replica's, default 3001, the next two follow;
// 0 means any free ports),
// DEMO_DURATION (seconds, 0 = until Ctrl-C), DEMO_RPS, DEMO_RESET_TIMEOUT (ms),
// DEMO_BREAKER_MODULE=opossum (development only: run on opossum to compare).

const path = require('node:path');
const Module = require('node:module');
const { createReplicas, FLAKY_ERROR_RATE } = require('../lib/upstream');

function parseArgs (argv, env) {
  const opts = {
    duration: Number(env.DEMO_DURATION || 0),
    rps: env.DEMO_RPS === undefined ? 10 : Number(env.DEMO_RPS),
    host: env.DEMO_HOST || '127.0.0.1',
    port: env.DEMO_PORT,
    upstreamPort: env.DEMO_UPSTREAM_PORT,
    breakerModule: env.DEMO_BREAKER_MODULE || 'fusewire',
    workers: env.DEMO_WORKERS === undefined ? 2 : Number(env.DEMO_WORKERS),
    redis: env.DEMO_REDIS || null
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = arg.includes('=') ? arg.split('=')[1] : argv[++i];
      if (v === undefined) throw new Error(`${arg.split('=')[0]} needs a value`);
      return v;
    };
    if (arg.startsWith('--duration')) opts.duration = Number(value());
    else if (arg.startsWith('--rps')) opts.rps = Number(value());
    else if (arg === '--no-traffic') opts.rps = 0;
    else if (arg.startsWith('--workers')) opts.workers = Number(value());
    else if (arg.startsWith('--redis')) opts.redis = value();
    else if (arg === '--help' || arg === '-h') opts.help = true;
    else throw new Error(`unknown argument: ${arg} (try --help)`);
  }
  if (!Number.isFinite(opts.duration) || opts.duration < 0) throw new Error('--duration is a number of seconds');
  if (!Number.isFinite(opts.rps) || opts.rps < 0) throw new Error('--rps is a number of requests per second');
  if (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > 16) throw new Error('--workers is a whole number of app processes from 1 to 16');
  if (opts.redis !== null && !/^rediss?:\/\//.test(opts.redis)) throw new Error(`--redis is a redis:// URL, got ${opts.redis}`);
  return opts;
}

// Listen on the asked port; with none asked, on the usual one, or any free
// one if that is taken (a second demo, or a dev server, may hold 3000).
function listen (server, host, asked, usual) {
  const tryPort = port => new Promise((resolve, reject) => {
    const onError = err => { server.off('listening', onListening); reject(err); };
    const onListening = () => { server.off('error', onError); resolve(server.address().port); };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
  if (asked !== undefined && asked !== '') return tryPort(Number(asked));
  return tryPort(usual).catch(err => {
    if (err.code !== 'EADDRINUSE') throw err;
    return tryPort(0);
  });
}

// The app says `require('fusewire')`, as a user's app would. Only for
// comparing against the original, that name can be pointed at opossum.
function pointFusewireAt (moduleName) {
  if (moduleName === 'fusewire') return;
  if (moduleName !== 'opossum') throw new Error(`DEMO_BREAKER_MODULE is fusewire or opossum, not ${moduleName}`);
  const shim = path.join(__dirname, '..', 'lib', 'opossum-shim.js');
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return request === 'fusewire' ? shim : resolve.call(this, request, ...rest);
  };
}

// Count what the fallback's bucket grants and denies, for the dashboard.
function watchBucket (bucket, { refillPerSecond }) {
  const view = { capacity: bucket.burst, refillPerSecond, granted: 0, denied: 0, available: () => bucket.available };
  const take = bucket.tryTake.bind(bucket);
  bucket.tryTake = (...args) => {
    const ok = take(...args);
    if (ok) view.granted++; else view.denied++;
    return ok;
  };
  return view;
}

async function main () {
  const opts = parseArgs(process.argv.slice(2), process.env);
  if (opts.help) {
    console.log(require('node:fs').readFileSync(__filename, 'utf8').split('\n').slice(3, 20).map(l => l.replace(/^\/\/ ?/, '')).join('\n'));
    return;
  }

  // Three replicas of the upstream; the third is flaky (its error rate is a
  // control of the dashboard's pool panel).
  const replicas = createReplicas([{}, {}, { errorRate: FLAKY_ERROR_RATE }]);
  const urls = [];
  for (const [i, r] of replicas.list.entries()) {
    const asked = opts.upstreamPort === undefined || opts.upstreamPort === '' || Number(opts.upstreamPort) === 0
      ? opts.upstreamPort
      : String(Number(opts.upstreamPort) + i);
    const port = await listen(r.server, opts.host, asked, 3001 + i);
    urls.push(`http://${opts.host}:${port}`);
  }
  replicas.urls = urls;
  const upstream = replicas;
  const upstreamUrl = urls[0];

  process.env.UPSTREAM_URLS = urls.join(',');
  pointFusewireAt(opts.breakerModule);
  // Several app processes share one breaker and one bucket in a HostStore
  // region of this run's own (opossum has no shared state: one process).
  if (opts.breakerModule !== 'fusewire') opts.workers = 1;
  if (opts.workers > 1) process.env.DEMO_STORE = `demo-${process.pid}`;
  // --redis: the same through a RedisStore (keys under the prefix demo-<pid>)
  if (opts.workers > 1 && opts.redis) process.env.DEMO_REDIS = opts.redis;
  else delete process.env.DEMO_REDIS;
  const express = require('express');
  const { app, breaker, fallbackBucket, retryStats, pool, store } = require('../app');
  const { startWorkers, workerCounts, breakerState } = require('../lib/workers');
  const ownCounts = workerCounts(breaker);
  const { createMetrics } = require('../lib/metrics');
  const { createDashboard } = require('../lib/dashboard');
  const { createTraffic } = require('../lib/traffic');

  const buckets = { fallback: watchBucket(fallbackBucket, { refillPerSecond: 5 }) };
  const metrics = createMetrics({ breakers: [breaker], retryStats, buckets, pool, chaos: breaker.chaos });

  const server = require('node:http').createServer(app);
  const port = await listen(server, opts.host, opts.port, 3000);
  const appUrl = `http://${opts.host}:${port}`;

  process.env.DEMO_HOST = opts.host;
  const where = process.env.DEMO_REDIS ? `Redis ${process.env.DEMO_REDIS} (keys ${process.env.DEMO_STORE}:*)` : `HostStore ${process.env.DEMO_STORE}`;
  const workers = opts.workers > 1
    ? await startWorkers({
      count: opts.workers - 1,
      host: opts.host,
      self: () => ({ pid: process.pid, port, ...ownCounts, state: breakerState(breaker), tokens: fallbackBucket.available })
    })
    : null;
  const appUrls = [appUrl, ...(workers ? workers.urls : [])];
  const traffic = createTraffic({ url: appUrls.map(u => `${u}/data`), rps: 0 });
  const dashboard = createDashboard({
    breakers: [breaker], upstream, traffic, retryStats, buckets, metrics, pool, chaos: breaker.chaos,
    workers: workers && { store: where, name: process.env.DEMO_STORE, ...workers },
    info: { module: opts.breakerModule, upstreamUrl, replicaUrls: urls }
  });
  app.use(dashboard.router);
  traffic.setRate(opts.rps);

  const moduleName = opts.breakerModule === 'fusewire' ? 'fusewire' : 'opossum (development stand-in)';
  console.log(`fusewire demo (breaker module: ${moduleName})`);
  console.log(`  dashboard: ${appUrl}/dashboard/`);
  console.log(`  app:       ${appUrl}/data`);
  console.log(`  metrics:   ${appUrl}/metrics`);
  console.log(`  upstream:  ${upstreamUrl}/posts/1  (control: ${upstreamUrl}/control)`);
  console.log(`  replicas:  ${urls.join(' ')}  (the last one flaky; all behind a fusewire Pool)`);
  console.log(`  workers:   ${opts.workers} app processes${workers ? ` (${appUrls.join(' ')}), one breaker and one bucket in ${where}` : ''}`);
  console.log(`  traffic:   ${opts.rps} requests/s to /data`);
  console.log(opts.duration ? `running for ${opts.duration} s` : 'running until Ctrl-C');

  let stopping = false;
  const stop = reason => {
    if (stopping) return;
    stopping = true;
    console.log(`stopping (${reason})`);
    traffic.stop();
    dashboard.close();
    metrics.close();
    if (workers) workers.stop();
    breaker.shutdown();
    if (pool) pool.close();
    // the region outlives its processes by design: this run's is removed
    if (store && process.env.DEMO_REDIS) store.close();
    else if (store) require('fusewire').HostStore.unlink(process.env.DEMO_STORE);
    server.closeAllConnections();
    server.close();
    for (const r of replicas.list) {
      r.server.closeAllConnections();
      r.server.close();
    }
    // Anything still holding the loop (a late upstream call) must not keep us up.
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGINT', () => stop('Ctrl-C'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (opts.duration) setTimeout(() => stop(`--duration ${opts.duration} s elapsed`), opts.duration * 1000).unref();
}

main().catch(err => {
  console.error(`demo: ${err.message}`);
  process.exit(1);
});
