//! Chaos: deciding, per call, whether to inject a fault, a delay, a
//! substituted outcome or a host-defined behaviour, so a service's
//! resilience can be tested on purpose (Chaos Monkey's idea, Polly's Simmy
//! strategies as the anchor).
//!
//! Every decision is a pure function of `(seed, call index)`:
//!
//! ```text
//! r = Rng::new(seed + index * 0xD1B54A32D192ED03)        four draws, always
//! fault      = r.below(1_000_000) < fault_rate            (millionths)
//! delay      = r.below(1_000_000) < latency_rate ?  r.between(latency_min, latency_max) : 0
//!              (the between draw is taken either way, so draws stay in step)
//! substitute = r.below(1_000_000) < substitute_rate
//! behavior   = r.below(1_000_000) < behavior_rate
//! outcome    = Fault if fault, else Substitute if substitute, else Pass
//! ```
//!
//! so a failing chaos run is replayed exactly from its seed, in every door
//! and whatever the thread interleaving: the host may pass its own index (a
//! request number), or let the policy count calls. Switched off, a decision
//! is one load and a branch, and the call index does not move.

use crate::error::{ConfigError, ConfigResult, Field, Problem};
use crate::ratio::Ratio;
use crate::rng::Rng;

/// What to inject, as the host asks for it before a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct ChaosConfig {
    /// Share of calls that fail with the host's injected error. Default 0.
    pub fault_rate: Ratio,
    /// Share of calls delayed before they run. Default 0.
    pub latency_rate: Ratio,
    /// Shortest injected delay, in ticks.
    pub latency_min: u64,
    /// Longest injected delay, in ticks (`latency_min..=latency_max`,
    /// uniform); must be non-zero when `latency_rate` is.
    pub latency_max: u64,
    /// Share of calls whose outcome the host replaces with its substitute
    /// (a canned response) instead of running them. Default 0.
    pub substitute_rate: Ratio,
    /// Share of calls before which the host runs its chaos behaviour (a
    /// side effect: drop a connection, fill a disk). Default 0.
    pub behavior_rate: Ratio,
    /// The seed every decision is drawn from.
    pub seed: u64,
    /// Whether injection starts on (it can change at run time). Default false:
    /// chaos is turned on on purpose.
    pub enabled: bool,
}

impl ChaosConfig {
    /// Nothing injected, switched off.
    pub const OFF: Self = Self {
        fault_rate: Ratio::ZERO,
        latency_rate: Ratio::ZERO,
        latency_min: 0,
        latency_max: 0,
        substitute_rate: Ratio::ZERO,
        behavior_rate: Ratio::ZERO,
        seed: 0,
        enabled: false,
    };

    /// Checks the config. Errors: a rate above 100 % (`out_of_range` on
    /// that rate); `latency_max` below `latency_min` (`latency_max`,
    /// `inconsistent`); a latency rate with `latency_max` 0 (`latency_max`,
    /// `required`).
    pub const fn validate(self) -> ConfigResult<Self> {
        let rates = [
            (Field::FaultRate, self.fault_rate),
            (Field::LatencyRate, self.latency_rate),
            (Field::SubstituteRate, self.substitute_rate),
            (Field::BehaviorRate, self.behavior_rate),
        ];
        let mut i = 0;
        while i < rates.len() {
            if !rates[i].1.is_valid() {
                return Err(ConfigError::of(rates[i].0, Problem::OutOfRange));
            }
            i += 1;
        }
        if self.latency_max < self.latency_min {
            return Err(ConfigError::of(Field::LatencyMax, Problem::Inconsistent));
        }
        if self.latency_rate.ppm() > 0 && self.latency_max == 0 {
            return Err(ConfigError::of(Field::LatencyMax, Problem::Required));
        }
        Ok(self)
    }

