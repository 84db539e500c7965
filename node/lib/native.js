'use strict';

// The addon, built by `make build` (cargo build -p fusewire-node --release)
// and copied here as fusewire.node. The io layout, record codes and states
// come from the addon itself (src/engine.rs `io_layout`), declared once.
const native = require('../fusewire.node');

module.exports = {
  native,
  ...native.ioLayout(),
  // Records a breaker appends before the buffer is drained (a JS choice:
  // the buffer is shared by every breaker, see lib/status.js).
  RING: 256
};
