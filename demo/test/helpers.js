'use strict';

// Starts bin/demo.js as a child process for a bounded time, on free loopback
// ports, and reads the URLs it prints.

const { spawn } = require('node:child_process');
const path = require('node:path');

const DEMO = path.join(__dirname, '..', 'bin', 'demo.js');

function startDemo ({ duration = 60, env = {}, args = [] } = {}) {
  const child = spawn(process.execPath, [DEMO, '--duration', String(duration), ...args], {
    env: {
      ...process.env,
      DEMO_PORT: '0',
      DEMO_UPSTREAM_PORT: '0',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let output = '';
  const exited = new Promise(resolve => child.on('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start in 15 s:\n${output}`)), 15000);
    const onData = chunk => {
      output += chunk;
      const app = /app:\s+(http:\S+)\/data/.exec(output);
      const upstream = /upstream:\s+(http:\S+)\/posts\/1/.exec(output);
      const replicas = /replicas:\s+((?:http:\S+\s+)+)\(/.exec(output);
      if (app && upstream && replicas && /running /.test(output)) {
        clearTimeout(timer);
        resolve({ app: app[1], upstream: upstream[1], replicas: replicas[1].trim().split(/\s+/), dashboard: `${app[1]}/dashboard/` });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`demo exited (${code}) before it was ready:\n${output}`)); });
  });
  return {
    child,
    ready,
    exited,
    output: () => output,
    async stop () {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    }
  };
}

async function getJson (url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(10000) });
  return { status: res.status, body: await res.json() };
}

async function postJson (url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body || {}),
    signal: AbortSignal.timeout(10000)
  });
  return { status: res.status, body: await res.json() };
}

// Poll `check` until it returns a truthy value, at most `timeoutMs`.
async function waitFor (what, check, { timeoutMs = 15000, everyMs = 100 } = {}) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    last = await check();
    if (last) return last;
    await new Promise(resolve => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

module.exports = { startDemo, getJson, postJson, waitFor };