    /// The injection for call `index`: a pure function of the config's
    /// rates and seed and of `index` (whether chaos is on is the caller's
    /// business: [`Chaos`] checks it).
    pub fn decide(&self, index: u64) -> Injection {
        let mut r = Rng::new(
            self.seed
                .wrapping_add(index.wrapping_mul(0xD1B5_4A32_D192_ED03)),
        );
        let hit =
            |r: &mut Rng, rate: Ratio| r.below(u64::from(Ratio::ONE_PPM)) < u64::from(rate.ppm());
        let fault = hit(&mut r, self.fault_rate);
        let delayed = hit(&mut r, self.latency_rate);
        let delay = r.between(self.latency_min, self.latency_max);
        let substitute = hit(&mut r, self.substitute_rate);
        let behavior = hit(&mut r, self.behavior_rate);
        Injection {
            delay: if delayed { delay } else { 0 },
            outcome: if fault {
                ChaosOutcome::Fault
            } else if substitute {
                ChaosOutcome::Substitute
            } else {
                ChaosOutcome::Pass
            },
            behavior,
        }
    }
}

/// What happens to the call itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ChaosOutcome {
    /// Run the call as usual.
    Pass = 0,
    /// Do not run it: fail with the host's injected error.
    Fault = 1,
    /// Do not run it: answer with the host's substitute result.
    Substitute = 2,
}

/// One call's injection: wait `delay` ticks first (0: none), run the host's
/// behaviour if `behavior`, then pass, fail or substitute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Injection {
    /// Ticks to wait before the call (0: no delay).
    pub delay: u64,
    /// What happens to the call.
    pub outcome: ChaosOutcome,
    /// Whether to run the host's chaos behaviour before the call.
    pub behavior: bool,
}

impl Injection {
    /// Nothing injected.
    pub const NONE: Self = Self {
        delay: 0,
        outcome: ChaosOutcome::Pass,
        behavior: false,
    };

    /// Whether anything is injected.
    pub const fn is_none(&self) -> bool {
        self.delay == 0 && matches!(self.outcome, ChaosOutcome::Pass) && !self.behavior
    }
}

/// A chaos policy that counts its own calls (single owner). The shared form
/// is [`SharedChaos`](crate::shared::SharedChaos).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Chaos {
    config: ChaosConfig,
    calls: u64,
}

impl Chaos {
    /// A chaos policy, validating `config`.
    pub const fn new(config: ChaosConfig) -> ConfigResult<Self> {
        match config.validate() {
            Ok(config) => Ok(Self { config, calls: 0 }),
            Err(e) => Err(e),
        }
    }

    /// The next call's injection; [`Injection::NONE`] while switched off
    /// (and the call index does not move, so turning chaos back on resumes
    /// the same sequence).
    #[inline]
    pub fn inject(&mut self) -> Injection {
        if !self.config.enabled {
            return Injection::NONE;
        }
        let i = self.calls;
        self.calls = i.wrapping_add(1);
        self.config.decide(i)
    }

    /// The injection for call `index`, if switched on (the host numbers
    /// the calls: a request id, for replay across threads and processes).
    #[inline]
    pub fn decide(&self, index: u64) -> Injection {
        if self.config.enabled {
            self.config.decide(index)
        } else {
            Injection::NONE
        }
    }

    /// Switches injection on or off at run time.
    pub fn set_enabled(&mut self, on: bool) {
        self.config.enabled = on;
    }

    /// Whether injection is on.
    pub const fn enabled(&self) -> bool {
        self.config.enabled
    }

    /// Replaces the rates (and seed) at run time; a bad config changes
    /// nothing. The call count is kept.
    pub fn set_config(&mut self, config: ChaosConfig) -> ConfigResult<()> {
        self.config = config.validate()?;
        Ok(())
    }

    /// The config.
    pub const fn config(&self) -> ChaosConfig {
        self.config
    }

    /// Calls decided while switched on.
    pub const fn calls(&self) -> u64 {
        self.calls
    }
}

