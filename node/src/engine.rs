//! One breaker's native half: the core [`Breaker`] that decides, and the
//! opossum tally that reports. See the crate docs for the `io` protocol.

use fusewire::breaker::Snapshot;
use fusewire::window::Counts;
use fusewire::window::{Kind, Sample, Window};
use fusewire::{
    Backoff, Breaker, BreakerConfig, Comparison, CountRing, Jitter, Outcome, Permit, RateBasis,
    Ratio, Schedule, Sliding, State, TickUnit, Transition,
};
use napi::bindgen_prelude::{Float64ArraySlice, ObjectFinalize};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;

use crate::direct::CoreBreaker;
use crate::ring::{NodeWindow, Ring, MAX_BUCKETS};
use crate::tally::{self, OpBucket, COUNTERS, LATENCY_BINS};
use crate::{config_error, ticks};

// The header of `io`, written by every method.
const IO_TRANSITIONS: usize = 0;
const IO_PAIRS: usize = 1;
const MAX_TRANSITIONS: usize = 8;
const IO_STATE: usize = 17;
const IO_GENERATION: usize = 18;
const IO_RETRY_AFTER: usize = 19;
const IO_PROBES_IN_FLIGHT: usize = 21;
const IO_OPEN_SINCE: usize = 22;
/// Where records start; also where `stats` and `window` write their answer.
const RECORDS: usize = 32;
const RECORD_LEN: usize = 4;

// Record codes: what JavaScript saw happen.
const R_FIRE: u8 = 0;
const R_SUCCESS: u8 = 1;
const R_FAILURE: u8 = 2;
const R_TIMEOUT: u8 = 3;
const R_REJECT: u8 = 4;
const R_FALLBACK: u8 = 5;
const R_CACHE_HIT: u8 = 6;
const R_CACHE_MISS: u8 = 7;
const R_COALESCE_HIT: u8 = 8;
const R_COALESCE_MISS: u8 = 9;
const R_SEMAPHORE_LOCKED: u8 = 10;
const R_FAILURE_TIMEOUT: u8 = 11;
/// Added to an outcome's code during opossum's warm-up: counted, cannot trip.
const R_WARM: u8 = 16;
/// Calls in flight at once that keep a native permit (a slot each).
const MAX_SLOTS: f64 = (1u32 << 24) as f64;

/// The `io` layout and the record codes, as JavaScript reads them
/// (`lib/native.js` takes every constant from here, none by hand).
#[napi]
pub fn io_layout() -> std::collections::HashMap<String, u32> {
    let io = [
        ("IO_TRANSITIONS", IO_TRANSITIONS),
        ("IO_PAIRS", IO_PAIRS),
        ("MAX_TRANSITIONS", MAX_TRANSITIONS),
        ("IO_STATE", IO_STATE),
        ("IO_GENERATION", IO_GENERATION),
        ("IO_RETRY_AFTER", IO_RETRY_AFTER),
        ("IO_PROBES_IN_FLIGHT", IO_PROBES_IN_FLIGHT),
        ("IO_OPEN_SINCE", IO_OPEN_SINCE),
        ("RECORDS", RECORDS),
        ("RECORD_LEN", RECORD_LEN),
        ("BUCKET_LEN", COUNTERS + 1),
    ];
    let codes = [
        ("R_FIRE", R_FIRE),
        ("R_SUCCESS", R_SUCCESS),
        ("R_FAILURE", R_FAILURE),
        ("R_TIMEOUT", R_TIMEOUT),
        ("R_REJECT", R_REJECT),
        ("R_FALLBACK", R_FALLBACK),
        ("R_CACHE_HIT", R_CACHE_HIT),
        ("R_CACHE_MISS", R_CACHE_MISS),
        ("R_COALESCE_HIT", R_COALESCE_HIT),
        ("R_COALESCE_MISS", R_COALESCE_MISS),
        ("R_SEMAPHORE_LOCKED", R_SEMAPHORE_LOCKED),
        ("R_FAILURE_TIMEOUT", R_FAILURE_TIMEOUT),
        ("R_WARM", R_WARM),
    ];
    let states = [
        ("S_CLOSED", State::Closed),
        ("S_OPEN", State::Open),
        ("S_HALF_OPEN", State::HalfOpen),
        ("S_FORCED_OPEN", State::ForcedOpen),
        ("S_DISABLED", State::Disabled),
    ];
    io.iter()
        .map(|&(k, v)| (k.to_string(), v as u32))
        .chain(codes.iter().map(|&(k, v)| (k.to_string(), u32::from(v))))
        .chain(
            states
                .iter()
                .map(|&(k, s)| (k.to_string(), u32::from(state_code(s)))),
        )
        .collect()
}

