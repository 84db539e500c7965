//! The vocabulary of a breaker: its states, how it moves between them, and
//! the values it hands out.

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum State {
    /// Calls pass; outcomes are judged against the trip rules.
    Closed = 0,
    /// Calls are rejected until the open duration has passed.
    Open = 1,
    /// A bounded number of probe calls pass; their outcomes decide.
    HalfOpen = 2,
    /// Opened by the host; stays open until the host says otherwise.
    ForcedOpen = 3,
    /// Turned off by the host: every call passes and nothing is recorded.
    Disabled = 4,
}

impl State {
    /// The state for its `repr(u8)` value.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => State::Closed,
            1 => State::Open,
            2 => State::HalfOpen,
            3 => State::ForcedOpen,
            4 => State::Disabled,
            _ => return None,
        })
    }
}

/// Why a breaker changed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Reason {
    /// The failure rate over the window reached the threshold.
    FailureRate = 0,
    /// The slow-call rate over the window reached the threshold.
    SlowCallRate = 1,
    /// Too many failures in a row.
    ConsecutiveFailures = 2,
    /// The open duration passed: time to probe.
    OpenElapsed = 3,
    /// The half-open probes succeeded.
    ProbesPassed = 4,
    /// A half-open probe failed, or the probes' rates tripped.
    ProbesFailed = 5,
    /// The half-open period reached its maximum dwell.
    DwellExpired = 6,
    /// The host asked for it.
    Host = 7,
}

/// A state change, reported by the call that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transition {
    /// The state before.
    pub from: State,
    /// The state after.
    pub to: State,
    /// Why.
    pub reason: Reason,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Outcome {
    /// It worked.
    Success = 0,
    /// It failed.
    Failure = 1,
    /// It took too long: a failure, also counted as a timeout.
    Timeout = 2,
    /// Count it as neither (for example an error the caller excludes); a
    /// half-open probe ending this way gives its slot back.
    Ignored = 3,
}

/// Leave to make one call, from [`Breaker::try_acquire`](super::Breaker::try_acquire).
///
/// Hand it back exactly once: to `record` with the outcome, or to `release`
/// if the call never ran. It remembers the breaker's generation, so an
/// outcome that arrives after a state change is counted in the window but
/// cannot move the breaker.
///
/// In Rust a permit is moved into `record` or `release`, so it is handed
/// back at most once by construction. A binding that passes permits
/// through its host language as integers turns one into a raw value with
/// [`Breaker::permit_into_raw`](super::Breaker::permit_into_raw), which
/// gives it a ticket: a second hand-back of the same raw value, or a
/// made-up one, is then refused and counted in
/// [`Snapshot::refused_permits`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a permit must be handed back with record() or release()"]
pub struct Permit {
    pub(crate) generation: u32,
    pub(crate) ticket: u32,
    pub(crate) probe: bool,
    /// The state change that happened while admitting, if any.
    pub transition: Option<Transition>,
}

/// Bits of a raw permit: generation, probe flag, ticket, check tag.
const RAW_GENERATION_BITS: u32 = 16;
const RAW_PROBE: u32 = RAW_GENERATION_BITS;
const RAW_TICKET: u32 = RAW_PROBE + 1;
const RAW_TAG: u32 = RAW_TICKET + super::tickets::TICKET_BITS;
const RAW_TAG_BITS: u32 = 16;
const RAW_BODY_MASK: u64 = (1 << RAW_TAG) - 1;

/// A 16-bit check of a raw permit's body, so a made-up or mangled value is
/// refused rather than counted (a guard against mistakes, not a secret).
const fn raw_tag(body: u64) -> u64 {
    (body
        .wrapping_add(0x5851_F42D)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15))
        >> (64 - RAW_TAG_BITS)
}

impl Permit {
    /// The breaker generation this permit belongs to.
    pub const fn generation(&self) -> u32 {
        self.generation
    }

    /// Whether this permit holds one of the half-open probe slots.
    pub const fn is_probe(&self) -> bool {
        self.probe
    }

    /// The raw form, with `ticket` (issued by the breaker) in it: below
    /// 2^53, exact in a JavaScript number or an `f64`: bits 0..16 the
    /// generation's low 16 bits, bit 16 the probe flag, bits 17..37 the
    /// ticket, bits 37..53 a check tag.
    pub(crate) const fn raw_with(&self, ticket: u32) -> u64 {
        let body = (self.generation as u64 & 0xFFFF)
            | (self.probe as u64) << RAW_PROBE
            | ((ticket & super::tickets::TICKET_MASK) as u64) << RAW_TICKET;
        body | raw_tag(body) << RAW_TAG
    }

    /// A permit back from its raw form
    /// ([`Breaker::permit_into_raw`](super::Breaker::permit_into_raw)).
    /// Never fails: a value that is not one the breaker made (a wrong tag,
    /// bits above 53) becomes a permit that `record` and `release` refuse
    /// and count.
    pub const fn from_raw(raw: u64) -> Self {
        let body = raw & RAW_BODY_MASK;
        let genuine = raw >> RAW_TAG == raw_tag(body);
        Self {
            generation: (body & 0xFFFF) as u32,
            probe: (body >> RAW_PROBE) & 1 == 1,
            ticket: if genuine {
                (body >> RAW_TICKET) as u32 & super::tickets::TICKET_MASK
            } else {
                super::tickets::NO_TICKET
            },
            transition: None,
        }
    }

    /// Whether this permit belongs to generation `generation` (compared on
    /// the 16 bits a raw permit keeps).
    pub(crate) const fn of_generation(&self, generation: u32) -> bool {
        (self.generation ^ generation) & 0xFFFF == 0
    }
}

/// A call refused: when to try again, and the state that refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    /// Ticks until the breaker may admit again: the rest of the open
    /// duration; for half-open with every probe out, the rest of the
    /// half-open dwell; `u64::MAX` while forced open.
    pub retry_after: u64,
    /// The state that refused the call.
    pub state: State,
    /// The state change that happened while deciding, if any.
    pub transition: Option<Transition>,
}

/// Everything a host needs for stats, in one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Snapshot {
    /// The current state.
    pub state: State,
    /// Bumped by every transition.
    pub generation: u32,
    /// Counts over the window.
    pub counts: crate::window::Counts,
    /// Failures in a row, as of the last outcome (closed state).
    pub consecutive_failures: u32,
    /// Half-open probe permits handed out and not yet settled.
    pub probes_in_flight: u32,
    /// When an open breaker will let a probe through (0 unless open).
    pub open_until: u64,
    /// Consecutive openings without a close (the backoff attempt).
    pub reopens: u32,
    /// Times `now` went backwards (each was treated as the latest `now`).
    pub clock_regressions: u32,
    /// The tick of the last transition (0 before any).
    pub since: u64,
    /// Permits handed back that were not out: recorded or released a
    /// second time, made up, or mangled. Each was refused and changed
    /// nothing else.
    pub refused_permits: u32,
    /// Permits handed out and not yet handed back (lost ones included:
    /// see the [`Permit`] docs for what one costs).
    pub permits_out: u32,
}
