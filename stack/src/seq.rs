//! TCP sequence numbers: 32-bit counters compared modulo 2³² (RFC 9293 §3.4).
//!
//! > It is essential to remember that the actual sequence number space is
//! > finite, though very large. This space ranges from 0 to 2^32 - 1. Since
//! > the space is finite, all arithmetic dealing with sequence numbers must
//! > be performed modulo 2^32. (RFC 9293 §3.4)
//!
//! A [`SeqNumber`] makes that arithmetic a type: `+` and `-` wrap, and `<`
//! compares by the sign of the 32-bit difference, so a number just past
//! the wrap is above one just before it. Raw `u32` arithmetic on sequence
//! numbers cannot be written by mistake.

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A sequence or acknowledgment number (RFC 9293 §3.1, §3.4).
///
/// `a < b` when `b` lies less than 2³¹ ahead of `a`, that is when the
/// difference `a - b`, read as a signed 32-bit number, is negative. Two
/// numbers exactly 2³¹ apart are unordered (`partial_cmp` gives `None`):
/// RFC 1982 §3.2 leaves that comparison undefined, and either answer would
/// make `a < b` and `b < a` hold at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// `start <= self < end`, modulo 2³²: the window `[start, end)` is
    /// measured forward from `start`, so it may span the wrap.
    pub fn in_window(self, start: SeqNumber, end: SeqNumber) -> bool {
        self.0.wrapping_sub(start.0) < end.0.wrapping_sub(start.0)
    }
}

impl From<u32> for SeqNumber {
    fn from(n: u32) -> Self {
        SeqNumber(n)
    }
}

impl From<SeqNumber> for u32 {
    fn from(n: SeqNumber) -> u32 {
        n.0
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl PartialOrd for SeqNumber {
    fn partial_cmp(&self, other: &SeqNumber) -> Option<Ordering> {
        match *self - *other {
            i32::MIN => None,
            d => Some(d.cmp(&0)),
        }
    }
}

/// Octets forward, modulo 2³² (a length of at most 2³²−1 is meaningful).
impl Add<usize> for SeqNumber {
    type Output = SeqNumber;
    fn add(self, n: usize) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n as u32))
    }
}

impl AddAssign<usize> for SeqNumber {
    fn add_assign(&mut self, n: usize) {
        *self = *self + n;
    }
}

/// Forward or back by a signed offset, modulo 2³².
impl Add<i32> for SeqNumber {
    type Output = SeqNumber;
    fn add(self, n: i32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n as u32))
    }
}

/// Octets back, modulo 2³².
impl Sub<usize> for SeqNumber {
    type Output = SeqNumber;
    fn sub(self, n: usize) -> SeqNumber {
        SeqNumber(self.0.wrapping_sub(n as u32))
    }
}

/// The signed distance from `other` to `self`: positive when `self` is
/// ahead. Meaningful while the two are less than 2³¹ apart.
impl Sub<SeqNumber> for SeqNumber {
    type Output = i32;
    fn sub(self, other: SeqNumber) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;

    const TOP: SeqNumber = SeqNumber(u32::MAX);

    #[test]
    fn test_order_across_the_wrap() {
        assert!(TOP < SeqNumber(0));
        assert!(SeqNumber(0) > TOP);
        assert!(SeqNumber(4_294_967_000) < SeqNumber(5));
        assert!(TOP + 1usize == SeqNumber(0));
        assert_eq!(SeqNumber(0) - 1usize, TOP);
        assert_eq!(SeqNumber(3) - TOP, 4);
        assert_eq!(TOP - SeqNumber(3), -4);
        assert_eq!(SeqNumber(3) + -5, SeqNumber(u32::MAX - 1));
    }

    #[test]
    fn test_numbers_half_the_space_apart_are_unordered() {
        let a = SeqNumber(7);
        let b = a + (1usize << 31);
        assert_eq!(a.partial_cmp(&b), None);
        assert_eq!(b.partial_cmp(&a), None);
        assert_eq!(
            (a < b, b < a, a <= b, a >= b, a == b),
            (false, false, false, false, false)
        );
        // One less than half the space is still ahead.
        assert!(a < a + ((1usize << 31) - 1));
    }

    #[test]
    fn test_window_spanning_the_wrap() {
        let start = SeqNumber(u32::MAX - 9);
        let end = start + 20usize;
        assert!(start.in_window(start, end));
        assert!(SeqNumber(0).in_window(start, end));
        assert!(SeqNumber(9).in_window(start, end));
        assert!(!end.in_window(start, end));
        assert!(!(start - 1usize).in_window(start, end));
        assert!(!SeqNumber(5).in_window(start, start), "an empty window");
    }

    #[test]
    fn test_display_is_the_number() {
        assert_eq!(SeqNumber(4_294_967_000).to_string(), "4294967000");
    }

    quickcheck! {
        // Anything less than half the space ahead is greater, wherever the
        // wrap falls.
        fn prop_ahead_is_greater(a: u32, n: u32) -> bool {
            let n = (n % (1 << 31)) as usize;
            let a = SeqNumber(a);
            let b = a + n;
            let order = (a < b, b > a, a <= b, b <= a, a == b);
            if n == 0 {
                order == (false, false, true, true, true)
            } else {
                order == (true, true, true, false, false)
            }
        }

        // The order is antisymmetric and agrees with equality.
        fn prop_antisymmetric(a: u32, b: u32) -> bool {
            let (a, b) = (SeqNumber(a), SeqNumber(b));
            let ab = a.partial_cmp(&b);
            ab.map(Ordering::reverse) == b.partial_cmp(&a)
                && (ab == Some(Ordering::Equal)) == (a == b)
        }

        // Subtraction undoes addition, and the signed distance matches.
        fn prop_add_sub_round_trip(a: u32, n: i32) -> bool {
            let a = SeqNumber(a);
            let b = a + n;
            b - a == n && b + (-(n as i64) as i32) == a
                && (n < 0 || b - (n as usize) == a)
        }

        // Windows of the same length keep their members when both are
        // shifted by the same amount, across the wrap or not.
        fn prop_window_is_shift_invariant(start: u32, len: u16, x: u32, shift: u32) -> bool {
            let (s, x) = (SeqNumber(start), SeqNumber(x));
            let e = s + len as usize;
            let k = shift as usize;
            x.in_window(s, e) == (x + k).in_window(s + k, e + k)
                && x.in_window(s, e) == (x >= s && x < e)
        }
    }
}
