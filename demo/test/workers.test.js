'use strict';

// `make demo` runs the app in several processes sharing one breaker and one
// fallback bucket through a HostStore: checked from the outside, over HTTP.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const Redis = require('ioredis');
const { startDemo, getJson, postJson, waitFor } = require('./helpers');
// the node door's helper: a real redis-server on a free loopback port
const { RedisServer } = require('../../node/test/redis-server');

test('two app processes, one breaker and one bucket', { timeout: 60000 }, t => twoProcesses(t, []));

test('--redis: the same through a RedisStore', { timeout: 60000 }, async t => {
  const server = await new RedisServer().start();
  t.after(() => server.close());
  await twoProcesses(t, ['--redis', server.url]);
  const redis = new Redis(server.url);
  const keys = await redis.keys('demo-*');
  redis.disconnect();
  assert.deepEqual(keys.map(k => k.replace(/^demo-\d+:/, '')).sort(), ['breaker:fetchData', 'bucket:fallback']);
});

async function twoProcesses (t, args) {
  const redis = args.includes('--redis');
  const demo = startDemo({ duration: 50, args: ['--workers', '2', '--no-traffic', ...args], env: { DEMO_RESET_TIMEOUT: '60000' } });
  t.after(() => demo.stop());
  const { app } = await demo.ready;
  const state = async () => (await getJson(`${app}/dashboard/api/state`)).body;
  const first = await waitFor('both processes to report', async () => {
    const s = await state();
    return s.workers && s.workers.views.length === 2 && s.workers.views.every(v => typeof v.port === 'number') && s;
  });
  const region = `/dev/shm/fusewire.${first.workers.name}`;
  assert.equal(fs.existsSync(region), !redis, `${region} exists while the demo runs, unless in Redis`);
  const urls = first.workers.views.map(v => `http://127.0.0.1:${v.port}`);
  assert.equal(new Set(first.workers.views.map(v => v.pid)).size, 2, 'two distinct processes');

  await t.test('both processes serve the app', async () => {
    for (const url of urls) assert.equal((await getJson(`${url}/data`)).status, 200);
    await waitFor('each process to count its call', async () => (await state()).workers.views.every(v => v.calls >= 1));
  });

  await t.test('opened in one process, the breaker is open in every process', async () => {
    const name = (await state()).breakers[0].name;
    const opened = await postJson(`${app}/dashboard/api/breakers/${encodeURIComponent(name)}/open`);
    assert.equal(opened.status, 200);
    const started = Date.now();
    // the other process reads the shared state: it refuses and falls back
    const other = await getJson(`${urls[1]}/data`);
    assert.equal(other.status, 200);
    assert.match(other.body.message, /temporarily unavailable/);
    await waitFor('every process to report OPEN', async () => (await state()).workers.views.every(v => v.state === 'OPEN'), { timeoutMs: 2000 });
    assert.ok(Date.now() - started < 2000);
  });

  await t.test('the fallback bucket is one for both: grants stay within burst + rate x elapsed', async () => {
    await new Promise(resolve => setTimeout(resolve, 1200)); // the bucket full again (5 per second, burst 5)
    const t0 = Date.now();
    let granted = 0;
    let refused = 0;
    while (Date.now() - t0 < 2000) {
      const answers = await Promise.all(urls.map(url => getJson(`${url}/data`)));
      for (const a of answers) {
        if (a.status === 200) granted++;
        else if (a.status === 503 && /rate limit/.test(a.body.details)) refused++;
      }
    }
    const elapsed = (Date.now() - t0) / 1000;
    // one bucket: at most 5 + 5 x elapsed; one bucket per process would give about twice that
    assert.ok(granted <= 5 + 5 * elapsed + 1, `${granted} grants in ${elapsed} s`);
    assert.ok(granted >= 5, `${granted}: the burst was granted`);
    assert.ok(refused > granted, 'past the bucket, the route answers 503');
  });

  await t.test('the region is removed when the demo stops', async () => {
    const { code } = await demo.stop();
    assert.ok(code === 0 || code === null);
    assert.equal(fs.existsSync(region), false);
  });
}

test('--workers 1 runs one process, without a store', { timeout: 30000 }, async t => {
  const demo = startDemo({ duration: 20, args: ['--workers', '1', '--no-traffic'] });
  t.after(() => demo.stop());
  const { app } = await demo.ready;
  assert.equal((await getJson(`${app}/dashboard/api/state`)).body.workers, null);
});

test('--workers takes a whole number from 1 to 16', { timeout: 10000 }, async () => {
  for (const bad of ['0', '1.5', 'two', '17']) {
    const demo = startDemo({ duration: 5, args: ['--workers', bad] });
    await assert.rejects(demo.ready, /--workers is a whole number/);
  }
});
