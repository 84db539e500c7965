'use strict';

// A real redis-server for the tests: a free loopback port, no persistence;
// start() / stop() again keep the port (clients reconnect). Installed by
// `make -C store redis-server` (Debian's package).

const { spawn, execFileSync } = require('node:child_process');
const net = require('node:net');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

function freePort () {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

function answers (port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => c.write('PING\r\n'));
    c.on('data', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

class RedisServer {
  constructor (...extra) {
    execFileSync('sh', ['-c', 'command -v redis-server']); // throws if missing: `make -C store redis-server`
    this.extra = extra;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fusewire-redis-'));
  }

  get url () { return `redis://127.0.0.1:${this.port}/0`; }

  async start () {
    this.port ??= await freePort();
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no', '--dir', this.dir, '--loglevel', 'warning', ...this.extra], { stdio: 'ignore' });
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (await answers(this.port)) return this;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('redis-server did not answer within 10 s');
  }

  async stop () {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    await exited;
  }

  async close () {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * For a node:test file: one redis-server, started before its tests and
 * closed after them, flushed (and started again when a test stopped it)
 * before each. `redis.server` is the server; `redis.open(options)` makes a
 * RedisStore on it, closed after the tests.
 */
function redisForTests (test, RedisStore) {
  const redis = { server: null, stores: [] };
  redis.open = (options) => {
    const store = new RedisStore(redis.server.url, options);
    redis.stores.push(store);
    return store;
  };
  test.before(async () => { redis.server = await new RedisServer().start(); });
  test.after(async () => {
    for (const store of redis.stores) await store.close();
    await redis.server.close();
  });
  test.beforeEach(async () => {
    if (redis.server.proc.exitCode !== null) await redis.server.start();
    const Redis = require('ioredis');
    const client = new Redis(redis.server.url);
    await client.flushall();
    client.disconnect();
  });
  return redis;
}

module.exports = { RedisServer, redisForTests };
