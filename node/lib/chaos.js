'use strict';

// Chaos: seeded, replayable fault injection on the core's Chaos policy.
// Every decision (whether this call faults, waits, is substituted, runs the
// behaviour hook) is the core's, a pure function of (seed, call index); this
// file checks the options, draws a default seed from crypto entropy, and
// applies what the core decided: a delay, the hook, a rejection or a value.

const { randomBytes } = require('node:crypto');
const { native } = require('./native');

const RATES = ['faultRate', 'latencyRate', 'substituteRate', 'behaviorRate'];
// The core's field names (ConfigError.field) as the options spell them.
const FIELD = {
  fault_rate: 'faultRate',
  latency_rate: 'latencyRate',
  latency_min: 'latencyMin',
  latency_max: 'latencyMax',
  substitute_rate: 'substituteRate',
  behavior_rate: 'behaviorRate'
};
const PROBLEM = {
  out_of_range: ['outOfRange', 'must be a percentage from 0 to 100'],
  not_a_number: ['notANumber', 'is NaN'],
  inconsistent: ['inconsistent', 'must be at least latencyMin'],
  required: ['required', 'is required (non-zero) when latencyRate is set']
};
const OUTCOMES = ['pass', 'fault', 'substitute'];
const U64 = (1n << 64n) - 1n;

function describe (v) {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'bigint') return `${v}n`;
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}

function optionError (Kind, what, field, message, problem) {
  const e = new Kind(`fusewire: ${what} options.${field} ${message}`);
  e.code = 'ERR_FUSEWIRE_CONFIG';
  e.field = field;
  if (problem) e.problem = problem;
  return e;
}

/** The core's { field, problem } as a RangeError naming the option. */
function rejected (what, r) {
  const field = FIELD[r.field] ?? r.field;
  const [problem, text] = PROBLEM[r.problem] ?? [r.problem, 'is invalid'];
  const Kind = problem === 'notANumber' ? TypeError : RangeError;
  return optionError(Kind, what, field, text, problem);
}

/**
 * A seed as the core's u64 in two halves: a safe integer or a BigInt
 * (another door's seed may use all 64 bits); absent: 53 bits of entropy.
 */
function seedOf (what, v) {
  if (v === undefined) {
    v = Number(randomBytes(8).readBigUInt64LE() & ((1n << 53n) - 1n));
  }
  let big;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) big = BigInt(v);
  else if (typeof v === 'bigint' && v >= 0n && v <= U64) big = v;
  else {
    const Kind = typeof v === 'number' || typeof v === 'bigint' ? RangeError : TypeError;
    throw optionError(Kind, what, 'seed', `must be an integer from 0 to 2^53 - 1 (or a BigInt below 2^64), got ${describe(v)}`);
  }
  return { seed: v, seedHi: Number(big >> 32n), seedLo: Number(big & 0xffffffffn) };
}

function checkRate (what, o, k) {
  const v = o[k];
  if (v === undefined) return undefined;
  // NaN is a number: the core names it (notANumber).
  if (typeof v !== 'number') throw optionError(TypeError, what, k, `must be a percentage (a number from 0 to 100), got ${describe(v)}`);
  return v;
}

// setTimeout's limit: a longer delay would fire after 1 ms.
const TIMER_MAX = 2 ** 31 - 1;

function checkMs (what, o, k) {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > TIMER_MAX) {
    const Kind = typeof v === 'number' ? RangeError : TypeError;
    throw optionError(Kind, what, k, `must be a whole number of milliseconds from 0 to 2^31 - 1 (setTimeout's limit), got ${describe(v)}`);
  }
  return v;
}

const KNOWN = new Set([...RATES, 'latencyMin', 'latencyMax', 'seed', 'enabled', 'error', 'substitute', 'behavior']);

