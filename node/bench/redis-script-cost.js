'use strict';

// What a decision costs inside Redis (the server's own accounting, INFO
// commandstats usec per EVALSHA, 5000 calls each): fusewire's bucket script
// beside rate-limiter-flexible's, then the pieces a script is made of (each
// a one-line script on a key holding a bucket's state), to see where the
// server's time goes. Not a round-trip figure: see bench/redis.js.
//
// Run: node bench/redis-script-cost.js   (starts its own redis-server)

const Redis = require('ioredis');
const { RateLimiterRedis } = require('rate-limiter-flexible');
const fw = require('..');
const { native } = require('../lib/native');
const { RedisServer } = require('../test/redis-server');

const CALLS = 5000;
const FP = 'bucket|1000000000|1000000000|1000';
const PIECES = {
  'EVALSHA of an empty script': 'return {0,0,0}',
  TIME: "local t = redis.call('TIME') local x = tonumber(t[1]) * 1000000 + tonumber(t[2]) return {0,0,0}",
  'HGETALL and the state table': "local flat = redis.call('HGETALL', KEYS[1]) local s = {} for i = 1, #flat, 2 do s[flat[i]] = flat[i+1] end return {0,0,0}",
  'the fingerprint split': "local out, i, s = {}, 1, ARGV[1] while true do local j = string.find(s, '|', i, true) if not j then out[#out+1] = string.sub(s, i) break end out[#out+1] = string.sub(s, i, j-1) i = j+1 end return {0,0,0}",
  "two '%.0f' formats": "local a = string.format('%.0f', 123456789012345) local b = string.format('%.0f', 98765432101) return {0,0,0}",
  'HSET of two fields': "redis.call('HSET', KEYS[1], 't', '1', 'd', '2') return {0,0,0}",
  PEXPIRE: "redis.call('PEXPIRE', KEYS[1], 3600000) return {0,0,0}"
};

(async () => {
  const server = await new RedisServer().start();
  const admin = new Redis(server.url);
  const perCall = async (f) => {
    for (let i = 0; i < 500; i++) await f();
    await admin.config('resetstat');
    for (let i = 0; i < CALLS; i++) await f();
    const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await admin.info('commandstats'));
    return (Number(m[2]) / Number(m[1])).toFixed(2);
  };
  try {
    console.log(`Node ${process.version}, ${new Date().toISOString()}, redis-server on loopback`);
    console.log('\n| script | Redis time per call (µs) |\n|---|---:|');
    const store = new fw.RedisStore(server.url, { timeout: 1000 });
    const bucket = new fw.TokenBucket({ burst: 1e9, tokens: 1e9, period: 1000, store, name: 'cost' });
    console.log(`| fusewire bucket (\`take\`) | ${await perCall(() => bucket.take())} |`);
    const peer = new Redis(server.url);
    const limiter = new RateLimiterRedis({ storeClient: peer, points: 2e9, duration: 60 });
    console.log(`| rate-limiter-flexible RateLimiterRedis (\`consume\`) | ${await perCall(() => limiter.consume('k'))} |`);
    await store.close();
    peer.disconnect();
    const lua = native.redisScripts().find((s) => s.kind === 'bucket').lua;
    await admin.hset('piece', 'cfg', FP, 't', '1764936000000000', 'd', '123456789');
    for (const [name, body] of Object.entries({ ...PIECES, 'the whole bucket script (for the pieces)': lua })) {
      const sha = await admin.script('load', body);
      console.log(`| ${name} | ${await perCall(() => admin.evalsha(sha, 1, 'piece', FP, '', 3600000, 'take', 1))} |`);
    }
  } finally {
    admin.disconnect();
    await server.close();
  }
})();