/// A door keeping a `Chaos` in foreign memory: its one `bool` (`enabled`)
/// must be 0 or 1; every other byte is a rate, a bound, a seed or a count,
/// which a stray write makes wrong but never unsafe (`Rng::between` takes
/// any bounds, a rate above 100 % only always hits).
impl crate::intact::Intact for Chaos {
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        use core::mem::offset_of;
        crate::intact::below(
            read,
            at + offset_of!(Self, config) + offset_of!(ChaosConfig, enabled),
            2,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(fault: u32, latency: u32, substitute: u32) -> ChaosConfig {
        ChaosConfig {
            fault_rate: Ratio::percent(fault),
            latency_rate: Ratio::percent(latency),
            latency_min: 10,
            latency_max: 50,
            substitute_rate: Ratio::percent(substitute),
            seed: 42,
            enabled: true,
            ..ChaosConfig::OFF
        }
    }

    #[test]
    fn rates_are_kept_over_many_calls() {
        let mut c = Chaos::new(on(10, 30, 20)).unwrap();
        let (mut faults, mut delays, mut subs) = (0, 0, 0);
        for _ in 0..100_000 {
            let i = c.inject();
            faults += (i.outcome == ChaosOutcome::Fault) as u32;
            subs += (i.outcome == ChaosOutcome::Substitute) as u32;
            if i.delay > 0 {
                assert!((10..=50).contains(&i.delay));
                delays += 1;
            }
        }
        // 10 % faults; substitutes only where no fault: 90 % of 20 %.
        assert!((9_500..10_500).contains(&faults), "{faults}");
        assert!((29_000..31_000).contains(&delays), "{delays}");
        assert!((17_400..18_600).contains(&subs), "{subs}");
    }

    #[test]
    fn decisions_replay_from_the_seed_and_index() {
        let mut a = Chaos::new(on(50, 50, 50)).unwrap();
        let b = Chaos::new(on(50, 50, 50)).unwrap();
        let run: [Injection; 64] = core::array::from_fn(|_| a.inject());
        for (i, want) in run.iter().enumerate().rev() {
            assert_eq!(b.decide(i as u64), *want, "out of order, same answer");
        }
        let other = Chaos::new(ChaosConfig {
            seed: 43,
            ..on(50, 50, 50)
        })
        .unwrap();
        assert!((0..64).any(|i| other.decide(i) != run[i as usize]));
    }

    #[test]
    fn off_injects_nothing_and_keeps_the_sequence() {
        let mut c = Chaos::new(on(100, 0, 0)).unwrap();
        assert_eq!(c.inject().outcome, ChaosOutcome::Fault);
        c.set_enabled(false);
        assert!(c.inject().is_none());
        assert!(c.decide(5).is_none());
        assert_eq!(c.calls(), 1);
        c.set_enabled(true);
        assert_eq!(c.inject(), c.config().decide(1));
        assert!(Chaos::new(ChaosConfig::OFF)
            .unwrap()
            .clone()
            .inject()
            .is_none());
    }

    #[test]
    fn bad_configs_name_the_field() {
        let e = Chaos::new(ChaosConfig {
            fault_rate: Ratio::percent(101),
            ..ChaosConfig::OFF
        })
        .unwrap_err();
        assert_eq!((e.field, e.problem), ("fault_rate", Problem::OutOfRange));
        let e = Chaos::new(ChaosConfig {
            latency_min: 5,
            latency_max: 4,
            ..ChaosConfig::OFF
        })
        .unwrap_err();
        assert_eq!((e.field, e.problem), ("latency_max", Problem::Inconsistent));
        let e = Chaos::new(ChaosConfig {
            latency_rate: Ratio::percent(1),
            ..ChaosConfig::OFF
        })
        .unwrap_err();
        assert_eq!((e.field, e.problem), ("latency_max", Problem::Required));
        let mut c = Chaos::new(on(1, 1, 1)).unwrap();
        assert!(c
            .set_config(ChaosConfig {
                behavior_rate: Ratio::from_ppm(2_000_000),
                ..ChaosConfig::OFF
            })
            .is_err());
        assert_eq!(c.config(), on(1, 1, 1));
    }
}