const PERCENTILES_PPM: [u32; 9] = [
    0, 250_000, 500_000, 750_000, 900_000, 950_000, 990_000, 995_000, 1_000_000,
];

/// The breaker rules, already defaulted and type-checked by `lib/options.js`.
#[napi(object)]
pub struct EngineRules {
    /// opossum's errorThresholdPercentage: trips when failures/fires*100 is above it.
    pub error_threshold_percentage: f64,
    /// opossum's volumeThreshold: no rate trip below this many calls in the window.
    pub volume_threshold: f64,
    /// opossum's resetTimeout (ms): the first open duration.
    pub reset_timeout: f64,
    /// Probes let through per half-open period (default 1).
    pub half_open_probes: Option<u32>,
    /// Trip after this many failures in a row.
    pub consecutive_failures: Option<u32>,
    /// Growth of the open duration per consecutive reopening (1 = constant).
    pub backoff_factor: Option<f64>,
    /// Longest open duration (ms).
    pub backoff_max: Option<f64>,
    /// `none`, `full`, `equal` or `decorrelated`.
    pub backoff_jitter: Option<String>,
    /// Seed of the jitter.
    pub seed: Option<f64>,
    /// Judge errorThresholdPercentage over the last this-many calls (a
    /// count-based window in the core) instead of the rolling time window.
    pub sliding_window_size: Option<u32>,
}

/// A breaker's native state: decisions (core) and opossum's counters.
///
/// The counters (a latency histogram per bucket, most of the weight) are
/// allocated on the first record, so an idle breaker holds only the core
/// breaker and its counts window. The bytes held are reported to V8
/// (`napi_adjust_external_memory`) so the GC weighs them.
#[napi(custom_finalize)]
pub struct Engine {
    /// The core breaker: the same native type the low-level `Breaker`
    /// wraps (`CoreBreaker`), held by value (no JS object of its own).
    breaker: CoreBreaker,
    /// The permits of the calls in flight, by the slot JavaScript gave each
    /// call (slots are reused, so this is as long as the most calls ever in
    /// flight at once).
    slots: Vec<Option<Permit>>,
    tally: Option<Ring<OpBucket>>,
    /// Bytes last reported to V8 as held by this engine.
    reported: i64,
    /// Heap bytes of the breaker's window.
    window_bytes: usize,
    env: Env,
    span: u64,
    buckets: usize,
    /// Buckets rotate on `rotate()` (opossum's rotateBucketController), not on the clock.
    external: bool,
    rotations: u64,
    transitions: [(u8, u8); MAX_TRANSITIONS],
    n_transitions: usize,
    /// `Some(n)` while the breaker judges the last `n` calls (the core's
    /// rule over a count window) instead of opossum's time-window ratio.
    counted: Option<u32>,
}

fn napi_err(msg: String) -> Error {
    Error::new(Status::InvalidArg, msg)
}

/// The time window and its heap bytes.
fn window_of(span: u64, buckets: usize) -> Result<(NodeWindow, usize)> {
    Ring::new(span, buckets, Counts::ZERO)
        .map(|ring| {
            let bytes = ring.heap_bytes();
            (Sliding::Time(ring), bytes)
        })
        .map_err(|e| config_error("rolling window", e))
}

fn count_window_of(size: u32) -> Result<NodeWindow> {
    CountRing::over(vec![0; size as usize].into_boxed_slice())
        .map(Sliding::Count)
        .map_err(|e| config_error("options.slidingWindowSize", e))
}

fn jitter_of(name: Option<&str>) -> Result<Jitter> {
    Ok(match name.unwrap_or("none") {
        "none" => Jitter::None,
        "full" => Jitter::Full,
        "equal" => Jitter::Equal,
        "decorrelated" => Jitter::Decorrelated,
        other => {
            return Err(napi_err(format!(
                "fusewire: options.resetBackoff.jitter must be 'none', 'full', 'equal' or 'decorrelated', got '{other}'"
            )))
        }
    })
}

