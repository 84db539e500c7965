//! Token bucket (GCRA): tokens within the burst, exact retry-after, never
//! more granted over any stretch than `burst + rate * elapsed` (+ refunds)
//! while the clock goes back by less than a full refill, and, whatever
//! `now` does, no wait longer than refilling the burst plus the tokens
//! asked for (a regression re-anchors the bucket, `bucket.rs` docs).
#![no_main]

use core::num::NonZeroU32;

use arbitrary::Arbitrary;
use fusewire::{Bucket, Problem, Rate, Refused};
use fusewire_fuzz::{check_config, Num, Tick};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    Acquire(Num, Tick),
    AcquireOne(Tick),
    Refund(Num, Tick),
    SetRate(Num, Num, Tick),
    Available(Tick),
}

#[derive(Arbitrary, Debug)]
struct Input {
    burst: Num,
    tokens: Num,
    period: Num,
    ops: Vec<Op>,
}

fn rate_error(tokens: u32, period: u64) -> Option<(&'static str, Problem)> {
    if tokens == 0 {
        Some(("tokens", Problem::Zero))
    } else if period == 0 {
        Some(("period", Problem::Zero))
    } else {
        None
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Net tokens taken since the last rate change or the last regression by
/// more than a full refill: (now of the event, +granted or -refunded).
struct Ledger(Vec<(u64, i128)>);

/// Whether `now` is more than a full refill (`cap / N` ticks) behind the
/// newest time since the ledger started: the bucket may then re-anchor to
/// "empty now" and forget what it granted before.
fn far_behind(b: &Bucket, newest: u64, now: u64) -> bool {
    let cap = u128::from(b.burst().get()) * u128::from(b.rate().period());
    u128::from(newest.saturating_sub(now)) * u128::from(b.rate().tokens()) > cap
}

impl Ledger {
    /// Checks the grant just made at `now` against every earlier grant:
    /// net * P <= B * P + (now - now_i) * N, in sub-ticks.
    fn check(&self, b: &Bucket) {
        let (p, n, burst) = (
            i128::from(b.rate().period()),
            i128::from(b.rate().tokens()),
            i128::from(b.burst().get()),
        );
        let &(now, _) = self.0.last().unwrap();
        let mut net = 0i128;
        for &(t, k) in self.0.iter().rev() {
            net += k;
            if k > 0 {
                let elapsed = i128::from(now) - i128::from(t);
                assert!(
                    net * p <= burst * p + elapsed * n,
                    "granted {net} tokens between {t} and {now}"
                );
            }
        }
    }
}

fuzz_target!(|input: Input| {
    let Some(burst) = NonZeroU32::new(input.burst.get32()) else {
        return;
    };
    let (tokens, period) = (input.tokens.get32(), input.period.get());
    let Some(rate) = check_config(Rate::new(tokens, period), rate_error(tokens, period)) else {
        return;
    };
    let g = gcd(u64::from(tokens), period);
    assert_eq!(
        (rate.tokens(), rate.period()),
        ((u64::from(tokens) / g) as u32, period / g)
    );
    let mut b = Bucket::new(burst, rate);
    let mut ledger = Ledger(Vec::new());
    let mut now = 0u64;
    let mut newest = 0u64;
    assert_eq!(b.available(0), burst.get(), "a new bucket is full");
    for op in input.ops {
        let before = b;
        let op_now = match &op {
            Op::Acquire(_, t)
            | Op::AcquireOne(t)
            | Op::Refund(_, t)
            | Op::SetRate(_, _, t)
            | Op::Available(t) => t.apply(now),
        };
        if far_behind(&b, newest, op_now) {
            ledger.0.clear();
            newest = op_now;
        }
        newest = newest.max(op_now);
        match op {
            Op::Acquire(n, tick) => {
                now = tick.apply(now);
                let n = n.get32();
                let avail = b.available(now);
                let got = b.try_acquire(n, now);
                check_acquire(&before, &b, n, now, avail, got, &mut ledger);
            }
            Op::AcquireOne(tick) => {
                now = tick.apply(now);
                let avail = b.available(now);
                let got = b.try_acquire_one(now).map_err(Refused::Denied);
                check_acquire(&before, &b, 1, now, avail, got, &mut ledger);
            }
            Op::Refund(n, tick) => {
                now = tick.apply(now);
                let n = n.get32();
                let avail = b.available(now);
                b.refund(n, now);
                let after = b.available(now);
                assert!(after >= avail && u64::from(after) <= u64::from(avail) + u64::from(n));
                ledger.0.push((now, -i128::from(n)));
            }
            Op::SetRate(t, p, tick) => {
                now = tick.apply(now);
                let (t, p) = (t.get32(), p.get());
                let avail = b.available(now);
                if check_config(b.set_rate(t, p, now), rate_error(t, p)).is_some() {
                    assert_eq!(b.available(now), avail, "set_rate changed the fill level");
                    assert_eq!(b.rate(), Rate::new(t, p).unwrap());
                    ledger.0.clear();
                } else {
                    assert_eq!(b, before, "a refused set_rate changed the bucket");
                }
            }
            Op::Available(tick) => {
                now = tick.apply(now);
                assert_eq!(b, before);
            }
        }
        assert!(
            b.available(now) <= burst.get(),
            "more tokens than the burst"
        );
        assert_eq!(b.burst(), burst);
    }
});

fn check_acquire(
    before: &Bucket,
    b: &Bucket,
    n: u32,
    now: u64,
    avail: u32,
    got: Result<(), Refused>,
    ledger: &mut Ledger,
) {
    let burst = b.burst().get();
    if n == 0 {
        assert_eq!(got, Ok(()));
        assert_eq!(b, before, "taking 0 tokens changed the bucket");
        return;
    }
    if n > burst {
        assert_eq!(got, Err(Refused::ExceedsBurst { burst }));
        assert_eq!(b, before);
        return;
    }
    match got {
        Ok(()) => {
            assert!(avail >= n, "granted {n} with {avail} available");
            assert_eq!(b.available(now), avail - n);
            ledger.0.push((now, i128::from(n)));
            ledger.check(b);
        }
        Err(Refused::Denied(d)) => {
            assert!(avail < n, "denied {n} with {avail} available");
            if b != before {
                // Only a regression by more than a full refill re-anchors:
                // the bucket is then empty at `now`.
                assert_eq!(b.available(now), 0, "a denial changed the bucket");
            }
            let r = d.retry_after;
            assert!(r > 0);
            let (p, t) = (u128::from(b.rate().period()), u128::from(b.rate().tokens()));
            let refill = (u128::from(burst) * p + u128::from(n) * p).div_ceil(t);
            assert!(
                u128::from(r) <= refill,
                "wait {r} longer than a refill of {refill}"
            );
            if let Some(at) = now.checked_add(r).filter(|_| r < u64::MAX) {
                let mut later = *b;
                assert_eq!(
                    later.try_acquire(n, at),
                    Ok(()),
                    "retry_after {r} too short"
                );
                let mut sooner = *b;
                assert!(
                    sooner.try_acquire(n, at - 1).is_err(),
                    "retry_after {r} too long"
                );
            }
        }
        Err(e) => panic!("unexpected {e:?}"),
    }
}
