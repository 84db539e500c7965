//! The shared chaos policy: [`Chaos`](crate::Chaos)'s decisions with the
//! call counter and the on/off switch as atomics.

use super::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};
use crate::chaos::{ChaosConfig, Injection};
use crate::error::ConfigResult;

/// A chaos policy many threads share through `&self`. Each call takes the
/// next index with one atomic add, so the set of decisions over `n` calls is
/// exactly the single-owner form's, whoever races for which index; a host
/// that numbers its own calls ([`decide`](Self::decide)) gets the same
/// decision for the same number on any thread. Switched off: one load.
#[derive(Debug)]
#[repr(C)]
pub struct SharedChaos {
    calls: AtomicU64,
    enabled: AtomicU8,
    config: ChaosConfig,
}

impl SharedChaos {
    /// A shared chaos policy, validating `config`.
    pub fn new(config: ChaosConfig) -> ConfigResult<Self> {
        let config = config.validate()?;
        Ok(Self {
            calls: AtomicU64::new(0),
            enabled: AtomicU8::new(config.enabled.into()),
            config,
        })
    }

    /// The next call's injection ([`Injection::NONE`] while switched off).
    #[inline]
    pub fn inject(&self) -> Injection {
        if self.enabled.load(Relaxed) == 0 {
            return Injection::NONE;
        }
        self.config.decide(self.calls.fetch_add(1, Relaxed))
    }

    /// The injection for the host's call number `index`, if switched on.
    #[inline]
    pub fn decide(&self, index: u64) -> Injection {
        if self.enabled.load(Relaxed) == 0 {
            return Injection::NONE;
        }
        self.config.decide(index)
    }

    /// Switches injection on or off, for every thread at once.
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on.into(), Relaxed);
    }

    /// Whether injection is on.
    pub fn enabled(&self) -> bool {
        self.enabled.load(Relaxed) != 0
    }

    /// Calls decided while switched on.
    pub fn calls(&self) -> u64 {
        self.calls.load(Relaxed)
    }

    /// The rates and seed (`enabled` as it was at construction; see
    /// [`enabled`](Self::enabled) for now).
    pub const fn config(&self) -> ChaosConfig {
        self.config
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::{Chaos, Ratio};

    #[test]
    fn threads_draw_the_single_owner_decisions() {
        let config = ChaosConfig {
            fault_rate: Ratio::percent(30),
            seed: 9,
            enabled: true,
            ..ChaosConfig::OFF
        };
        let shared = SharedChaos::new(config).unwrap();
        let per = if cfg!(miri) { 8 } else { 500 };
        let mut got: std::vec::Vec<(u64, Injection)> = std::thread::scope(|s| {
            let hs: std::vec::Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        (0..per)
                            .map(|_| shared.inject())
                            .collect::<std::vec::Vec<_>>()
                    })
                })
                .collect();
            hs.into_iter()
                .flat_map(|h| h.join().unwrap())
                .map(|i| (0, i))
                .collect()
        });
        let mut single = Chaos::new(config).unwrap();
        let mut want: std::vec::Vec<(u64, Injection)> =
            (0..2 * per).map(|_| (0, single.inject())).collect();
        let key = |v: &(u64, Injection)| (v.1.outcome as u8, v.1.delay);
        got.sort_by_key(key);
        want.sort_by_key(key);
        assert_eq!(got, want, "the same multiset of decisions");
        shared.set_enabled(false);
        assert!(shared.inject().is_none());
        assert_eq!(shared.calls(), 2 * per);
    }
}
