//! Checking a value kept in foreign memory before using it.
//!
//! A door that keeps the core's objects in memory its host owns (the C
//! door's caller-owned structs) cannot stop the host from scribbling on
//! them. Most bytes of an object are plain integers, where a stray write
//! is a wrong count and nothing worse; a few are not: an enum tag or a
//! `bool` outside its values makes the code that matches on it jump
//! anywhere, and a zero divisor or an index past its array is a panic.
//! [`Intact`] names exactly those bytes, by their `repr(C)` offsets, so a
//! door can check them (a few byte loads and compares) before it forms a
//! reference to the object, and report a corrupted object instead of
//! crashing.
//!
//! The check reads through a closure, so this crate stays free of
//! `unsafe`: the door supplies `read(offset)`, the byte at that offset
//! from the start of the value. Only bytes of initialised fields are read
//! (never padding), and only fields no method changes after construction
//! or that only the owner writes, so a door may run it on a shared form
//! while other threads use it.

/// A value whose every byte pattern the core cannot run on: the fields
/// that must hold one of a few values (enum tags, `bool`s), must not be
/// zero (divisors, `NonZero*`) or must stay below a bound (indices).
pub trait Intact {
    /// Whether the value whose first byte is at offset `at` (bytes read
    /// with `read(offset)`) has every such field in range. `true` says the
    /// core's code is safe to run on it, not that the counts in it are
    /// the ones the host last saw.
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool;
}

/// The byte at `at` is below `n` (an enum tag with `n` variants numbered
/// from 0, or a `bool` with `n = 2`).
#[inline(always)]
pub(crate) fn below(read: &impl Fn(usize) -> u8, at: usize, n: u8) -> bool {
    read(at) < n
}

/// Some byte of the `len`-byte integer at `at` is not zero.
#[inline(always)]
pub(crate) fn nonzero(read: &impl Fn(usize) -> u8, at: usize, len: usize) -> bool {
    let mut any = 0;
    let mut i = 0;
    while i < len {
        any |= read(at + i);
        i += 1;
    }
    any != 0
}

/// The native-endian `u32` at `at`.
#[inline(always)]
pub(crate) fn u32_at(read: &impl Fn(usize) -> u8, at: usize) -> u32 {
    u32::from_ne_bytes([read(at), read(at + 1), read(at + 2), read(at + 3)])
}

/// The native-endian `u16` at `at`.
#[inline(always)]
pub(crate) fn u16_at(read: &impl Fn(usize) -> u8, at: usize) -> u16 {
    u16::from_ne_bytes([read(at), read(at + 1)])
}

/// How many variants a field-less enum has, checked against an exhaustive
/// match so that adding a variant without updating the count fails to
/// compile: `variants!(State: Closed, Open, HalfOpen, ForcedOpen, Disabled)`.
macro_rules! variants {
    ($t:ident: $($v:ident),+ $(,)?) => {{
        const fn exhaustive(x: $t) -> u8 {
            match x { $($t::$v)|+ => 0 }
        }
        let _ = exhaustive;
        [$($t::$v as u8),+].len() as u8
    }};
}
pub(crate) use variants;
