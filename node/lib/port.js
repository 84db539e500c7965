'use strict';

// The one interface between a CircuitBreaker and its Status (lib/circuit.js,
// lib/status.js; nothing else uses it). Symbol keys: neither reaches into
// the other's own fields, and users see none of it.
//
// Status:   [ATTACH](breaker)           the breaker told of transitions
//           [RECORD](code, now, ms, slot) appends a record, no native call
//           [FLUSH]()                   drains the records into the engine
//           [ASK](method, a, b)         an engine call; its answer is then in
//           [ANSWER]                    { generation, retryAfter, probesInFlight }
// Breaker:  [MOVED](states)             the states a native call moved through
module.exports = {
  ATTACH: Symbol('fusewire.attach'),
  RECORD: Symbol('fusewire.record'),
  FLUSH: Symbol('fusewire.flush'),
  ASK: Symbol('fusewire.ask'),
  ANSWER: Symbol('fusewire.answer'),
  MOVED: Symbol('fusewire.moved')
};