/// The core breaker's config for opossum's options. opossum judges
/// `failures / fires * 100 > errorThresholdPercentage` once `fires` reaches
/// `volumeThreshold`, where `fires` counts every call started in the window
/// (in flight, answered from a cache, refused): the core's
/// [`RateBasis::Started`] with [`Comparison::Above`]. Over the opt-in count
/// window (`slidingWindowSize`) the rate is over outcomes.
pub(crate) fn config_of(r: &EngineRules) -> Result<BreakerConfig> {
    let threshold = r.error_threshold_percentage;
    // opossum compares `rate > threshold` in floating point: NaN or >= 100
    // never trips, below 0 trips on any failure.
    let failure_rate = if threshold.is_nan() || threshold >= 100.0 {
        None
    } else {
        Ratio::from_percent(threshold.max(0.0))
    };
    let reset = ticks(r.reset_timeout).max(1);
    let factor = r.backoff_factor.unwrap_or(1.0);
    let jitter = jitter_of(r.backoff_jitter.as_deref())?;
    let open_backoff = if factor <= 1.0 && jitter == Jitter::None {
        Backoff::constant(reset)
    } else {
        let cap = r.backoff_max.map(ticks).unwrap_or(u64::MAX).max(reset);
        let factor_milli = (factor.max(1.0) * 1000.0).round().min(u32::MAX as f64) as u32;
        Backoff::new(
            Schedule::Exponential {
                base: reset,
                factor_milli,
            },
            jitter,
            cap,
        )
    }
    .map_err(|e| config_error("options.resetBackoff", e))?;
    let volume = r.volume_threshold;
    let counted = r.sliding_window_size.is_some();
    let config = BreakerConfig {
        failure_rate,
        consecutive_failures: r.consecutive_failures,
        min_calls: if volume.is_nan() || volume <= 0.0 {
            0
        } else {
            volume.min(u32::MAX as f64) as u32
        },
        comparison: Comparison::Above,
        rate_basis: if counted {
            RateBasis::Outcomes
        } else {
            RateBasis::Started
        },
        half_open_probes: r.half_open_probes.unwrap_or(1),
        // opossum stays half-open until a trial call comes and settles.
        half_open_max_dwell: u64::MAX,
        open_backoff,
        reset_window_on_close: false,
        seed: r.seed.map(ticks).unwrap_or(0),
        // A threshold of 100 or more never trips in opossum: only open()
        // and a failed health check open the breaker.
        manual: failure_rate.is_none() && r.consecutive_failures.is_none(),
        ..BreakerConfig::new(TickUnit::MILLIS)
    };
    config
        .validate()
        .map_err(|e| config_error("options.errorThresholdPercentage", e))?;
    Ok(config)
}

fn state_code(s: State) -> u8 {
    s as u8
}

#[napi]
impl Engine {
    /// A closed breaker over a window of `buckets` buckets spanning `span` ms.
    #[napi(constructor)]
    pub fn new(env: Env, span: f64, buckets: u32, external_rotation: bool) -> Result<Self> {
        let span = ticks(span);
        let buckets = buckets as usize;
        if buckets > MAX_BUCKETS {
            return Err(napi_err(format!(
                "fusewire: options.rollingCountBuckets must be at most {MAX_BUCKETS}, got {buckets}"
            )));
        }
        let rules = EngineRules {
            error_threshold_percentage: 50.0,
            volume_threshold: 0.0,
            reset_timeout: 30_000.0,
            half_open_probes: None,
            consecutive_failures: None,
            backoff_factor: None,
            backoff_max: None,
            backoff_jitter: None,
            seed: None,
            sliding_window_size: None,
        };
        let config = config_of(&rules)?;
        let (window, window_bytes) = window_of(span, buckets)?;
        let breaker = CoreBreaker {
            inner: Breaker::with_window(config, window)
                .map_err(|e| config_error("breaker options", e))?,
        };
        let mut engine = Self {
            breaker,
            slots: Vec::new(),
            tally: None,
            reported: 0,
            window_bytes,
            env,
            span,
            buckets,
            external: external_rotation,
            rotations: 0,
            transitions: [(0, 0); MAX_TRANSITIONS],
            n_transitions: 0,
            counted: None,
        };
        engine.report();
        Ok(engine)
    }

