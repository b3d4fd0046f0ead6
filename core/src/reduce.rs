//! Sums over all parameters that do not depend on how the parameters were
//! split.
//!
//! Floating-point addition is not associative, so a sum computed by two
//! threads and added at the end usually differs in its last bits from the
//! same sum computed in one pass. Rules that need a global sum (Prodigy's
//! `d` estimate, for one) would then give a different trajectory for every
//! thread count. freestep avoids that in two levels:
//!
//! 1. Inside one *piece* (the part of one layout tile that lies in one
//!    parameter group, see [`crate::layout`]) terms are summed in eight lanes
//!    by position, and the lanes are added in a fixed tree. Pieces depend
//!    only on the tiling and the groups, never on the caller's split.
//! 2. Each piece's sum is then added, without any rounding, into a
//!    fixed-point [`ExactSum`] wide enough for the whole exponent range of
//!    the element type. Integer addition is associative, so partial sums can
//!    be combined in any order and still give the same bits.
//!
//! The cost of the exact step is paid once per piece (at most
//! [`TILE`](crate::layout::TILE) elements), not once per element.

use crate::float::Float;

/// The accumulator of every partial sum.
pub type Exact = ExactSum<34, -1074>;

/// The number of independent global sums a rule may request in one step.
pub const MAX_SUMS: usize = 4;

/// Lanes used for every in-piece sum. Fixed, so that the result does not
/// depend on the SIMD width of the machine.
pub(crate) const LANES: usize = 8;

/// An accumulator that adds finite `f64` values exactly.
pub trait Accumulator: Copy + core::fmt::Debug + PartialEq {
    /// The empty sum.
    const ZERO: Self;
    /// Adds `x` exactly. Non-finite values set a flag that makes
    /// [`value`](Accumulator::value) NaN.
    fn add(&mut self, x: f64);
    /// Adds another accumulator exactly.
    fn merge(&mut self, other: &Self);
    /// The sum, rounded once to `f64`.
    fn value(&self) -> f64;
}

/// A two's-complement fixed-point number of `L` 64-bit limbs whose lowest
/// bit is worth `2^LOW`.
///
/// Partial sums use [`Exact`], `ExactSum<34, -1074>`, for both element
/// types: the lowest bit is the smallest `f64` subnormal and the top limbs
/// leave more than 60 bits of headroom above the largest `f64`, so no
/// realistic number of additions can overflow. (A rule may scale an `f32`
/// piece sum by an `f64` factor far outside `f32`'s range, as Prodigy does
/// with `(d / d0) dlr`, so the accumulator must cover `f64`'s range.) With a
/// smaller `LOW`, bits below `2^LOW` would be dropped, which still keeps the
/// operation a function of its inputs alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExactSum<const L: usize, const LOW: i32> {
    limbs: [u64; L],
    poisoned: bool,
}

impl<const L: usize, const LOW: i32> ExactSum<L, LOW> {
    /// Adds `lo + hi * 2^64` at limb `at`, propagating the carry upwards.
    fn add_at(&mut self, at: usize, lo: u64, hi: u64) {
        let mut carry = 0u64;
        for (i, limb) in self.limbs.iter_mut().enumerate().skip(at) {
            let word = match i - at {
                0 => lo,
                1 => hi,
                _ => 0,
            };
            let (s1, c1) = limb.overflowing_add(word);
            let (s2, c2) = s1.overflowing_add(carry);
            *limb = s2;
            carry = (c1 as u64) + (c2 as u64);
            if carry == 0 && i > at {
                break;
            }
        }
    }

    /// Subtracts `lo + hi * 2^64` at limb `at`, propagating the borrow.
    fn sub_at(&mut self, at: usize, lo: u64, hi: u64) {
        let mut borrow = 0u64;
        for (i, limb) in self.limbs.iter_mut().enumerate().skip(at) {
            let word = match i - at {
                0 => lo,
                1 => hi,
                _ => 0,
            };
            let (s1, b1) = limb.overflowing_sub(word);
            let (s2, b2) = s1.overflowing_sub(borrow);
            *limb = s2;
            borrow = (b1 as u64) + (b2 as u64);
            if borrow == 0 && i > at {
                break;
            }
        }
    }
}

