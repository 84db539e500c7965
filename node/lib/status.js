'use strict';

// opossum's Status, on the native tally: the counters and latency live in
// Rust (src/tally.rs), rolled lazily from the clock, so nothing here grows
// with traffic and no interval timer runs unless someone listens to
// 'snapshot'.

const EventEmitter = require('events');
const N = require('./native');

const KEYS = [
  'failures', 'fallbacks', 'successes', 'rejects', 'fires', 'timeouts',
  'cacheHits', 'cacheMisses', 'coalesceCacheHits', 'coalesceCacheMisses',
  'semaphoreRejections'
];
const PERCENTILES = [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 1];
const CODE_OF = {
  failures: N.R_FAILURE,
  fallbacks: N.R_FALLBACK,
  successes: N.R_SUCCESS,
  rejects: N.R_REJECT,
  fires: N.R_FIRE,
  timeouts: N.R_TIMEOUT,
  cacheHits: N.R_CACHE_HIT,
  cacheMisses: N.R_CACHE_MISS,
  coalesceCacheHits: N.R_COALESCE_HIT,
  coalesceCacheMisses: N.R_COALESCE_MISS,
  semaphoreRejections: N.R_SEMAPHORE_LOCKED
};
const ROTATE_EVENT_NAME = 'rotate';
const RECORDS = N.RECORDS;
const RECORD_LEN = N.RECORD_LEN;
const MAX_RECORDS = N.RING;

function bucket () {
  return {
    failures: 0,
    fallbacks: 0,
    successes: 0,
    rejects: 0,
    fires: 0,
    timeouts: 0,
    cacheHits: 0,
    cacheMisses: 0,
    coalesceCacheHits: 0,
    coalesceCacheMisses: 0,
    semaphoreRejections: 0,
    percentiles: {},
    latencyTimes: []
  };
}

class Status extends EventEmitter {
  constructor (options = {}) {
    super();
    const buckets = options.rollingCountBuckets || 10;
    const timeout = options.rollingCountTimeout || 10000;
    this.rollingPercentilesEnabled = options.rollingPercentilesEnabled !== false;
    this.enableSnapshots = options.enableSnapshots !== false;
    this.rotateBucketController = options.rotateBucketController;
    this._bucketInterval = Math.floor(timeout / buckets);
    this._engine = new N.native.Engine(timeout, buckets, !!this.rotateBucketController);
    // Records JavaScript appends without crossing into Rust, plus the header
    // Rust answers in (see src/engine.rs).
    this._io = new Float64Array(N.RECORDS + N.RECORD_LEN * MAX_RECORDS);
    this._n = 0;
    // The breaker this status serves: told of the transitions a drain causes.
    this._owner = null;
    this._snapshotTimer = null;
    this.rotateBucket = () => {
      this._engine.rotate(this._io, this._n);
      this._n = 0;
    };
    if (this.rotateBucketController) this.startListeneningForRotateEvent();
    if (this.enableSnapshots) {
      this.on('newListener', event => {
        if (event === 'snapshot' && this._snapshotTimer === null) {
          this._snapshotTimer = setInterval(
            () => this.emit('snapshot', this.stats), this._bucketInterval);
          this._snapshotTimer.unref();
        }
      });
      this.on('removeListener', event => {
        if (event === 'snapshot' && this.listenerCount('snapshot') === 0) {
          this._stopSnapshots();
        }
      });
    }
    if (options.stats) this._prime(options.stats);
  }

