'use strict';

// HostStore: policies shared by the processes of one machine (Node cluster
// or PM2 workers, and Python workers too), through a named shared-memory
// region (store/src/shm.rs; the design is store/README.md, "Host tier").
//
//   const store = new HostStore('myapp');          // in every worker
//   const bucket = new TokenBucket({ burst: 100, tokens: 100, store, name: 'api' });
//
// Every worker that binds 'api' in 'myapp' shares one bucket: decisions are
// lock-free atomics on the region, with no server and no message to the
// primary. Time is the host's CLOCK_MONOTONIC (process.hrtime's clock) in
// every process; the `now` arguments of the policies are ignored.

const { native } = require('./native');
const { known, typeError } = require('./core');

// The plain config's fields as this door's options name them.
const FIELD = {
  period: 'period',
  tokens: 'tokens',
  reserve_critical: 'reserveCritical',
  reserve_normal: 'reserveNormal',
  max_tokens: 'maxTokens',
  token_ratio_milli: 'tokenRatio',
  failure_rate_ppm: 'failureRate',
  slow_call_rate_ppm: 'slowCallRate',
  window: 'window',
  window_size: 'window.count',
  window_duration: 'window.span',
  window_buckets: 'window.buckets'
};

function optionName (field) {
  if (field.startsWith('open_backoff')) return 'openBackoff';
  return FIELD[field] ?? field.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
}

/** The native error `kind|field|reason` as a typed JS error. */
function storeError (e, store) {
  const m = /^(\w+)\|([\w.]+)\|([\s\S]*)$/.exec(e.message);
  if (m === null) return e;
  const [, kind, field, reason] = m;
  if (kind === 'config') {
    const name = optionName(field);
    const err = new TypeError(`fusewire: HostStore ${name} ${reason}`);
    err.code = 'ERR_FUSEWIRE_CONFIG';
    err.field = name;
    return err;
  }
  const err = new Error(`fusewire: ${reason}`);
  err.code = 'ERR_FUSEWIRE_STORE';
  err.reason = kind;
  err.store = store;
  return err;
}

class HostStore {
  #n;

  /**
   * Maps the shared-memory region `name` (/dev/shm/fusewire.<name>), made
   * `size` bytes (default 1 MiB) by the first process that opens it.
   */
  constructor (name, options = {}) {
    if (typeof name !== 'string') {
      const e = new TypeError(`fusewire: HostStore name must be a string, got ${String(name)}`);
      e.code = 'ERR_FUSEWIRE_CONFIG';
      e.field = 'name';
      throw e;
    }
    if (options === null || typeof options !== 'object') {
      throw typeError(`HostStore options must be an object, got ${String(options)}`, 'options');
    }
    known('HostStore', options, ['size']);
    const { size } = options;
    if (size !== undefined && !(Number.isSafeInteger(size) && size > 0)) {
      const e = new TypeError(`fusewire: HostStore size must be a positive integer of bytes, got ${String(size)}`);
      e.code = 'ERR_FUSEWIRE_CONFIG';
      e.field = 'size';
      throw e;
    }
    try {
      this.#n = new native.NativeHostStore(name, size);
    } catch (e) {
      throw storeError(e, name);
    }
  }

  get name () { return this.#n.name; }
  get size () { return this.#n.size; }
  /** Policies bound in the region so far, by every process. */
  get entries () { return this.#n.entries; }

  /** Removes a region's name; processes that have it mapped keep it. */
  static unlink (name) {
    try {
      native.NativeHostStore.unlink(name);
    } catch (e) {
      throw storeError(e, name);
    }
  }

  /** The plumbing's protocol (lib/store.js): the backend of policy `name`. */
  _bind (kind, name, config) {
    const fields = Object.entries(config).map(([field, v]) => ({
      field,
      int: typeof v === 'number' ? v : null,
      word: typeof v === 'string' ? v : null
    }));
    try {
      return this.#n.bind(kind, name, fields);
    } catch (e) {
      throw storeError(e, this.#n.name);
    }
  }
}

module.exports = { HostStore };
