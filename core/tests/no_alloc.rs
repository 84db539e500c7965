//! The hot paths never touch the allocator: a counting global allocator
//! watches a run of every breaker operation. Only the test's own thread is
//! counted, so the harness allocating elsewhere cannot fail it.

use fusewire::{Breaker, BreakerConfig, CountWindow, Outcome, TimeWindow};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

thread_local! {
    static WATCHED: Cell<bool> = const { Cell::new(false) };
}

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if WATCHED.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn breaker_operations_do_not_allocate() {
    let config = BreakerConfig {
        min_calls: 2,
        ..BreakerConfig::new(fusewire::TickUnit::MILLIS)
    };
    let mut count: Breaker<CountWindow<16>> = Breaker::new(config).unwrap();
    let mut time =
        Breaker::with_window(config, TimeWindow::<10, 64>::new(1000, 10).unwrap()).unwrap();
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    WATCHED.with(|w| w.set(true));
    let mut now = 0u64;
    for i in 0..10_000u64 {
        now += 7;
        let outcome = if i % 3 == 0 {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        if let Ok(p) = count.try_acquire(now) {
            count.record(p, outcome, i % 50, now);
        }
        if let Ok(p) = time.try_acquire(now) {
            time.record(p, outcome, i % 50, now);
        }
        if i % 100 == 0 {
            let _ = time.snapshot(now);
            let _ = time.percentile(now, 990_000);
            let _ = count.poll(now);
        }
    }
    count.trip(now);
    count.reset(now);
    WATCHED.with(|w| w.set(false));
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(after - before, 0, "the breaker allocated");
}