  /** The cumulative stats of the window. */
  get stats () {
    const io = this._io;
    this._engine.stats(io, this._n, Date.now());
    this._n = 0;
    let at = N.RECORDS;
    const totals = {};
    for (let i = 0; i < KEYS.length; i++) totals[KEYS[i]] = io[at++];
    const count = io[at++];
    const sum = io[at++];
    const pct = [];
    for (let i = 0; i < PERCENTILES.length; i++) pct.push(io[at++]);
    const bins = [];
    const filled = io[at++];
    for (let i = 0; i < filled * 2; i++) bins.push(io[at++]);
    totals.percentiles = {};
    if (this.rollingPercentilesEnabled) {
      // The samples, rebuilt from the histogram only when someone reads them.
      let times = null;
      Object.defineProperty(totals, 'latencyTimes', {
        enumerable: true,
        configurable: true,
        get () {
          if (times === null) times = expand(bins);
          return times;
        },
        set (v) { times = v; }
      });
      totals.latencyMean = count ? sum / count : 0;
      PERCENTILES.forEach((p, i) => { totals.percentiles[p] = pct[i]; });
    } else {
      totals.latencyTimes = [];
      totals.latencyMean = -1;
      PERCENTILES.forEach(p => { totals.percentiles[p] = -1; });
    }
    this._answered();
    return totals;
  }

  /** The buckets, newest first (latencyTimes are not kept per bucket). */
  get window () {
    const io = this._io;
    const buckets = this._engine.window(io, this._n, Date.now());
    this._n = 0;
    const out = [];
    let at = N.RECORDS;
    for (let b = 0; b < buckets; b++) {
      const o = bucket();
      for (let i = 0; i < KEYS.length; i++) o[KEYS[i]] = io[at++];
      const flag = io[at++];
      if (flag !== 0) o.isCircuitBreakerOpen = flag === 2;
      out.push(o);
    }
    this._answered();
    return out;
  }

  increment (property, latencyRunTime) {
    const code = CODE_OF[property];
    if (code !== undefined) this._push(code, Date.now(), latencyRunTime || 0, -1);
  }

  open () {
    this._engine.mark(this._io, this._n, Date.now(), true);
    this._n = 0;
  }

  close () {
    this._engine.mark(this._io, this._n, Date.now(), false);
    this._n = 0;
  }

  shutdown () {
    this.removeAllListeners();
    this._stopSnapshots();
    this.removeRotateBucketControllerListener();
  }

  removeRotateBucketControllerListener () {
    if (this.rotateBucketController) {
      this.rotateBucketController.removeListener(ROTATE_EVENT_NAME, this.rotateBucket);
    }
  }

  startListeneningForRotateEvent () {
    if (this.rotateBucketController &&
      this.rotateBucketController.listenerCount(ROTATE_EVENT_NAME, this.rotateBucket) === 0) {
      this.rotateBucketController.on(ROTATE_EVENT_NAME, this.rotateBucket);
    }
  }

  // ---- for the breaker ----

  _push (code, now, latency, permit) {
    const io = this._io;
    const at = RECORDS + this._n * RECORD_LEN;
    io[at] = code;
    io[at + 1] = now;
    io[at + 2] = latency;
    io[at + 3] = permit;
    if (++this._n === MAX_RECORDS) this._flush();
  }

  _flush () {
    this._engine.flush(this._io, this._n, Date.now());
    this._n = 0;
    this._answered();
  }

  _answered () {
    if (this._owner !== null && this._io[N.IO_TRANSITIONS] > 0) this._owner._transitions();
  }

  _stopSnapshots () {
    if (this._snapshotTimer !== null) {
      clearInterval(this._snapshotTimer);
      this._snapshotTimer = null;
    }
  }

  _prime (stats) {
    const counters = KEYS.map(k => Number(stats[k]) || 0);
    const lat = Array.isArray(stats.latencyTimes) ? stats.latencyTimes.map(Number) : [];
    this._engine.prime(this._io, this._n, Date.now(), counters, lat);
    this._n = 0;
  }
}

function expand (bins) {
  const out = [];
  for (let i = 0; i < bins.length; i += 2) {
    for (let k = 0; k < bins[i + 1]; k++) out.push(bins[i]);
  }
  return out;
}

module.exports = Status;
module.exports.KEYS = KEYS;
