//! The rule that a permit counts once. A Rust permit is moved into
//! `record` or `release`, so the type system already allows one hand-back;
//! a permit turned into an integer for a host language
//! (`Breaker::permit_into_raw`) could be handed back twice or made up, so
//! it gets a ticket there, and the breaker remembers which of the last
//! [`Tickets::EXACT`] tickets are still out, and how many older ones are.
//! Native permits carry [`UNTRACKED`] and cost the hot path one compare.
//!
//! ```text
//! issue:  ticket = next; next += 1 (mod 2^20); the oldest tracked bit
//!         shifts out of `out` into the `older` count
//! settle: age = next - 1 - ticket (mod 2^20)
//!         age < 32:  its bit must be set  -> clear it, accepted
//!         else:      older must be > 0    -> older -= 1, accepted
//!         otherwise (settled already, forged, never issued): refused
//! ```
//!
//! Exact for the last 32 permits handed out; beyond that a count: as many
//! late records are accepted as older permits are still out. A permit that
//! is never settled (lost) keeps one unit of `older` for good, which only
//! loosens that count. 12 bytes a breaker, no storage per permit.

/// Ticket numbers are 20 bits, so a permit fits a JavaScript number.
pub(crate) const TICKET_BITS: u32 = 20;
pub(crate) const TICKET_MASK: u32 = (1 << TICKET_BITS) - 1;
/// The ticket of a permit that was never issued (a forged raw value).
pub(crate) const NO_TICKET: u32 = u32::MAX;
/// The ticket of a native permit, never turned into an integer: moved, so
/// handed back once by construction, and not tracked.
pub(crate) const UNTRACKED: u32 = u32::MAX - 1;

/// Which permits are still out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub(crate) struct Tickets {
    /// The next ticket to hand out (20 bits).
    next: u32,
    /// Bit `i`: ticket `next - 1 - i` is still out.
    out: u32,
    /// Permits older than the last 32 that are still out.
    older: u32,
}

impl Tickets {
    /// How many of the latest permits are tracked one by one.
    pub const EXACT: u32 = u32::BITS;

    pub const fn new() -> Self {
        Self {
            next: 0,
            out: 0,
            older: 0,
        }
    }

    /// Hands out a ticket.
    #[inline]
    pub fn issue(&mut self) -> u32 {
        let t = self.next;
        self.next = t.wrapping_add(1) & TICKET_MASK;
        // Wrapping: 2^32 permits lost for good would be needed to wrap it.
        self.older = self.older.wrapping_add(self.out >> (Self::EXACT - 1));
        self.out = self.out << 1 | 1;
        t
    }

    /// Takes a ticket back; `false` if it is not out (settled already,
    /// forged or never issued), and then nothing changes.
    #[inline]
    pub fn settle(&mut self, ticket: u32) -> bool {
        if ticket > TICKET_MASK {
            return false;
        }
        let age = self.next.wrapping_sub(ticket).wrapping_sub(1) & TICKET_MASK;
        if age < Self::EXACT {
            let was_out = self.out & (1 << age);
            self.out ^= was_out;
            was_out != 0
        } else if self.older > 0 {
            self.older -= 1;
            true
        } else {
            false
        }
    }

    /// Permits handed out and not settled (lost ones included).
    pub fn outstanding(&self) -> u32 {
        self.out.count_ones().saturating_add(self.older)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::proptest_config;
    use proptest::prelude::*;

    #[test]
    fn a_ticket_settles_once() {
        let mut t = Tickets::new();
        let a = t.issue();
        let b = t.issue();
        assert!(t.settle(a));
        assert!(!t.settle(a), "second settle of the same ticket");
        assert!(t.settle(b));
        assert!(!t.settle(NO_TICKET));
        assert!(!t.settle(12345), "never issued");
        assert_eq!(t.outstanding(), 0);
    }

    #[test]
    fn older_permits_are_counted() {
        let mut t = Tickets::new();
        let first = t.issue();
        let rest: [u32; 40] = core::array::from_fn(|_| t.issue());
        assert_eq!(t.outstanding(), 41);
        assert!(t.settle(first), "older than the exact window, counted");
        for r in rest {
            assert!(t.settle(r));
        }
        assert_eq!(t.outstanding(), 0);
        assert!(!t.settle(first), "nothing older is out any more");
    }

    proptest! {
        #![proptest_config(proptest_config())]
        /// Against a model that remembers every ticket: within the last 32
        /// tickets, exactly the tickets out are accepted, each once.
        #[test]
        fn matches_a_set_within_the_exact_window(ops in proptest::collection::vec((any::<bool>(), 0usize..40), 0..400)) {
            let mut t = Tickets::new();
            let mut issued: std::vec::Vec<u32> = std::vec::Vec::new();
            let mut out: std::collections::BTreeSet<u32> = Default::default();
            let (mut issues, mut accepted) = (0u32, 0u32);
            for (issue, pick) in ops {
                if issue && issues < Tickets::EXACT {
                    let k = t.issue();
                    issued.push(k);
                    out.insert(k);
                    issues += 1;
                } else if !issued.is_empty() {
                    let k = issued[pick % issued.len()];
                    let ok = t.settle(k);
                    prop_assert_eq!(ok, out.remove(&k));
                    accepted += ok as u32;
                }
                prop_assert!(accepted <= issues);
                prop_assert_eq!(t.outstanding() as usize, out.len());
            }
        }

        /// However many are out and whatever is settled (twice, forged),
        /// no more settles are accepted than tickets were issued.
        #[test]
        fn never_accepts_more_than_issued(ops in proptest::collection::vec((0u8..3, any::<u32>()), 0..600)) {
            let mut t = Tickets::new();
            let mut issued: std::vec::Vec<u32> = std::vec::Vec::new();
            let mut accepted = 0usize;
            for (op, x) in ops {
                match op {
                    0 => issued.push(t.issue()),
                    1 if !issued.is_empty() => accepted += t.settle(issued[x as usize % issued.len()]) as usize,
                    _ => accepted += t.settle(x) as usize,
                }
                prop_assert!(accepted <= issued.len());
            }
        }
    }
}
