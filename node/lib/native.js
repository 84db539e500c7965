'use strict';

// The addon, built by `make build` (cargo build -p fusewire-node --release)
// and copied here as fusewire.node. The io protocol is described in
// src/lib.rs and src/engine.rs; the constants below must match engine.rs.
const native = require('../fusewire.node');

module.exports = {
  native,
  // header of io
  IO_TRANSITIONS: 0,
  IO_PAIRS: 1,
  IO_STATE: 17,
  IO_GENERATION: 18,
  IO_RETRY_AFTER: 19,
  IO_PROBES_IN_FLIGHT: 21,
  RECORDS: 32,
  RECORD_LEN: 4,
  RING: 256,
  // doubles per bucket in a `window` answer: the counters, then the open flag
  BUCKET_LEN: 12,
  // record codes
  R_FIRE: 0,
  R_SUCCESS: 1,
  R_FAILURE: 2,
  R_TIMEOUT: 3,
  R_REJECT: 4,
  R_FALLBACK: 5,
  R_CACHE_HIT: 6,
  R_CACHE_MISS: 7,
  R_COALESCE_HIT: 8,
  R_COALESCE_MISS: 9,
  R_SEMAPHORE_LOCKED: 10,
  R_FAILURE_TIMEOUT: 11,
  R_WARM: 16,
  // core states (fusewire::State as u8)
  S_CLOSED: 0,
  S_OPEN: 1,
  S_HALF_OPEN: 2,
  S_FORCED_OPEN: 3,
  S_DISABLED: 4
};