    /// Sets the breaker rules, keeping the window, the counters and the state.
    #[napi]
    pub fn configure(
        &mut self,
        mut io: Float64ArraySlice<'_>,
        n: u32,
        now: f64,
        rules: EngineRules,
    ) -> Result<u32> {
        let io = slice(&mut io);
        let config = config_of(&rules)?;
        self.drain(io, n);
        let t = ticks(now);
        self.breaker
            .inner
            .set_config(config)
            .map_err(|e| config_error("breaker options", e))?;
        if rules.sliding_window_size != self.counted {
            let (window, bytes) = match rules.sliding_window_size {
                Some(size) => (count_window_of(size)?, size as usize),
                None => window_of(self.span, self.buckets)?,
            };
            *self.breaker.inner.window_mut() = window;
            self.window_bytes = bytes;
            self.counted = rules.sliding_window_size;
            self.report();
        }
        Ok(self.finish(io, t))
    }

    /// Drains the records; returns the state.
    #[napi]
    pub fn flush(&mut self, mut io: Float64ArraySlice<'_>, n: u32, now: f64) -> u32 {
        let io = slice(&mut io);
        self.drain(io, n);
        self.finish(io, ticks(now))
    }

    /// Starts a call in the half-open (or open) state: asks the core for a
    /// permit and keeps it in `slot`. Returns whether it was admitted; a
    /// refusal is counted as a reject. Either way the call is a fire.
    #[napi]
    pub fn acquire(&mut self, mut io: Float64ArraySlice<'_>, n: u32, now: f64, slot: f64) -> bool {
        let io = slice(&mut io);
        self.drain(io, n);
        let t = ticks(now);
        let tn = self.tally_now(t);
        let admitted = self.start(t, slot);
        if let Some(tally) = self.tally() {
            tally.update(tn, |b| {
                b.bump(tally::FIRES);
                if !admitted {
                    b.bump(tally::REJECTS);
                }
            });
        }
        self.finish(io, t);
        admitted
    }

    /// Applies time-driven transitions (open → half-open); returns the state.
    #[napi]
    pub fn poll(&mut self, mut io: Float64ArraySlice<'_>, n: u32, now: f64) -> u32 {
        let io = slice(&mut io);
        self.drain(io, n);
        self.finish(io, ticks(now))
    }

    /// Opens the breaker (opossum's `open()`, a failed health check).
    #[napi]
    pub fn trip(&mut self, mut io: Float64ArraySlice<'_>, n: u32, now: f64) -> u32 {
        let io = slice(&mut io);
        self.drain(io, n);
        let t = ticks(now);
        let moved = self.breaker.inner.trip(t);
        self.note(moved, t);
        self.finish(io, t)
    }

    /// Closes the breaker (opossum's `close()`); the window is kept.
    #[napi]
    pub fn close(&mut self, mut io: Float64ArraySlice<'_>, n: u32, now: f64) -> u32 {
        let io = slice(&mut io);
        self.drain(io, n);
        let t = ticks(now);
        let moved = self.breaker.inner.close(t);
        self.note(moved, t);
        self.finish(io, t)
    }

    /// Puts the breaker straight into half-open (restoring a saved state).
    #[napi]
    pub fn half_open(&mut self, mut io: Float64ArraySlice<'_>, n: u32, now: f64) -> u32 {
        let io = slice(&mut io);
        self.drain(io, n);
        let t = ticks(now);
        let moved = self.breaker.inner.half_open(t);
        self.note(moved, t);
        self.finish(io, t)
    }

    /// Sets `isCircuitBreakerOpen` on the current bucket (opossum's
    /// `status.open()` / `status.close()`).
    #[napi]
    pub fn mark(&mut self, mut io: Float64ArraySlice<'_>, n: u32, now: f64, open: bool) -> u32 {
        let io = slice(&mut io);
        self.drain(io, n);
        let t = ticks(now);
        let tn = self.tally_now(t);
        let flag = if open {
            tally::FLAG_OPEN
        } else {
            tally::FLAG_CLOSED
        };
        if let Some(tally) = self.tally() {
            tally.update(tn, |b| b.open_flag = flag);
        }
        self.finish(io, t)
    }

    /// Rotates the buckets by one (rotateBucketController's `rotate` event).
    #[napi]
    pub fn rotate(&mut self, mut io: Float64ArraySlice<'_>, n: u32, now: f64) -> u32 {
        let io = slice(&mut io);
        self.drain(io, n);
        if self.external {
            self.rotations = self.rotations.saturating_add(1);
            let tn = self.tally_now(0);
            if let Some(tally) = self.tally() {
                tally.rotate(tn);
            }
        }
        self.finish(io, ticks(now))
    }

