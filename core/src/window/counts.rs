//! The counters every window keeps, and the sample that feeds them.

use super::Tally;

/// What happened to one call, as far as the window is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// The call succeeded.
    Success = 0,
    /// The call failed.
    Failure = 1,
    /// The call timed out (also counted as a failure).
    Timeout = 2,
    /// The call ended in a way that counts as neither success nor failure.
    Ignored = 3,
    /// The call was refused by the breaker and never ran.
    Rejected = 4,
    /// The call was admitted and has started (recorded at admission, only
    /// under [`RateBasis::Started`](crate::RateBasis::Started)); its
    /// outcome comes as a sample of its own when it ends.
    Admitted = 5,
}

/// One observation: its kind, its duration in ticks, and whether it was slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// What happened.
    pub kind: Kind,
    /// How long the call took, in ticks (0 for rejections).
    pub duration: u64,
    /// Whether the call was at least as long as the slow-call limit.
    pub slow: bool,
}

impl Sample {
    /// A sample of `kind` that took no time and was not slow (rejections,
    /// admissions).
    pub const fn of(kind: Kind) -> Self {
        Self {
            kind,
            duration: 0,
            slow: false,
        }
    }
}

const SLOW_BIT: u8 = 0x8;
const KIND_BITS: u8 = 0x7;

impl Sample {
    /// The one-byte form count windows store: kind + 1 in the low three
    /// bits (0 is an empty slot), the slow flag in bit 3; no duration.
    pub(crate) const fn to_slot(self) -> u8 {
        (self.kind as u8 + 1) | if self.slow { SLOW_BIT } else { 0 }
    }

    /// A sample back from its slot byte; `None` for an empty slot.
    pub(crate) const fn from_slot(slot: u8) -> Option<Sample> {
        let kind = match slot & KIND_BITS {
            1 => Kind::Success,
            2 => Kind::Failure,
            3 => Kind::Timeout,
            4 => Kind::Ignored,
            _ => return None,
        };
        Some(Sample {
            kind,
            duration: 0,
            slow: slot & SLOW_BIT != 0,
        })
    }
}

/// Counters over a window. Timeouts are also failures; slow calls are
/// successes or failures that took at least the slow-call limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct Counts {
    /// Calls that succeeded.
    pub successes: u32,
    /// Calls that failed, timeouts included.
    pub failures: u32,
    /// Calls that timed out (a subset of `failures`).
    pub timeouts: u32,
    /// Calls (successful or failed) that were slow.
    pub slow: u32,
    /// Calls that counted as neither success nor failure.
    pub ignored: u32,
    /// Calls refused by the breaker.
    pub rejected: u32,
    /// Calls admitted, counted when they start (only under
    /// [`RateBasis::Started`](crate::RateBasis::Started); 0 otherwise).
    pub admitted: u32,
}

impl Counts {
    /// No calls at all.
    pub const ZERO: Self = Self {
        successes: 0,
        failures: 0,
        timeouts: 0,
        slow: 0,
        ignored: 0,
        rejected: 0,
        admitted: 0,
    };

    /// Successes plus failures: the calls the trip rates are judged on.
    pub const fn outcomes(&self) -> u32 {
        self.successes.saturating_add(self.failures)
    }

    /// Every call seen: outcomes, ignored and rejected.
    pub const fn all(&self) -> u32 {
        self.outcomes()
            .saturating_add(self.ignored)
            .saturating_add(self.rejected)
    }

    /// Every call started: admitted plus rejected (opossum's `fires`; the
    /// denominator of [`RateBasis::Started`](crate::RateBasis::Started)).
    pub const fn started(&self) -> u32 {
        self.admitted.saturating_add(self.rejected)
    }

    /// Adds one sample.
    #[inline]
    pub fn count(&mut self, s: Sample) {
        self.step(s, true);
    }

    /// Takes one sample back out (saturating at zero).
    #[inline]
    pub fn uncount(&mut self, s: Sample) {
        self.step(s, false);
    }

    #[inline]
    fn step(&mut self, s: Sample, up: bool) {
        let bump = |v: &mut u32| {
            *v = if up {
                v.saturating_add(1)
            } else {
                v.saturating_sub(1)
            }
        };
        match s.kind {
            Kind::Success => bump(&mut self.successes),
            Kind::Failure => bump(&mut self.failures),
            Kind::Timeout => {
                bump(&mut self.timeouts);
                bump(&mut self.failures);
            }
            Kind::Ignored => bump(&mut self.ignored),
            Kind::Rejected => bump(&mut self.rejected),
            Kind::Admitted => bump(&mut self.admitted),
        }
        if s.slow && !matches!(s.kind, Kind::Ignored | Kind::Rejected | Kind::Admitted) {
            bump(&mut self.slow);
        }
    }
}

impl Tally for Counts {
    fn add(&mut self, o: &Self) {
        self.successes = self.successes.saturating_add(o.successes);
        self.failures = self.failures.saturating_add(o.failures);
        self.timeouts = self.timeouts.saturating_add(o.timeouts);
        self.slow = self.slow.saturating_add(o.slow);
        self.ignored = self.ignored.saturating_add(o.ignored);
        self.rejected = self.rejected.saturating_add(o.rejected);
        self.admitted = self.admitted.saturating_add(o.admitted);
    }

    fn sub(&mut self, o: &Self) {
        self.successes = self.successes.saturating_sub(o.successes);
        self.failures = self.failures.saturating_sub(o.failures);
        self.timeouts = self.timeouts.saturating_sub(o.timeouts);
        self.slow = self.slow.saturating_sub(o.slow);
        self.ignored = self.ignored.saturating_sub(o.ignored);
        self.rejected = self.rejected.saturating_sub(o.rejected);
        self.admitted = self.admitted.saturating_sub(o.admitted);
    }
}
