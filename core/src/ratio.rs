//! A share of one, in millionths: how the core keeps every rate, so its
//! decisions are integer compares on every target (no soft float on
//! Cortex-M0).

/// A share of one in millionths (`Ratio::from_ppm(500_000)` is 50 %).
///
/// The core's rates ([`BreakerConfig::failure_rate`](crate::BreakerConfig::failure_rate),
/// `slow_call_rate`) are `Ratio`s. Doors convert their familiar units once,
/// at construction: [`Ratio::percent`] for whole percentages in `const`
/// configs, [`Ratio::from_percent`] for a host's floating-point percentage
/// (only a host that calls it links any float code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Ratio(u32);

impl Ratio {
    /// Millionths in one whole.
    pub const ONE_PPM: u32 = 1_000_000;
    /// 0 %.
    pub const ZERO: Self = Self(0);
    /// 100 %.
    pub const ONE: Self = Self(Self::ONE_PPM);

    /// `ppm` millionths. Values above [`Ratio::ONE_PPM`] are kept, and
    /// rejected as `out_of_range` by the config that receives them.
    pub const fn from_ppm(ppm: u32) -> Self {
        Self(ppm)
    }

    /// A whole percentage (`Ratio::percent(50)` is 500 000 ppm); saturates
    /// above `u32::MAX / 10_000` (and is then out of range for any config).
    pub const fn percent(p: u32) -> Self {
        Self(p.saturating_mul(10_000))
    }

    /// A floating-point percentage, rounded to the nearest millionth;
    /// `None` for NaN or outside `0.0..=100.0` (a door maps that to its own
    /// error naming its own option).
    pub fn from_percent(p: f64) -> Option<Self> {
        if p.is_nan() || !(0.0..=100.0).contains(&p) {
            return None;
        }
        // In range, so the product fits a u32 and the cast cannot saturate.
        Some(Self((p * 10_000.0 + 0.5) as u32))
    }

    /// The share in millionths.
    pub const fn ppm(self) -> u32 {
        self.0
    }

    /// The share as a percentage (for display and host round trips).
    pub fn as_percent(self) -> f64 {
        f64::from(self.0) / 10_000.0
    }

    /// Whether it is at most 100 %.
    pub const fn is_valid(self) -> bool {
        self.0 <= Self::ONE_PPM
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_become_millionths() {
        assert_eq!(Ratio::percent(50).ppm(), 500_000);
        assert_eq!(Ratio::from_percent(33.25), Some(Ratio::from_ppm(332_500)));
        assert_eq!(Ratio::from_percent(100.0), Some(Ratio::ONE));
        assert_eq!(Ratio::from_percent(0.0), Some(Ratio::ZERO));
        assert_eq!(Ratio::from_percent(f64::NAN), None);
        assert_eq!(Ratio::from_percent(-0.1), None);
        assert_eq!(Ratio::from_percent(100.01), None);
        assert_eq!(Ratio::from_percent(f64::INFINITY), None);
        assert!(!Ratio::percent(u32::MAX).is_valid());
        assert_eq!(Ratio::from_ppm(125_000).as_percent(), 12.5);
    }
}
