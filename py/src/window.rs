//! The breaker's window, sized at run time.
//!
//! Both shapes are the core's, picked per breaker through its `Sliding`:
//! the count window is `CountRing` over a boxed slice sized once from
//! `window_size`, the time window `TimeWindow`, whose bucket count is a
//! run-time value up to `MAX_BUCKETS`.

use fusewire::{CountRing, Sliding, TimeWindow};

/// The count window: the core's ring over a slice sized at run time.
pub type CountWindow = CountRing<Box<[u8]>>;

/// Most buckets a time window may have.
pub const MAX_BUCKETS: usize = 64;

/// The window a Python breaker runs on.
pub type AnyWindow = Sliding<CountWindow, TimeWindow<MAX_BUCKETS, 0>>;