    /// Writes the window totals to `io[RECORDS..]`: the counters in opossum
    /// order, latency count and sum, the nine percentiles, then the number of
    /// non-empty latency bins and (value, count) for each. Returns the length.
    #[napi]
    pub fn stats(&mut self, mut io: Float64ArraySlice<'_>, n: u32, now: f64) -> u32 {
        let io = slice(&mut io);
        self.drain(io, n);
        let t = ticks(now);
        self.finish(io, t);
        let tn = self.tally_now(t);
        let total = self
            .tally()
            .map(|tally| *tally.total(tn))
            .unwrap_or_default();
        let mut out = Out::new(io, RECORDS);
        for c in total.counters {
            out.push(f64::from(c));
        }
        out.push(f64::from(total.latency.count()));
        out.push(total.latency.sum() as f64);
        for ppm in PERCENTILES_PPM {
            out.push(total.latency.percentile(ppm).unwrap_or(0) as f64);
        }
        let bins = total.latency.bins();
        let filled = bins.iter().filter(|c| **c > 0).count();
        out.push(filled as f64);
        for (bin, count) in bins.iter().enumerate() {
            if *count > 0 {
                out.push(fusewire::histogram::bin_value(bin) as f64);
                out.push(f64::from(*count));
            }
        }
        out.written()
    }

    /// Writes the buckets, newest first, to `io[RECORDS..]`: per bucket the
    /// counters in opossum order then the open flag (0 unset, 1 closed,
    /// 2 open). Returns the number of buckets.
    #[napi]
    pub fn window(&mut self, mut io: Float64ArraySlice<'_>, n: u32, now: f64) -> u32 {
        let io = slice(&mut io);
        self.drain(io, n);
        let t = ticks(now);
        self.finish(io, t);
        let tn = self.tally_now(t);
        let buckets: Vec<OpBucket> = self
            .tally()
            .map(|tally| {
                tally.rotate(tn);
                tally.buckets()
            })
            .unwrap_or_default();
        let mut out = Out::new(io, RECORDS);
        for b in buckets.iter().rev() {
            for c in b.counters {
                out.push(f64::from(c));
            }
            out.push(f64::from(b.open_flag));
        }
        buckets.len() as u32
    }

    /// Primes the current bucket with saved counters (opossum's `status`
    /// option / `stats` of `newStatus`): `counters` in opossum order, and
    /// the saved latency samples. The core window gets matching samples so
    /// the primed calls weigh in the trip rule as they do in opossum.
    #[napi]
    pub fn prime(
        &mut self,
        mut io: Float64ArraySlice<'_>,
        n: u32,
        now: f64,
        counters: Vec<f64>,
        latencies: Vec<f64>,
    ) -> u32 {
        let io = slice(&mut io);
        self.drain(io, n);
        let t = ticks(now);
        let tn = self.tally_now(t);
        let get = |i: usize| {
            counters
                .get(i)
                .map_or(0, |v| ticks(*v).min(u64::from(u32::MAX)) as u32)
        };
        if let Some(tally) = self.tally() {
            tally.update(tn, |b| {
                for (i, c) in b.counters.iter_mut().enumerate().take(COUNTERS) {
                    *c = c.saturating_add(get(i));
                }
            });
            for l in &latencies {
                let l = ticks(*l);
                tally.update(tn, |b| b.sample(l));
            }
        }
        // At most a million samples into the core window: priming is O(n).
        let cap = 1_000_000;
        let failures = get(tally::FAILURES).min(cap);
        let successes = get(tally::SUCCESSES).min(cap);
        let rejects = get(tally::REJECTS).min(cap);
        let others = get(tally::FIRES)
            .saturating_sub(failures + successes + rejects)
            .min(cap);
        let w = self.breaker.inner.window_mut();
        for (kind, count) in [
            (Kind::Failure, failures),
            (Kind::Success, successes),
            (Kind::Rejected, rejects),
            (Kind::Ignored, others),
        ] {
            for _ in 0..count {
                w.record(
                    t,
                    Sample {
                        kind,
                        duration: 0,
                        slow: false,
                    },
                );
            }
        }
        self.finish(io, t)
    }

