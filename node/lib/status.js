'use strict';

// opossum's Status, on the native tally: the counters and latency live in
// Rust (src/tally.rs), rolled lazily from the clock, so nothing here grows
// with traffic and no interval timer runs unless someone listens to
// 'snapshot'.

const EventEmitter = require('events');
const N = require('./native');
const { windowShape } = require('./options');
const { ATTACH, RECORD, FLUSH, ASK, ANSWER, MOVED } = require('./port');

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

// One io buffer for every breaker in the process (see src/lib.rs). Records
// belong to the breaker that owns the buffer; another breaker that needs it
// first drains them into their owner's engine. Native calls are synchronous
// on this thread, so an answer is read before anyone else can call.
let IO = new Float64Array(RECORDS + RECORD_LEN * MAX_RECORDS);
let N_RECORDS = 0;
let OWNER = null;
// The owner's records are drained once the current macrotask is done, so
// the buffer never keeps a dropped breaker alive (nor its counts stale)
// past it.
let RELEASE_QUEUED = false;
function releaseOwner () {
  RELEASE_QUEUED = false;
  if (OWNER !== null) OWNER._claim(null);
}

// Stats and window answers are written after the header: the buffer must
// hold a window's buckets.
function reserve (doubles) {
  if (IO.length >= doubles) return;
  if (OWNER !== null) OWNER._claim(null);
  IO = new Float64Array(doubles);
}

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
    const { span, buckets } = windowShape(options);
    this.rollingPercentilesEnabled = options.rollingPercentilesEnabled !== false;
    this.enableSnapshots = options.enableSnapshots !== false;
    this.rotateBucketController = options.rotateBucketController;
    this._bucketInterval = Math.floor(span / buckets);
    this._engine = new N.native.Engine(span, buckets, !!this.rotateBucketController);
    reserve(RECORDS + N.BUCKET_LEN * buckets);
    // The breaker this status serves: told of the transitions a native call
    // reports, and reads the answer fields below.
    this._owner = null;
    this[ANSWER] = { generation: 0, retryAfter: 0, probesInFlight: 0 };
    this._snapshotTimer = null;
    this._rotate = null;
    if (this.rotateBucketController) this.startListeneningForRotateEvent();
    if (options.stats) this._prime(options.stats);
  }

  // Snapshots run while someone listens to 'snapshot' (opossum's interval
  // timer, started on the first listener rather than at construction).
  on (event, listener) { return this._listen(super.on, event, listener); }
  addListener (event, listener) { return this._listen(super.addListener, event, listener); }
  prependListener (event, listener) { return this._listen(super.prependListener, event, listener); }
  once (event, listener) { return this._listen(super.once, event, listener); }
  prependOnceListener (event, listener) { return this._listen(super.prependOnceListener, event, listener); }
  removeListener (event, listener) {
    super.removeListener(event, listener);
    if (event === 'snapshot' && this.listenerCount('snapshot') === 0) this._stopSnapshots();
    return this;
  }

  off (event, listener) { return this.removeListener(event, listener); }

  removeAllListeners (event) {
    super.removeAllListeners(...arguments);
    if (event === undefined || event === 'snapshot') this._stopSnapshots();
    return this;
  }

  get rotateBucket () {
    if (this._rotate === null) this._rotate = () => this[ASK]('rotate');
    return this._rotate;
  }

  /** The cumulative stats of the window. */
  get stats () {
    this._claim(this);
    const io = IO;
    this._engine.stats(io, N_RECORDS, Date.now());
    N_RECORDS = 0;
    this._read(io);
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
    this._answered(io);
    return totals;
  }

  /** The buckets, newest first (latencyTimes are not kept per bucket). */
  get window () {
    this._claim(this);
    const io = IO;
    const buckets = this._engine.window(io, N_RECORDS, Date.now());
    N_RECORDS = 0;
    this._read(io);
    const out = [];
    let at = N.RECORDS;
    for (let b = 0; b < buckets; b++) {
      const o = bucket();
      for (let i = 0; i < KEYS.length; i++) o[KEYS[i]] = io[at++];
      const flag = io[at++];
      if (flag !== 0) o.isCircuitBreakerOpen = flag === 2;
      out.push(o);
    }
    this._answered(io);
    return out;
  }

  increment (property, latencyRunTime) {
    const code = CODE_OF[property];
    if (code !== undefined) this[RECORD](code, Date.now(), latencyRunTime || 0, -1);
  }

  open () {
    this[ASK]('mark', true);
  }

  close () {
    this[ASK]('mark', false);
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

  // ---- for the breaker (lib/port.js) ----

  [ATTACH] (breaker) {
    this._owner = breaker;
  }

  /** Appends a record of what happened; no native call. */
  [RECORD] (code, now, latency, slot) {
    if (OWNER !== this) this._claim(this);
    const io = IO;
    const at = RECORDS + N_RECORDS * RECORD_LEN;
    io[at] = code;
    io[at + 1] = now;
    io[at + 2] = latency;
    io[at + 3] = slot;
    if (++N_RECORDS === MAX_RECORDS) this[ASK]('flush');
  }

  /** Drains the records into the engine and applies its transitions. */
  [FLUSH] () {
    this[ASK]('flush');
  }

  /**
   * Calls the engine's `method` (after the records), reads its answer into
   * `[ANSWER]` (generation, retryAfter, probesInFlight), then tells the
   * breaker of the transitions it reported. Returns the method's result.
   */
  [ASK] (method, a, b) {
    this._claim(this);
    const io = IO;
    const r = this._engine[method](io, N_RECORDS, Date.now(), a, b);
    N_RECORDS = 0;
    this._answered(io);
    return r;
  }

  // Makes `next` the owner of the shared buffer (null: nobody), draining
  // the current owner's records into its engine first.
  _claim (next) {
    const prev = OWNER;
    if (prev === next) return;
    const n = N_RECORDS;
    OWNER = next;
    N_RECORDS = 0;
    if (next !== null && !RELEASE_QUEUED) {
      RELEASE_QUEUED = true;
      setImmediate(releaseOwner);
    }
    if (prev !== null && n > 0) {
      prev._engine.flush(IO, n, Date.now());
      prev._answered(IO);
    }
  }

  _read (io) {
    const answer = this[ANSWER];
    answer.generation = io[N.IO_GENERATION];
    answer.retryAfter = io[N.IO_RETRY_AFTER];
    answer.probesInFlight = io[N.IO_PROBES_IN_FLIGHT];
  }

  _answered (io) {
    this._read(io);
    const count = io[N.IO_TRANSITIONS];
    if (count === 0) return;
    io[N.IO_TRANSITIONS] = 0;
    const tos = [];
    for (let i = 0; i < Math.min(count, N.MAX_TRANSITIONS); i++) tos.push(io[N.IO_PAIRS + 2 * i + 1]);
    if (this._owner !== null) this._owner[MOVED](tos);
  }

  _listen (add, event, listener) {
    add.call(this, event, listener);
    if (event === 'snapshot' && this.enableSnapshots && this._snapshotTimer === null) {
      this._snapshotTimer = setInterval(
        () => this.emit('snapshot', this.stats), this._bucketInterval);
      this._snapshotTimer.unref();
    }
    return this;
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
    this[ASK]('prime', counters, lat);
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