impl<const L: usize, const LOW: i32> Accumulator for ExactSum<L, LOW> {
    const ZERO: Self = Self {
        limbs: [0; L],
        poisoned: false,
    };

    fn add(&mut self, x: f64) {
        if x == 0.0 {
            return;
        }
        if !x.is_finite() {
            self.poisoned = true;
            return;
        }
        let bits = x.to_bits();
        let negative = bits >> 63 == 1;
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & ((1u64 << 52) - 1);
        let mut mantissa = if biased == 0 {
            fraction
        } else {
            fraction | (1u64 << 52)
        };
        // The value is mantissa * 2^exp, with exp the weight of its lowest bit.
        let exp = biased.max(1) - 1075;
        let mut shift = exp - LOW;
        if shift < 0 {
            mantissa = if -shift >= 64 { 0 } else { mantissa >> -shift };
            shift = 0;
        }
        let shift = shift as usize;
        let at = shift / 64;
        // Two limbs for the value and one spare limb for the sign.
        if at + 2 >= L {
            self.poisoned = true;
            return;
        }
        let wide = (mantissa as u128) << (shift % 64);
        let (lo, hi) = (wide as u64, (wide >> 64) as u64);
        if negative {
            self.sub_at(at, lo, hi);
        } else {
            self.add_at(at, lo, hi);
        }
    }

    fn merge(&mut self, other: &Self) {
        let mut carry = 0u64;
        for (limb, word) in self.limbs.iter_mut().zip(other.limbs.iter()) {
            let (s1, c1) = limb.overflowing_add(*word);
            let (s2, c2) = s1.overflowing_add(carry);
            *limb = s2;
            carry = (c1 as u64) + (c2 as u64);
        }
        self.poisoned |= other.poisoned;
    }

    fn value(&self) -> f64 {
        if self.poisoned {
            return f64::NAN;
        }
        let negative = self.limbs.last().is_some_and(|w| w >> 63 == 1);
        let mut magnitude = self.limbs;
        if negative {
            // Two's-complement negation: invert and add one.
            let mut carry = 1u64;
            for limb in magnitude.iter_mut() {
                let (s, c) = (!*limb).overflowing_add(carry);
                *limb = s;
                carry = c as u64;
            }
        }
        let Some(top) = magnitude.iter().rposition(|&w| w != 0) else {
            return 0.0;
        };
        let word = |i: usize| magnitude.get(i).copied().unwrap_or(0) as u128;
        // The top 128 bits, with every lower bit folded into a sticky bit,
        // round to the same f64 as the whole number would.
        let (head, scale) = if top == 0 {
            (word(0), LOW)
        } else {
            let sticky = magnitude.iter().take(top - 1).any(|&w| w != 0) as u128;
            let head = (word(top) << 64) | word(top - 1);
            (head | sticky, LOW + 64 * (top as i32 - 1))
        };
        let value = libm::scalbn(head as f64, scale);
        if negative {
            -value
        } else {
            value
        }
    }
}

/// The partial result of the reduction phase of a step over some slice of the
/// parameters.
///
/// Partials from disjoint slices are merged with [`Partial::combine`], in any
/// order and any grouping; the result is the same bits as one partial over
/// the union. A rule's `finish` phase checks that the combined partial covers
/// every parameter (by count) and that no gradient was NaN or infinite.
/// The count cannot tell a range combined twice from two different ranges,
/// nor a partial of another optimizer: combining the right partials is the
/// caller's part of the protocol.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Partial<T: Float> {
    pub(crate) sums: [Exact; MAX_SUMS],
    pub(crate) _element: core::marker::PhantomData<T>,
    pub(crate) covered: usize,
    pub(crate) non_finite: bool,
}

impl<T: Float> Default for Partial<T> {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<T: Float> Partial<T> {
    /// The partial of an empty slice: the identity of [`combine`](Self::combine).
    pub const EMPTY: Self = Self {
        sums: [Exact::ZERO; MAX_SUMS],
        _element: core::marker::PhantomData,
        covered: 0,
        non_finite: false,
    };

