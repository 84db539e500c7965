'use strict';

// A concurrency limit with reserves, on the core's Bulkhead: calls beyond
// the limit fail fast with EBULKHEADFULL.

const { native } = require('./native');
const { bindStore } = require('./store');
const { int, bad, known, nativeBuilt, nonZero, U32 } = require('./core');

const W = 'Bulkhead';
const OPTIONS = ['limit', 'reserveCritical', 'reserveNormal', 'lease', 'store', 'name'];

const PRIORITY = { critical: 0, normal: 1, sheddable: 2 };

function priorityOf (p = 'normal') {
  const v = PRIORITY[p];
  if (v === undefined) {
    throw bad(W, 'priority', "'critical', 'normal' or 'sheddable'", p);
  }
  return v;
}

class Bulkhead {
  /** { limit, reserveCritical = 0, reserveNormal = 0, lease = 60000 ms } */
  constructor (options = {}) {
    if (options === null || typeof options !== 'object') throw bad(W, 'options', 'an object like { limit: 10 }', options);
    known(W, options, OPTIONS);
    // whole numbers the native u32 holds (2 ** 32 + 2 is not 2)
    const limit = int(W, 'limit', nonZero(W, 'limit', options.limit), 1, U32);
    const reserveCritical = int(W, 'reserveCritical', options.reserveCritical ?? 0, 0, U32);
    const reserveNormal = int(W, 'reserveNormal', options.reserveNormal ?? 0, 0, U32);
    const lease = options.lease;
    if (lease !== undefined) nonZero(W, 'lease', lease);
    if (lease !== undefined && !(Number.isSafeInteger(lease) && lease >= 1)) {
      throw bad(W, 'lease', 'a whole number of ms of at least 1', lease);
    }
    this.limit = limit;
    this._native = nativeBuilt(W, () => new native.Bulkhead(limit, reserveCritical, reserveNormal, lease));
    // { store, name }: the slots are shared by every process bound to that
    // name (lib/store.js).
    const own = this._native;
    const backend = bindStore('Bulkhead', 'bulkhead', options,
      () => native.plainBulkhead(limit, reserveCritical, reserveNormal, lease), () => own);
    if (backend !== null) this._native = backend;
    this._async = backend !== null && backend.async === true;
  }

  /** A release function if a slot is free for `priority`, else null. */
  tryAcquire (priority) {
    if (this._async) this._sync('tryAcquire');
    const slot = this._native.tryAcquire(priorityOf(priority), Date.now());
    if (slot < 0) return null;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this._native.release(slot, Date.now());
    };
  }

  /** Runs `fn` in a slot; rejects with EBULKHEADFULL when none is free. */
  async run (fn, { priority } = {}) {
    if (this._async) return this._runAsync(fn, priorityOf(priority));
    const release = this.tryAcquire(priority);
    if (release === null) throw this._full();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  // In a RedisStore: the slot is a round trip, awaited; its release is sent
  // when fn settles (not awaited: fn's result is not held back for it).
  async _runAsync (fn, priority) {
    const slot = await this._native.tryAcquire(priority);
    if (slot === -1) throw this._full();
    try {
      return await fn();
    } finally {
      this._native.release(slot).catch(() => { this._native.store.errors++; });
    }
  }

  _full () {
    const e = new Error(`fusewire: bulkhead full (${this.inUse} of ${this.limit} in use)`);
    e.code = 'EBULKHEADFULL';
    return e;
  }

  _sync (method) {
    const { RedisStoreError } = require('./redis');
    throw new RedisStoreError(`a Bulkhead in a RedisStore takes its slots through \`await bulkhead.run(fn)\`: ${method}() would need a synchronous Redis round trip`);
  }

  get inUse () { return this._native.inUse; }

  /** Free slots, reserved ones included (limit - inUse). */
  get free () { return this._native.available; }

  /** Releases refused so far because the slot was not held (twice, or made up). */
  get extraReleases () { return this._native.extraReleases; }

  /** Releases refused because the slot's lease had run out (it was freed already). */
  get expiredReleases () { return this._native.expiredReleases; }

  /** Slots freed because their lease ran out. */
  get reclaimed () { return this._native.reclaimed; }

  /** How long a slot may be held (ms) before it is freed. */
  get lease () { return this._native.lease; }

  /**
   * The core's slots, for hosts that run the call themselves: the slot as
   * a number if one is free for `priority` at `now`, else null. Give it
   * back with releaseSlot().
   */
  acquireSlot (priority, now = Date.now()) {
    if (this._async) this._sync('acquireSlot');
    const slot = this._native.tryAcquire(priorityOf(priority), now);
    return slot < 0 ? null : slot;
  }

  /**
   * Gives a slot back: null when released, else why it was refused
   * ('notHeld': twice or made up; 'expired': its lease ran out), counted.
   */
  releaseSlot (slot, now = Date.now()) {
    if (this._async) this._sync('releaseSlot');
    return this._native.release(slot, now);
  }

  /** Frees the slots whose lease ran out by `now`; returns how many. */
  expire (now = Date.now()) {
    if (this._async) this._sync('expire');
    return this._native.expire(now);
  }

  available (priority) { return this._native.availableFor(priorityOf(priority)); }
}

module.exports = Bulkhead;
