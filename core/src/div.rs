//! Division of 64-bit and wider values by a 32-bit divisor, on 32-bit
//! operations only.
//!
//! A `u64 / u64` on a 32-bit microcontroller links compiler-builtins'
//! general 64-bit division (864 bytes on thumbv7em). Every divisor the
//! crate's firmware paths divide by fits in 32 bits (a rate's token count,
//! a gcd of it, 100), so long division in 32-bit digits suffices: each
//! digit is one [`step`], Hacker's Delight's `divlu` (Warren, 2nd ed.,
//! section 9-4), which estimates from the top 16 bits of the normalised
//! divisor with the hardware's 32-bit divide and corrects at most twice.

/// `(r * 2^32 + limb) / d` and its remainder, for `r < d` (so the quotient
/// fits in 32 bits); `d` must not be 0.
pub(crate) const fn step(r: u32, limb: u32, d: u32) -> (u32, u32) {
    // Normalise: the divisor's top bit set. `r < d` keeps `r << s` in 32 bits.
    let s = d.leading_zeros();
    let v = d << s;
    let u = ((r as u64) << 32 | limb as u64) << s;
    let (u_hi, u_lo) = ((u >> 32) as u32, u as u32);
    // v's top bit is set, so the OR changes nothing; it shows the compiler
    // that `v1 != 0`, and no division-by-zero panic is linked.
    let (v1, v0) = (v >> 16 | 1 << 15, v & 0xFFFF);
    let q1 = digit(u_hi, u_lo >> 16, v1, v0);
    // The partial remainder is below `v`, so the wrapped arithmetic is exact.
    let rem = (u_hi << 16 | u_lo >> 16).wrapping_sub(q1.wrapping_mul(v));
    let q0 = digit(rem, u_lo & 0xFFFF, v1, v0);
    let rem = (rem << 16 | u_lo & 0xFFFF).wrapping_sub(q0.wrapping_mul(v));
    (q1 << 16 | q0, rem >> s)
}

/// One 16-bit quotient digit of `(top * 2^16 + next) / (v1 * 2^16 + v0)`,
/// where the divisor is normalised (`v1 >= 2^15`) and the quotient is
/// below `2^16`: estimated as `top / v1`, then corrected down (`divlu`'s
/// `again` loops; the estimate is at most 2 too high).
const fn digit(top: u32, next: u32, v1: u32, v0: u32) -> u32 {
    let mut q = top / v1;
    let mut rhat = top - q * v1;
    // `q < 2^16` is tested first, so `q * v0` cannot overflow; `rhat < 2^16`
    // keeps `rhat << 16 | next` exact.
    while q >= 1 << 16 || q * v0 > (rhat << 16 | next) {
        q -= 1;
        rhat += v1;
        if rhat >= 1 << 16 {
            break;
        }
    }
    q
}

/// `x / d` and `x % d`; `d` must not be 0.
pub(crate) const fn div_rem(x: u64, d: u32) -> (u64, u32) {
    let (q1, r) = step(0, (x >> 32) as u32, d);
    let (q0, r) = step(r, x as u32, d);
    ((q1 as u64) << 32 | q0 as u64, r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Divisors from 1 to `u32::MAX`, with the normalisation edges.
    fn divisor() -> impl Strategy<Value = u32> {
        prop_oneof![
            1u32..300,
            1u32..1 << 16,
            (1u32 << 15)..(1 << 17),
            1u32..=u32::MAX,
            (u32::MAX - 300)..=u32::MAX,
            (0u32..32).prop_map(|k| 1 << k),
        ]
    }

    fn limb() -> impl Strategy<Value = u32> {
        prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()]
    }

    fn check_step(r: u32, limb: u32, d: u32) {
        let x = u64::from(r) << 32 | u64::from(limb);
        let want = ((x / u64::from(d)) as u32, (x % u64::from(d)) as u32);
        assert_eq!(step(r, limb, d), want, "{r} {limb} {d}");
    }

    #[test]
    fn step_extremes_equal_the_64_bit_division() {
        for d in [
            1,
            2,
            3,
            0xFFFF,
            0x1_0000,
            0x1_0001,
            0x8000_0000,
            0x8000_0001,
            u32::MAX,
        ] {
            for r in [0, 1, d / 2, d - 1] {
                for limb in [0, 1, 0xFFFF, 0x1_0000, 0x8000_0000, u32::MAX] {
                    if r < d {
                        check_step(r, limb, d);
                    }
                }
            }
        }
    }

    #[test]
    fn div_rem_extremes_equal_the_64_bit_division() {
        for d in [
            1,
            2,
            3,
            7,
            100,
            1000,
            0xFFFF,
            0x1_0000,
            0x8000_0000,
            u32::MAX,
        ] {
            for x in [
                0,
                1,
                99,
                100,
                u64::from(d),
                u64::from(u32::MAX),
                1 << 32,
                u64::MAX,
            ] {
                let want = (x / u64::from(d), (x % u64::from(d)) as u32);
                assert_eq!(div_rem(x, d), want, "{x} {d}");
            }
        }
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config())]
        #[test]
        fn step_equals_the_64_bit_division(d in divisor(), r in any::<u32>(), limb in limb()) {
            // Any remainder below d, the top one included.
            let r = if r % 4 == 0 { d - 1 } else { r % d };
            check_step(r, limb, d);
        }

        #[test]
        fn div_rem_equals_the_64_bit_division(
            d in divisor(),
            x in prop_oneof![0u64..1 << 32, any::<u64>(), (u64::MAX - 1000)..=u64::MAX],
        ) {
            let want = (x / u64::from(d), (x % u64::from(d)) as u32);
            prop_assert_eq!(div_rem(x, d), want);
        }
    }
}