/** The native spec from checked options (rates, latencies, seed, switch). */
function chaosSpec (what, options, known = KNOWN) {
  if (options === null || typeof options !== 'object') {
    throw optionError(TypeError, what, 'options', `must be an object, got ${describe(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (!known.has(k)) throw optionError(TypeError, what, k, `is not a chaos option here (known: ${[...known].join(', ')})`);
  }
  const enabled = options.enabled ?? false;
  if (typeof enabled !== 'boolean') throw optionError(TypeError, what, 'enabled', `must be true or false, got ${describe(enabled)}`);
  const { seed, seedHi, seedLo } = seedOf(what, options.seed);
  const spec = { seedHi, seedLo, enabled };
  for (const k of RATES) spec[k] = checkRate(what, options, k);
  spec.latencyMin = checkMs(what, options, 'latencyMin');
  spec.latencyMax = checkMs(what, options, 'latencyMax');
  return { spec, seed };
}

/** Builds the native policy from checked options. */
function nativeChaos (what, options) {
  const { spec, seed } = chaosSpec(what, options);
  const r = native.coreChaos(spec);
  if (typeof r.problem === 'string') throw rejected(what, r);
  return { core: r, seed, spec };
}

// What configure() may change: the rates, the latencies and the seed.
const CHANGEABLE = new Set([...RATES, 'latencyMin', 'latencyMax', 'seed']);

/** An injection unpacked (src/mesh.rs `packed`). */
function unpack (v) {
  return { delay: Math.floor(v / 8), outcome: OUTCOMES[v % 4], behavior: (v & 4) !== 0 };
}

/**
 * The core's chaos policy, for hosts that apply injections themselves.
 * { faultRate, latencyRate, latencyMin, latencyMax, substituteRate,
 *   behaviorRate } (rates in percent, latencies in ms), seed, enabled (false).
 */
// Decisions drawn per crossing into Rust (a crossing costs far more than a
// decision): the core's decide(index) for the next BATCH call indices.
const BATCH = 64;
const NONE = 0;

class Chaos {
  #core;
  #seed;
  #on;
  // The calls decided while on: the next call's index, as the core's
  // Chaos::inject counts them (it does not move while off).
  #index = 0;
  #buf = new Float64Array(BATCH);
  #start = 0;
  #filled = 0;

  #options;

  constructor (options = {}) {
    const { core, seed } = nativeChaos('Chaos', options);
    this.#core = core;
    this.#seed = seed;
    this.#on = core.enabled;
    this.#options = Object.fromEntries(Object.entries(options).filter(([k]) => CHANGEABLE.has(k)));
    this.#options.seed = seed;
  }

  /**
   * Changes the rates, latencies or seed at run time (the options given
   * replace those values; the others are kept, and so are the switch and
   * the call index). A bad value throws and changes nothing.
   */
  configure (changes) {
    const what = 'Chaos configure';
    // Type-check the changes alone first, so an error names what was passed.
    chaosSpec(what, changes, CHANGEABLE);
    const merged = { ...this.#options, ...changes };
    const { spec, seed } = chaosSpec(what, merged, CHANGEABLE);
    const problem = this.#core.setConfig(spec);
    if (problem) throw rejected(what, problem);
    this.#options = { ...merged, seed };
    this.#seed = seed;
    // The drawn batch was decided under the old config.
    this.#filled = 0;
  }

  /** The rates, latencies and seed in force. */
  get options () { return { ...this.#options }; }

  /** The next call's injection: { delay (ms), outcome: 'pass'|'fault'|'substitute', behavior }. */
  inject () { return unpack(this._injectPacked()); }

  /** Call `index`'s injection (the host numbers calls, e.g. a request id, for replay). */
  decide (index) {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new RangeError(`fusewire: Chaos decide(index) takes an integer from 0 to 2^53 - 1, got ${describe(index)}`);
    }
    return unpack(this.#core.decide(index));
  }

  /**
   * The injection packed into one number (no object per call; see
   * src/mesh.rs `packed`): the core's decide(index) for the next index,
   * from the batch drawn in one crossing; NONE (0) while off.
   */
  _injectPacked () {
    if (!this.#on) return NONE;
    let k = this.#index - this.#start;
    if (k >= this.#filled || k < 0) {
      this.#start = this.#index;
      this.#filled = this.#core.fill(this.#buf, this.#index);
      k = 0;
    }
    this.#index++;
    return this.#buf[k];
  }

  enable () { this.#core.setEnabled(true); this.#on = true; }
  disable () { this.#core.setEnabled(false); this.#on = false; }
  get enabled () { return this.#on; }
  /** Calls decided while on (the index of the next one). */
  get calls () { return this.#index; }
  /** The seed every decision is drawn from: log it to replay a run. */
  get seed () { return this.#seed; }
}

/** The error an injected fault rejects with, unless the options give one. */
class ChaosError extends Error {
  constructor (message = 'fusewire: injected fault') {
    super(message);
    this.name = 'ChaosError';
    this.code = 'ECHAOS';
  }
}

function hook (what, options, k, needed) {
  const v = options[k];
  if (needed && v === undefined) {
    throw optionError(TypeError, what, k, `is required when ${k}Rate is set`);
  }
  return v;
}

/**
 * Wraps `action` (any function returning a value or a promise) so each call
 * first asks the core what to inject. Options: the Chaos policy's, plus
 * `error` (an Error, or a function of the call's arguments returning one;
 * default a ChaosError), `substitute` (the value to resolve with; a function
 * is called with the arguments), `behavior` (an async hook called with the
 * arguments before the call). The wrapper has enable(), disable(), enabled,
 * seed, calls and decide(index).
 */
function chaos (action, options = {}) {
  const what = 'chaos';
  if (typeof action !== 'function') {
    throw new TypeError(`fusewire: chaos(action, options) wraps a function, got ${describe(action)}`);
  }
  const policy = new Chaos(options);
  const error = options.error;
  if (error !== undefined && !(error instanceof Error) && typeof error !== 'function') {
    throw optionError(TypeError, what, 'error', `must be an Error or a function returning one, got ${describe(error)}`);
  }
  const substitute = hook(what, options, 'substitute', (options.substituteRate ?? 0) > 0);
  const behavior = hook(what, options, 'behavior', (options.behaviorRate ?? 0) > 0);
  if (behavior !== undefined && typeof behavior !== 'function') {
    throw optionError(TypeError, what, 'behavior', `must be a function, got ${describe(behavior)}`);
  }
  const fault = (args) => {
    if (error === undefined) return new ChaosError();
    return typeof error === 'function' ? error(...args) : error;
  };
  const answer = (args) => typeof substitute === 'function' ? substitute(...args) : substitute;

  async function slow (context, args, v) {
    const delay = Math.floor(v / 8);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (v & 4) await behavior?.(...args);
    const outcome = v % 4;
    if (outcome === 1) throw fault(args);
    if (outcome === 2) return answer(args);
    return action.apply(context, args);
  }

  // The switch, also kept here (the policy is this wrapper's alone), so
  // "off" is one branch before the action.
  let on = policy.enabled;
  function wrapped (...args) {
    // Off, or nothing injected: the action, called as it is.
    if (!on) return action.apply(this, args);
    const v = policy._injectPacked();
    if (v === NONE) return action.apply(this, args);
    return slow(this, args, v);
  }
  Object.defineProperties(wrapped, {
    enable: { value: () => { policy.enable(); on = true; } },
    disable: { value: () => { policy.disable(); on = false; } },
    enabled: { get: () => on },
    seed: { get: () => policy.seed },
    calls: { get: () => policy.calls },
    decide: { value: (index) => policy.decide(index) },
    configure: { value: (changes) => policy.configure(changes) },
    options: { get: () => policy.options }
  });
  return wrapped;
}

module.exports = { chaos, Chaos, ChaosError, seedOf, describe };
