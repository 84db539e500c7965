'use strict';

// require('fusewire/cockatiel'): a drop-in for cockatiel 4 on fusewire's
// core (lib/cockatiel.js; differences in NOTES.md).
module.exports = require('./lib/cockatiel');
