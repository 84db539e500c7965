//! The seeded pseudo-random generator behind every jitter in the crate.
//!
//! fusewire never asks the platform for randomness: each instance that needs
//! it owns an [`Rng`] seeded from its config, so a run is reproducible and the
//! same seed gives the same sequence on every platform and in every binding.
//!
//! The generator is SplitMix64 (Steele, Lea, Flood, 2014), exactly:
//!
//! ```text
//! state = state + 0x9E3779B97F4A7C15            (wrapping)
//! z = state
//! z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9      (wrapping)
//! z = (z ^ (z >> 27)) * 0x94D049BB133111EB      (wrapping)
//! return z ^ (z >> 31)
//! ```
//!
//! A value uniform in `[0, n)` is taken with Lemire's multiply-shift:
//! `(next() as u128 * n as u128) >> 64`. No rejection loop, so every draw costs
//! exactly one step of the generator (the bias is below 2^-64 * n).

/// SplitMix64: 8 bytes of state, one `u64` per step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose first output is a function of `seed` alone.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value uniform in `[0, n)`; `0` when `n == 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// A value uniform in `[lo, hi]` (inclusive); `lo` when `hi <= lo`.
    /// Always exactly one generator step, even when the range holds one
    /// value, so a jittered sequence stays in step whatever its bounds.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        // `below(span + 1)` without its two edge cases as branches (each
        // inlined another copy of `next_u64`): `x * span + x` is
        // `x * (span + 1)` even when `span + 1` is 2^64, and an empty range
        // (`hi <= lo`, span 0) gives `x >> 64 = 0`. The sum stays below 2^128.
        let x = self.next_u64();
        let span = hi.saturating_sub(lo);
        lo + ((u128::from(x) * u128::from(span) + u128::from(x)) >> 64) as u64
    }

    /// A new generator seeded from this one's next output (one step of
    /// this one): how a host seeds many operations from one draw of its
    /// entropy. Children of one parent differ from each other and from the
    /// parent's own later outputs' sequence (SplitMix64's seeding mix).
    #[must_use]
    pub fn split(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }

    /// The raw state, so a binding can save and restore a generator.
    pub const fn state(&self) -> u64 {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;
    use proptest::prelude::*;

    /// `between` as first written, kept as the reference the branch-free
    /// form must equal.
    fn between_reference(r: &mut Rng, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            r.next_u64();
            return lo;
        }
        let span = hi - lo;
        if span == u64::MAX {
            return r.next_u64();
        }
        lo + r.below(span + 1)
    }

    /// Bounds from 0 to `u64::MAX`, with the edges.
    fn bound() -> impl Strategy<Value = u64> {
        prop_oneof![
            0u64..100,
            any::<u64>(),
            (0u64..64).prop_map(|k| 1 << k),
            (u64::MAX - 100)..=u64::MAX,
            Just(0),
            Just(u64::MAX),
        ]
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config())]
        #[test]
        fn between_equals_the_branching_form(seed in any::<u64>(), lo in bound(), hi in bound()) {
            let (mut a, mut b) = (Rng::new(seed), Rng::new(seed));
            prop_assert_eq!(a.between(lo, hi), between_reference(&mut b, lo, hi));
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn between_extremes_equal_the_branching_form() {
        let edges = [
            0,
            1,
            2,
            u64::from(u32::MAX),
            1 << 32,
            u64::MAX - 1,
            u64::MAX,
        ];
        for seed in [0, 1, 0x5EED, u64::MAX] {
            for lo in edges {
                for hi in edges {
                    let (mut a, mut b) = (Rng::new(seed), Rng::new(seed));
                    for _ in 0..4 {
                        assert_eq!(a.between(lo, hi), between_reference(&mut b, lo, hi));
                    }
                    assert_eq!(a, b, "{seed} {lo} {hi}");
                }
            }
        }
    }

    #[test]
    fn matches_the_reference_splitmix64_sequence() {
        // Reference values for seed 1234567 from the public-domain C code.
        let mut r = Rng::new(1_234_567);
        assert_eq!(r.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(r.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(r.next_u64(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn split_children_are_seeded_by_one_parent_step() {
        let mut parent = Rng::new(99);
        let mut copy = parent;
        let mut a = parent.split();
        let mut b = parent.split();
        assert_eq!(a, Rng::new(copy.next_u64()));
        assert_eq!(b, Rng::new(copy.next_u64()));
        assert_eq!(parent, copy);
        assert_ne!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn between_stays_inside_bounds() {
        let mut r = Rng::new(7);
        for _ in 0..10_000 {
            let v = r.between(10, 20);
            assert!((10..=20).contains(&v));
        }
        let before = r;
        assert_eq!(r.between(5, 5), 5);
        assert_eq!(r.between(9, 3), 9);
        let mut stepped = before;
        stepped.next_u64();
        stepped.next_u64();
        assert_eq!(r, stepped, "one step per draw, even from a single value");
        assert_eq!(Rng::new(1).below(0), 0);
    }
}
