'use strict';
// The Node door's Redis fingerprint (node/lib/redis.js, computed by the
// native module's redisFingerprint) against the fixed vector Python checks too.
const assert = require('node:assert');
const path = require('node:path');
const { fingerprint } = require(path.join(__dirname, '..', '..', 'node', 'lib', 'redis'));
const { vectors } = require('./fingerprints.json');

for (const v of vectors) assert.strictEqual(fingerprint(v.kind, v.config), v.fingerprint);
assert.strictEqual(fingerprint('bulkhead', { ...vectors[2].config, lease: Infinity }), 'bulkhead|8|1|0|max');
assert.throws(() => fingerprint('bulkhead', { ...vectors[2].config, lease: 2 ** 53 * 1000 }),
  (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === 'lease' && /2\*\*53/.test(e.message));
console.log(`redis fingerprints: node ${vectors.length + 2} checks pass`);
