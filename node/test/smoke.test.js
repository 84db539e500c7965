'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const CircuitBreaker = require('..');

test('require returns the class and fire resolves', async () => {
  assert.strictEqual(typeof CircuitBreaker, 'function');
  const b = new CircuitBreaker(async x => x + 1);
  assert.strictEqual(await b.fire(1), 2);
  assert.strictEqual(b.stats.successes, 1);
});

test('package and crate versions agree', () => {
  const native = require('../fusewire.node');
  assert.strictEqual(native.version(), require('../package.json').version);
});
