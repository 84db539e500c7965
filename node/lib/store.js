'use strict';

// `store` / `name` options: a policy whose state lives in a store shared by
// several processes (HostStore: one machine; RedisStore: a fleet).
//
// A policy built with { store, name } validates its options as usual
// (building its native object), then calls
//   store._bind(kind, name, config, what, local)
// once, kind 'breaker' | 'bucket' | 'bulkhead' | 'budget', config the
// validated core config in plain form (src/store.rs: the fields of
// fusewire_store::config, durations in nanoseconds), and sends every
// decision to the backend it returns. The backend has the methods and
// return shapes of the native object it replaces (src/policies.rs
// TokenBucket and Bulkhead, src/direct.rs CoreBreaker and CoreBudget); the
// `now` arguments are passed but a store keeps its own time. A backend with
// `async === true` returns promises, awaited by the promise APIs. The whole
// protocol is written down in store/README.md, section "Doors".

const { native } = require('./native');

function storeError (what, field, message, ErrorType = TypeError) {
  const e = new ErrorType(`fusewire: ${what} ${field} ${message}`);
  e.code = 'ERR_FUSEWIRE_CONFIG';
  e.field = field;
  return e;
}

/** The plain config object from the native list of fields. */
function plain (fields) {
  const out = {};
  for (const f of fields) out[f.field] = f.word ?? f.int ?? null;
  return out;
}

/**
 * The backend for `options.store` / `options.name`, or null without a
 * store. Typed errors (code ERR_FUSEWIRE_CONFIG, `field` set): a store
 * without a name, a name that is not a non-empty string, a store that is
 * not one.
 */
function bindStore (what, kind, options, config, local) {
  const { store, name } = options;
  if (name !== undefined && name !== null && (typeof name !== 'string' || name === '')) {
    throw storeError(what, 'name', `must be a non-empty string, got ${typeof name === 'string' ? "''" : String(name)}`);
  }
  if (store === undefined || store === null) return null;
  if (typeof store !== 'object' || typeof store._bind !== 'function') {
    throw storeError(what, 'store', 'must be a HostStore or a RedisStore');
  }
  if (name === undefined || name === null) {
    throw storeError(what, 'name', 'is required with store: it is the key every process sharing this policy uses');
  }
  // `what` names the policy in errors; `local` makes the policy's own
  // in-process object, the stand-in a RedisStore with onError 'local'
  // decides with while Redis is away
  return store._bind(kind, name, plain(config()), what, local);
}

module.exports = { bindStore, plain, storeError, native };
