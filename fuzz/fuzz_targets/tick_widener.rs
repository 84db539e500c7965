//! The tick widener: never backwards, every forward step of less than 2^31
//! taken exactly (wraps included), the shared form equal to the single one.
#![no_main]

use arbitrary::Arbitrary;
use fusewire::{SharedTickWidener, TickWidener};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Read {
    /// The true tick moved forward this much (below 2^31) and is read.
    Ahead(u32),
    /// A stale reading: this much behind the true tick (as an interrupted
    /// main loop would pass).
    Stale(u32),
    /// Any raw value at all.
    Raw(u32),
}

#[derive(Arbitrary, Debug)]
struct Input {
    start: u32,
    reads: Vec<Read>,
}

fuzz_target!(|input: Input| {
    let mut single = TickWidener::new();
    let shared = SharedTickWidener::new();
    // The true time, in u64, and what it was widened to so far.
    let mut truth = u64::from(input.start);
    let mut widened = single.widen(input.start);
    assert_eq!(widened, truth, "the first reading is taken as is");
    assert_eq!(shared.widen(input.start), widened);
    // Whether the widened time still equals the truth (until a Raw read).
    let mut exact = true;
    for read in input.reads {
        let raw = match read {
            Read::Ahead(d) => {
                let d = d & 0x7FFF_FFFF;
                truth += u64::from(d);
                truth as u32
            }
            Read::Stale(d) => (truth as u32).wrapping_sub(d & 0x7FFF_FFFF),
            Read::Raw(r) => {
                exact = false;
                r
            }
        };
        let now = single.widen(raw);
        assert_eq!(shared.widen(raw), now, "shared and single forms differ");
        assert!(now >= widened, "time went back: {widened} -> {now}");
        assert!(
            now - widened < 1 << 31,
            "one reading moved time by 2^31 or more"
        );
        if now != widened {
            assert_eq!(now as u32, raw, "a forward step lands on the reading");
        }
        if exact {
            // Forward steps are exact; stale readings never move time.
            assert_eq!(now, truth, "lost track of the true time");
        }
        widened = now;
        assert_eq!(single.last(), Some(now));
        assert_eq!(shared.last(), Some(now));
    }
});