    /// Bytes of native memory this engine holds (as reported to V8): set
    /// by the options, fixed whatever the traffic once the first call has
    /// been counted.
    #[napi]
    pub fn footprint(&self) -> u32 {
        self.held() as u32
    }

    /// The number of latency bins (for tests of the histogram precision).
    #[napi]
    pub fn latency_bins(&self) -> u32 {
        LATENCY_BINS as u32
    }

    /// The window span and bucket count this engine was built with.
    #[napi]
    pub fn shape(&self) -> Vec<f64> {
        vec![self.span as f64, self.buckets as f64]
    }
}

impl ObjectFinalize for Engine {
    fn finalize(self, env: Env) -> Result<()> {
        env.adjust_external_memory(-self.reported)?;
        Ok(())
    }
}

impl Engine {
    /// opossum's counters, allocated (and reported to V8) on first use.
    fn tally(&mut self) -> Option<&mut Ring<OpBucket>> {
        if self.tally.is_none() {
            self.tally = Ring::new(self.span, self.buckets, OpBucket::default()).ok();
            self.report();
        }
        self.tally.as_mut()
    }

    /// Native bytes held: this struct, the window's and the counters' rings.
    fn held(&self) -> usize {
        core::mem::size_of::<Self>()
            + self.window_bytes
            + self.tally.as_ref().map_or(0, Ring::heap_bytes)
    }

    /// Tells V8 how the bytes held changed since the last report.
    fn report(&mut self) {
        let held = self.held() as i64;
        if held != self.reported
            && self
                .env
                .adjust_external_memory(held - self.reported)
                .is_ok()
        {
            self.reported = held;
        }
    }

    fn bucket_len(&self) -> u64 {
        (self.span / self.buckets.max(1) as u64).max(1)
    }

    fn tally_now(&self, now: u64) -> u64 {
        if self.external {
            self.rotations.saturating_mul(self.bucket_len())
        } else {
            now
        }
    }

    fn note(&mut self, t: Option<Transition>, now: u64) {
        let Some(t) = t else { return };
        let pair = (state_code(t.from), state_code(t.to));
        if self.n_transitions < MAX_TRANSITIONS {
            if let Some(slot) = self.transitions.get_mut(self.n_transitions) {
                *slot = pair;
            }
            self.n_transitions += 1;
        } else {
            // Keep the latest: the host only needs to end in the right state.
            self.transitions.rotate_left(1);
            if let Some(slot) = self.transitions.last_mut() {
                *slot = pair;
            }
        }
        let flag = match t.to {
            State::Open | State::ForcedOpen => tally::FLAG_OPEN,
            State::Closed => tally::FLAG_CLOSED,
            _ => return,
        };
        let tn = self.tally_now(now);
        if let Some(tally) = self.tally() {
            tally.update(tn, |b| b.open_flag = flag);
        }
    }

    /// Applies the `n` records JavaScript appended to `io`, in order.
    fn drain(&mut self, io: &[f64], n: u32) {
        let n = (n as usize).min(io.len().saturating_sub(RECORDS) / RECORD_LEN);
        for i in 0..n {
            let at = RECORDS + i * RECORD_LEN;
            let Some(rec) = io.get(at..at + RECORD_LEN) else {
                return;
            };
            let code = rec[0];
            let code = if (0.0..=255.0).contains(&code) {
                code as u8
            } else {
                continue;
            };
            self.apply(code, ticks(rec[1]), ticks(rec[2]), rec[3]);
        }
    }

    /// A call starts at `t`: the core counts it (admitted or refused, as
    /// opossum counts `fires`). A call that runs keeps its permit in `slot`;
    /// one that never runs (`slot` < 0: answered from a cache, refused by
    /// JavaScript while open, fired while disabled) hands it straight back.
    fn start(&mut self, t: u64, slot: f64) -> bool {
        let permit = match self.breaker.inner.try_acquire(t) {
            Ok(permit) => permit,
            Err(rejected) => {
                self.note(rejected.transition, t);
                return false;
            }
        };
        self.note(permit.transition, t);
        if !(0.0..MAX_SLOTS).contains(&slot) {
            let moved = self.breaker.inner.release(permit, t);
            self.note(moved, t);
            return true;
        }
        let at = slot as usize;
        if self.slots.len() <= at {
            self.slots.resize_with(at + 1, || None);
        }
        if let Some(s) = self.slots.get_mut(at) {
            *s = Some(permit);
        }
        true
    }

