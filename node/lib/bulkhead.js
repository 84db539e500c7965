'use strict';

// A concurrency limit with reserves, on the core's Bulkhead: calls beyond
// the limit fail fast with EBULKHEADFULL.

const { native } = require('./native');

const PRIORITY = { critical: 0, normal: 1, sheddable: 2 };

function priorityOf (p = 'normal') {
  const v = PRIORITY[p];
  if (v === undefined) {
    throw new TypeError(`fusewire: Bulkhead priority must be 'critical', 'normal' or 'sheddable', got ${String(p)}`);
  }
  return v;
}

class Bulkhead {
  /** { limit, reserveCritical = 0, reserveNormal = 0 } */
  constructor (options = {}) {
    const { limit } = options;
    const reserveCritical = options.reserveCritical ?? 0;
    const reserveNormal = options.reserveNormal ?? 0;
    for (const [k, v, min] of [['limit', limit, 1], ['reserveCritical', reserveCritical, 0], ['reserveNormal', reserveNormal, 0]]) {
      if (!Number.isInteger(v) || v < min) {
        throw new TypeError(`fusewire: Bulkhead ${k} must be an integer of at least ${min}, got ${String(v)}`);
      }
    }
    this.limit = limit;
    this._native = new native.Bulkhead(limit, reserveCritical, reserveNormal);
  }

  /** A release function if a slot is free for `priority`, else null. */
  tryAcquire (priority) {
    const p = priorityOf(priority);
    if (!this._native.tryAcquire(p)) return null;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this._native.release(p);
    };
  }

  /** Runs `fn` in a slot; rejects with EBULKHEADFULL when none is free. */
  async run (fn, { priority } = {}) {
    const release = this.tryAcquire(priority);
    if (release === null) {
      const e = new Error(`fusewire: bulkhead full (${this.inUse} of ${this.limit} in use)`);
      e.code = 'EBULKHEADFULL';
      throw e;
    }
    try {
      return await fn();
    } finally {
      release();
    }
  }

  get inUse () { return this._native.inUse; }

  /** Free slots, reserved ones included (limit - inUse). */
  get free () { return this._native.available; }

  /** Releases refused so far by releaseSlot (no slot of that priority was held). */
  get extraReleases () { return this._native.extraReleases; }

  /**
   * The core's slots by priority, for hosts that carry the priority
   * themselves: takes a slot, true if one was free. Give it back with
   * releaseSlot(priority), not with a tryAcquire release function.
   */
  acquireSlot (priority) { return this._native.tryAcquire(priorityOf(priority)); }

  /** Gives back a slot of `priority`; false (and counted in extraReleases) if none was held. */
  releaseSlot (priority) { return this._native.release(priorityOf(priority)); }

  available (priority) { return this._native.availableFor(priorityOf(priority)); }
}

module.exports = Bulkhead;
