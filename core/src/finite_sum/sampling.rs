//! Sampling of sample indices on a deterministic PRNG, without allocation.
//!
//! [`Rng`] is xoshiro256** (Blackman and Vigna, "Scrambled linear
//! pseudorandom number generators", 2021), seeded from one `u64` through
//! SplitMix64 as its authors recommend; the same seed gives the same
//! sequence on every target. On it:
//!
//! - [`Rng::below`]: uniform with replacement, without modulo bias
//!   (Lemire, "Fast random integer generation in an interval", 2019);
//! - [`Rng::shuffle`]: a fresh permutation per epoch (Fisher–Yates) in an
//!   index array the caller owns;
//! - [`Weighted`]: non-uniform sampling with probabilities proportional to
//!   caller-given weights (SAG's Lipschitz sampling), by binary search in a
//!   table of cumulative weights the caller owns.

use crate::error::Error;
use crate::init::SplitMix64;

/// xoshiro256**: 256 bits of state, period 2²⁵⁶ - 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// The generator seeded with `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Self {
        let mut x = SplitMix64::new(seed);
        let s = [x.next_u64(), x.next_u64(), x.next_u64(), x.next_u64()];
        Rng { s }
    }

    /// The generator with the given raw state (as [`Rng::state`] returned
    /// it), for callers that keep the state themselves. The all-zero state,
    /// from which xoshiro never leaves, is refused.
    pub fn from_state(s: [u64; 4]) -> Result<Self, Error> {
        if s == [0; 4] {
            return Err(Error::InvalidHyperparameter("rng"));
        }
        Ok(Rng { s })
    }

    /// The raw state.
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = self.s;
        let out = s1.wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s1 << 17;
        let mut s = [s0, s1, s2 ^ s0, s3 ^ s1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        self.s = s;
        out
    }

    /// A uniform `f64` in `[0, 1)`, from the top 53 bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `0..n`, or 0 when `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        if n == 0 {
            return 0;
        }
        // Multiply-shift: the high word of x·n is uniform in 0..n once the
        // low words below 2⁶⁴ mod n are rejected.
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as usize
    }

    /// Fills `order` with `0, 1, ..., len - 1` in a uniformly random order
    /// (Fisher–Yates). Refuses a length that does not fit in `u32`.
    pub fn shuffle(&mut self, order: &mut [u32]) -> Result<(), Error> {
        if u32::try_from(order.len()).is_err() {
            return Err(Error::Length);
        }
        for (k, slot) in (0u32..).zip(order.iter_mut()) {
            *slot = k;
        }
        for i in (1..order.len()).rev() {
            let j = self.below(i + 1);
            // j <= i: swap order[j] with order[i] through a split, which
            // needs no bounds check that could panic.
            if let Some((head, tail)) = order.split_at_mut_checked(i) {
                if let (Some(a), Some(b)) = (head.get_mut(j), tail.first_mut()) {
                    core::mem::swap(a, b);
                }
            }
        }
        Ok(())
    }
}

/// Sampling proportional to weights, through cumulative sums in a table
/// the caller owns (`n` values of `f64`).
#[derive(Debug)]
pub struct Weighted<'a> {
    cumulative: &'a [f64],
}

impl<'a> Weighted<'a> {
    /// Writes the cumulative sums of `weights` into `cumulative` (the same
    /// length) and returns the sampler over them. Refuses an empty table,
    /// different lengths, a negative or non-finite weight and an all-zero
    /// one; on a refusal `cumulative` is unchanged.
    pub fn new(weights: &[f64], cumulative: &'a mut [f64]) -> Result<Self, Error> {
        if weights.is_empty() || weights.len() != cumulative.len() {
            return Err(Error::Length);
        }
        if !weights.iter().all(|w| w.is_finite() && *w >= 0.0) {
            return Err(Error::InvalidHyperparameter("weights"));
        }
        let total: f64 = weights.iter().sum();
        if !(total.is_finite() && total > 0.0) {
            return Err(Error::InvalidHyperparameter("weights"));
        }
        let mut sum = 0.0;
        for (c, w) in cumulative.iter_mut().zip(weights) {
            sum += w;
            *c = sum;
        }
        Ok(Weighted { cumulative })
    }

    /// The sampler over cumulative sums written earlier by [`Weighted::new`]
    /// (kept by the caller). Refuses an empty table, a decreasing or
    /// non-finite one, and one whose total is not positive.
    pub fn from_cumulative(cumulative: &'a [f64]) -> Result<Self, Error> {
        if cumulative.is_empty() {
            return Err(Error::Length);
        }
        let mut previous = 0.0;
        for &c in cumulative {
            if !(c.is_finite() && c >= previous) {
                return Err(Error::InvalidHyperparameter("weights"));
            }
            previous = c;
        }
        if previous <= 0.0 {
            return Err(Error::InvalidHyperparameter("weights"));
        }
        Ok(Weighted { cumulative })
    }

    /// An index drawn with probability `weights[i] / Σ weights`.
    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = rng.next_f64() * total;
        // The first index whose cumulative sum exceeds u; a zero weight
        // repeats the sum before it and so is never chosen.
        let i = self.cumulative.partition_point(|&c| c <= u);
        i.min(self.cumulative.len().saturating_sub(1))
    }
}
