//! The half-open rule: a bounded set of probes whose outcomes decide.
//!
//! Counts are 16 bits ([`Rules::MAX_PROBES`]): zeroing a period is two
//! word stores, not a `memclr` call on firmware.

use super::config::{HalfOpenRule, Rules};

/// The probes of one half-open period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub(crate) struct Probes {
    /// Slots taken (in flight or settled) in this period.
    pub admitted: u16,
    /// Slots taken and not yet settled.
    pub in_flight: u16,
    /// Probes that succeeded and were not slow.
    pub passed: u16,
    /// Probes that failed (and, under `AllSucceed`, that were slow).
    pub failed: u16,
    /// Probes that were slow (when the slow rule is on).
    pub slow: u16,
}

/// What the probes say after one of them settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Wait,
    Close,
    Reopen,
}

impl Probes {
    /// Takes a slot if one is left out of `limit`.
    pub fn admit(&mut self, limit: u16) -> bool {
        if self.admitted >= limit {
            return false;
        }
        self.admitted += 1;
        self.in_flight += 1;
        true
    }

    /// Gives a slot back (cancelled or ignored probe).
    pub fn give_back(&mut self) {
        if self.in_flight > 0 {
            self.in_flight -= 1;
            self.admitted = self.admitted.saturating_sub(1);
        }
    }

    /// Settles one probe and judges the period.
    pub fn settle(&mut self, bad: bool, slow: bool, rules: &Rules) -> Verdict {
        self.settle_tolerating(bad, slow, rules, 0)
    }

    /// [`settle`](Self::settle), with `tolerated` failed probes allowed
    /// under [`HalfOpenRule::AllSucceed`] (see [`verdict_tolerating`](Self::verdict_tolerating)).
    pub fn settle_tolerating(
        &mut self,
        bad: bool,
        slow: bool,
        rules: &Rules,
        tolerated: u16,
    ) -> Verdict {
        if self.in_flight == 0 {
            return Verdict::Wait;
        }
        self.in_flight -= 1;
        match rules.half_open_rule {
            HalfOpenRule::AllSucceed if bad || slow => self.failed += 1,
            HalfOpenRule::AllSucceed => self.passed += 1,
            HalfOpenRule::Rates => {
                if bad {
                    self.failed += 1;
                } else {
                    self.passed += 1;
                }
                if slow {
                    self.slow += 1;
                }
            }
        }
        self.verdict_tolerating(rules, tolerated)
    }

    /// What the settled probes say so far. A pure function of the counts,
    /// so a shared breaker can judge a period from its state word alone.
    pub fn verdict(&self, rules: &Rules) -> Verdict {
        self.verdict_tolerating(rules, 0)
    }

    /// [`verdict`](Self::verdict) with `tolerated` failed probes allowed
    /// under [`HalfOpenRule::AllSucceed`]: it reopens once more than
    /// `tolerated` probes failed, and closes once every slot has settled
    /// with no more than that (0: the first failure reopens, every probe
    /// must pass: the rule as documented).
    pub fn verdict_tolerating(&self, rules: &Rules, tolerated: u16) -> Verdict {
        let limit = rules.half_open_probes;
        match rules.half_open_rule {
            HalfOpenRule::AllSucceed if self.failed > tolerated => Verdict::Reopen,
            HalfOpenRule::AllSucceed if self.passed as u32 + self.failed as u32 >= limit as u32 => {
                Verdict::Close
            }
            HalfOpenRule::AllSucceed => Verdict::Wait,
            HalfOpenRule::Rates => {
                let done = self.passed as u32 + self.failed as u32;
                if done < limit as u32 {
                    Verdict::Wait
                } else if rules.failure_rate_trips(self.failed.into(), done)
                    || rules.slow_rate_trips(self.slow.into(), done)
                {
                    Verdict::Reopen
                } else {
                    Verdict::Close
                }
            }
        }
    }
}
