//! Breaker over a time window (up to 8 buckets, 16 latency bins), against the
//! reference model; window shapes valid or not.
#![no_main]

use fusewire::{Problem, TimeWindow};
use fusewire_fuzz::breaker_model::{run, Input};
use fusewire_fuzz::{check_config, TimeShadow};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| {
    let span = input.span.get();
    let buckets = usize::from(input.buckets % 10);
    let want = if buckets == 0 {
        Some(("buckets", Problem::Zero))
    } else if buckets > 8 {
        Some(("buckets", Problem::OutOfRange))
    } else if span == 0 {
        Some(("span", Problem::Zero))
    } else if span < buckets as u64 {
        Some(("span", Problem::Inconsistent))
    } else {
        None
    };
    let Some(window) = check_config(TimeWindow::<8, 16>::new(span, buckets), want) else {
        return;
    };
    let Some(config) = input.config.build() else {
        return;
    };
    run(config, window, TimeShadow::new(span, buckets), &input.ops);
});
