//! Retry budget against its documented rule, kept in plain integers.
#![no_main]

use arbitrary::Arbitrary;
use fusewire::{Budget, Problem, Throttled};
use fusewire_fuzz::{check_config, Num};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    max_tokens: Num,
    ratio_milli: Num,
    ops: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let (max_tokens, ratio) = (input.max_tokens.get32(), input.ratio_milli.get32());
    let want = if max_tokens == 0 {
        Some(("max_tokens", Problem::Zero))
    } else if ratio == 0 {
        Some(("token_ratio_milli", Problem::Zero))
    } else if u64::from(ratio) > u64::from(max_tokens) * 1000 {
        Some(("token_ratio_milli", Problem::OutOfRange))
    } else {
        None
    };
    let Some(mut b) = check_config(Budget::new(max_tokens, ratio), want) else {
        return;
    };
    let max = i128::from(max_tokens) * 1000;
    let (mut tokens, mut throttled) = (max, 0u64);
    for op in input.ops {
        match op % 4 {
            0 => {
                b.record_success();
                tokens = (tokens + i128::from(ratio)).min(max);
            }
            1 => {
                b.record_failure();
                tokens = (tokens - 1000).max(0);
            }
            2 => {
                let got = b.try_retry();
                if tokens * 2 > max {
                    assert_eq!(got, Ok(()));
                } else {
                    throttled += 1;
                    assert_eq!(
                        got,
                        Err(Throttled {
                            tokens_milli: tokens as u64
                        })
                    );
                }
            }
            _ => assert_eq!(b.can_retry(), tokens * 2 > max),
        }
        assert_eq!(i128::from(b.tokens_milli()), tokens);
        assert!(b.tokens() <= b.max_tokens());
        assert_eq!(i128::from(b.tokens()), tokens / 1000);
        assert_eq!(b.max_tokens(), max_tokens);
        assert_eq!(b.throttled(), throttled);
    }
});