    fn apply(&mut self, code: u8, t: u64, latency: u64, slot: f64) {
        let tn = self.tally_now(t);
        let warm = code & R_WARM != 0;
        let code = code & !R_WARM;
        let (counter, timed, outcome) = match code {
            R_FIRE => (tally::FIRES, false, None),
            R_SUCCESS => (tally::SUCCESSES, true, Some(Outcome::Success)),
            R_FAILURE => (tally::FAILURES, true, Some(Outcome::Failure)),
            R_FAILURE_TIMEOUT => (tally::FAILURES, true, Some(Outcome::Timeout)),
            R_TIMEOUT => (tally::TIMEOUTS, true, None),
            R_REJECT => (tally::REJECTS, false, None),
            R_FALLBACK => (tally::FALLBACKS, false, None),
            R_CACHE_HIT => (tally::CACHE_HITS, false, None),
            R_CACHE_MISS => (tally::CACHE_MISSES, false, None),
            R_COALESCE_HIT => (tally::COALESCE_HITS, false, None),
            R_COALESCE_MISS => (tally::COALESCE_MISSES, false, None),
            R_SEMAPHORE_LOCKED => (tally::SEMAPHORE_REJECTIONS, false, None),
            _ => return,
        };
        if let Some(tally) = self.tally() {
            tally.update(tn, |b| {
                b.bump(counter);
                if timed {
                    b.sample(latency);
                }
            });
        }
        if code == R_FIRE {
            self.start(t, slot);
            return;
        }
        let Some(outcome) = outcome else { return };
        let permit = if slot >= 0.0 {
            self.slots.get_mut(slot as usize).and_then(Option::take)
        } else {
            None
        };
        // No permit: the call was refused when it started, or this outcome
        // was reported already; the tally above is all it counts for.
        let Some(permit) = permit else { return };
        let moved = if warm {
            self.breaker
                .inner
                .record_untripped(permit, outcome, latency, t)
        } else {
            self.breaker.inner.record(permit, outcome, latency, t)
        };
        self.note(moved, t);
    }

    /// Time-driven transitions, then the header; returns the state.
    fn finish(&mut self, io: &mut [f64], now: u64) -> u32 {
        let moved = self.breaker.inner.poll(now);
        self.note(moved, now);
        let s: Snapshot = self.breaker.inner.snapshot(now);
        set(io, IO_TRANSITIONS, self.n_transitions as f64);
        for (i, (from, to)) in self.transitions.iter().take(self.n_transitions).enumerate() {
            set(io, IO_PAIRS + 2 * i, f64::from(*from));
            set(io, IO_PAIRS + 2 * i + 1, f64::from(*to));
        }
        self.n_transitions = 0;
        set(io, IO_STATE, f64::from(state_code(s.state)));
        set(io, IO_GENERATION, f64::from(s.generation));
        set(
            io,
            IO_RETRY_AFTER,
            if s.state == State::Open {
                s.open_until.saturating_sub(now) as f64
            } else {
                0.0
            },
        );
        set(io, IO_PROBES_IN_FLIGHT, f64::from(s.probes_in_flight));
        set(io, IO_OPEN_SINCE, s.since as f64);
        u32::from(state_code(s.state))
    }
}

/// The typed array JavaScript passed, as a slice.
pub(crate) fn slice<'a>(io: &'a mut Float64ArraySlice<'_>) -> &'a mut [f64] {
    // SAFETY: the array is a live argument of this synchronous call on the
    // JS thread, so nothing else reads or writes it while we hold the slice.
    unsafe { io.as_mut() }
}

fn set(io: &mut [f64], at: usize, v: f64) {
    if let Some(slot) = io.get_mut(at) {
        *slot = v;
    }
}

/// Appends numbers to `io` from an offset, dropping what does not fit.
struct Out<'a> {
    io: &'a mut [f64],
    at: usize,
    start: usize,
}

impl<'a> Out<'a> {
    fn new(io: &'a mut [f64], start: usize) -> Self {
        Self {
            io,
            at: start,
            start,
        }
    }

    fn push(&mut self, v: f64) {
        set(self.io, self.at, v);
        self.at += 1;
    }

    fn written(&self) -> u32 {
        (self.at - self.start) as u32
    }
}
