//! Where fusewire's state lives when several processes share one policy.
//!
//! - the **host tier**: a named shared-memory region that holds the core's
//!   lock-free `repr(C)` shared forms, for workers on one machine;
//! - the **fleet tier**: the Redis scripts that apply the core's rules
//!   server-side, one atomic script per decision, for many hosts.
//!
//! The Python and Node doors open both through `HostStore` and
//! `RedisStore`; the design (region layout, key layout, scripts, leases,
//! failure policy) is written down in this crate's README.
#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod config;
pub mod redis;
// Shared memory (mmap, shm_open) has no WebAssembly form: the Node door's
// wasm32-wasip1-threads fallback builds without the host tier (issue #20).
#[cfg(not(target_family = "wasm"))]
pub mod shm;