    /// Merges two partials of disjoint slices. Exact, so associative and
    /// commutative.
    pub fn combine(&self, other: &Self) -> Self {
        let mut out = *self;
        for (a, b) in out.sums.iter_mut().zip(other.sums.iter()) {
            a.merge(b);
        }
        out.covered = self.covered.saturating_add(other.covered);
        out.non_finite = self.non_finite || other.non_finite;
        out
    }

    /// The number of parameters this partial covers.
    pub fn covered(&self) -> usize {
        self.covered
    }

    /// The rounded value of global sum `i` (zero for an unused index).
    pub fn sum(&self, i: usize) -> f64 {
        self.sums.get(i).map_or(0.0, Accumulator::value)
    }
}

/// Adds eight lanes in a fixed tree.
#[inline(always)]
pub(crate) fn fold_lanes<T: Float>(l: [T; LANES]) -> T {
    ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}

/// True when every value is finite. `x - x` is zero for a finite `x` and NaN
/// otherwise, and NaN survives addition, so this is a branch-free sum the
/// compiler can vectorise.
#[allow(clippy::eq_op)]
pub(crate) fn all_finite<T: Float>(xs: &[T]) -> bool {
    let mut lanes = [T::ZERO; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            *lane += x - x;
        }
    }
    for (lane, &x) in lanes.iter_mut().zip(chunks.remainder()) {
        *lane += x - x;
    }
    fold_lanes(lanes) == T::ZERO
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    type F64Sum = ExactSum<34, -1074>;

    #[test]
    fn cancels_exactly_where_floats_do_not() {
        let mut acc = F64Sum::ZERO;
        for x in [1e300, 1.0, -1e300, 1e-300] {
            acc.add(x);
        }
        // In f64, (1e300 + 1) - 1e300 is 0; exactly it is 1 + 1e-300.
        assert_eq!(acc.value(), 1.0);
        let mut tiny = F64Sum::ZERO;
        tiny.add(f64::from_bits(1));
        tiny.add(f64::from_bits(1));
        assert_eq!(tiny.value(), f64::from_bits(2));
    }

    #[test]
    fn order_and_grouping_do_not_matter() {
        let xs = [0.1, -3.5e-7, 2.0e10, -2.0e10, 7.25, 1e-200, -0.3];
        let mut forward = F64Sum::ZERO;
        xs.iter().for_each(|&x| forward.add(x));
        let mut a = F64Sum::ZERO;
        let mut b = F64Sum::ZERO;
        xs[..3].iter().rev().for_each(|&x| a.add(x));
        xs[3..].iter().for_each(|&x| b.add(x));
        b.merge(&a);
        assert_eq!(forward, b);
        // 0.1 + 7.25 - 0.3 - 3.5e-7 rounded once; the 1e-200 is below half an ulp.
        let exact = 0.1f64 + 7.25 - 0.3 - 3.5e-7;
        assert!((forward.value() - exact).abs() <= 2.0 * f64::EPSILON * 8.0);
    }

    #[test]
    fn negative_totals_and_f32_range() {
        let mut acc = ExactSum::<6, -149>::ZERO;
        acc.add(f32::MAX as f64);
        acc.add(f32::MAX as f64);
        acc.add(-(f32::MAX as f64) * 3.0);
        assert_eq!(acc.value(), -(f32::MAX as f64));
        acc.add(f64::INFINITY);
        assert!(acc.value().is_nan());
    }

    #[test]
    fn finiteness_scan() {
        assert!(all_finite(&[
            1.0f32, -2.0, 0.0, 1e30, 5.0, 6.0, 7.0, 8.0, 9.0
        ]));
        assert!(!all_finite(&[
            1.0f32,
            2.0,
            3.0,
            4.0,
            5.0,
            6.0,
            7.0,
            8.0,
            f32::NAN
        ]));
        assert!(!all_finite(&[f64::NEG_INFINITY]));
        assert!(all_finite::<f64>(&[]));
    }
}
