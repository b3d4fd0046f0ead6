//! Weight initialisation: the geometric-mean fan-in/fan-out rule of Defazio
//! and Bottou, "A scaling calculus for the design and initialization of
//! ReLU networks" (arXiv 1906.04267), through a small deterministic
//! generator.
//!
//! The paper balances the scale of every layer's weights (its "scaling
//! constant") and concludes that a weight matrix with `fan_in` inputs and
//! `fan_out` outputs should start with variance
//! `gain / √(fan_in · fan_out)`: the geometric mean of the fan-in rule
//! (`gain / fan_in`, He et al. for ReLU with `gain = 2`) and the fan-out
//! rule (`gain / fan_out`), rather than either one or their arithmetic mean.
//! For a convolution, `fan_in` is the input channels times the kernel's
//! area and `fan_out` the output channels times the kernel's area.
//!
//! [`geometric_uniform`] draws the weights from the uniform distribution on
//! `[-a, a)` with `a = √(3 gain / √(fan_in · fan_out))`, whose variance
//! `a² / 3` is the prescribed one. A uniform distribution is used instead of
//! the normal one because it needs only a square root: every value is
//! `a (2u - 1)`, `u` being 53 random bits over `2^53`, computed in `f64`
//! with correctly rounded operations (two square roots, a division and a
//! multiplication) and rounded once to the element type, so the weights have
//! the same bits on every target. A normal draw would need a logarithm and a
//! cosine. `2u - 1` is exact, so the only rounding of a weight is that of
//! `a (2u - 1)` (and of `a` itself).
//!
//! The random numbers come from [`SplitMix64`] (Steele, Lea and Flood,
//! "Fast splittable pseudorandom number generators", 2014): integer
//! arithmetic only, one `u64` of state, statistically sound for this use.
//! The caller keeps the generator, so the layers of a network can be filled
//! from one stream, in order, and the run can be repeated exactly.

use crate::error::Error;
use crate::float::Float;

/// The SplitMix64 generator: a Weyl sequence with step `0x9e3779b97f4a7c15`
/// passed through a 64-bit mixing function.
///
/// # Examples
///
/// ```
/// use freestep::init::SplitMix64;
///
/// let mut rng = SplitMix64::new(0);
/// assert_eq!(rng.next_u64(), 0xe220a8397b1dcdaf);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose state is `seed` (any value, 0 included).
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The state, to store the generator and resume it with [`new`](Self::new).
    pub const fn state(&self) -> u64 {
        self.state
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform number in `[0, 1)`: the top 53 bits over `2^53`, exact in
    /// an `f64`.
    pub fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// The bound `a = √(3 gain / √(fan_in · fan_out))` of the uniform
/// distribution whose variance is the paper's `gain / √(fan_in · fan_out)`.
///
/// Refuses a zero fan ([`Error::InvalidHyperparameter`] `"fan_in"` or
/// `"fan_out"`) and a gain that is not finite and positive, or so extreme
/// that `a` overflows or rounds to 0 (`"gain"`).
pub fn geometric_bound(fan_in: usize, fan_out: usize, gain: f64) -> Result<f64, Error> {
    if fan_in == 0 {
        return Err(Error::InvalidHyperparameter("fan_in"));
    }
    if fan_out == 0 {
        return Err(Error::InvalidHyperparameter("fan_out"));
    }
    if !(gain.is_finite() && gain > 0.0) {
        return Err(Error::InvalidHyperparameter("gain"));
    }
    // Float's square root is the correctly rounded one on every target.
    let geometric_fan = Float::sqrt(fan_in as f64 * fan_out as f64);
    let bound = Float::sqrt(3.0 * gain / geometric_fan);
    // A gain so large or so small that the bound overflows or vanishes.
    match bound.is_finite() && bound > 0.0 {
        true => Ok(bound),
        false => Err(Error::InvalidHyperparameter("gain")),
    }
}

/// Fills `weights` with draws from the uniform distribution on `[-a, a)`,
/// `a` from [`geometric_bound`], taking one number of `rng` per weight in
/// order. Use `gain = 2` for the weights of a ReLU network (the paper's
/// setting) and 1 for a linear one.
///
/// On error (see [`geometric_bound`]) neither `weights` nor `rng` changes.
///
/// # Examples
///
/// ```
/// use freestep::init::{geometric_uniform, SplitMix64};
///
/// // A 64 -> 10 layer: variance 2 / √640, bound √(6 / √640) ≈ 0.487.
/// let mut w = [0.0f32; 640];
/// let mut rng = SplitMix64::new(1);
/// geometric_uniform(&mut w, 64, 10, 2.0, &mut rng).unwrap();
/// assert!(w.iter().all(|x| x.abs() < 0.49));
/// ```
pub fn geometric_uniform<T: Float>(
    weights: &mut [T],
    fan_in: usize,
    fan_out: usize,
    gain: f64,
    rng: &mut SplitMix64,
) -> Result<(), Error> {
    let a = geometric_bound(fan_in, fan_out, gain)?;
    for w in weights.iter_mut() {
        *w = T::from_f64(a * (2.0 * rng.next_unit() - 1.0));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_stepped_by_hand() {
        // Seed 0. The state becomes 0x9e3779b97f4a7c15; then
        // z ^= z >> 30, z *= 0xbf58476d1ce4e5b9, z ^= z >> 27,
        // z *= 0x94d049bb133111eb, z ^= z >> 31, each modulo 2^64, written
        // out here apart from the generator. The result is also the first
        // output of the authors' reference generator for seed 0 that is
        // commonly quoted, 0xe220a8397b1dcdaf.
        let s: u64 = 0x9e37_79b9_7f4a_7c15;
        let z = (s ^ (s >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        let z = z ^ (z >> 31);
        assert_eq!(z, 0xe220_a839_7b1d_cdaf);
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), z);
        assert_eq!(rng.state(), s);
        // The second draw starts from the state plus the step again.
        let s2 = s.wrapping_add(s);
        let z = (s2 ^ (s2 >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        assert_eq!(rng.next_u64(), z ^ (z >> 31));
    }

    #[test]
    fn first_weights_pinned() {
        // fan_in = fan_out = 3 and gain 4: √9 = 3, 3 · 4 / 3 = 4, a = 2,
        // all exact. So each weight is 2 (2u - 1) = 4u - 2 with
        // u = (z >> 11) / 2^53, exact in f64, for the outputs z of seed 0:
        // 0xe220a8397b1dcdaf gives u = 0x1c4415072f63b9 / 2^53.
        let mut w = [0.0f64; 2];
        let mut rng = SplitMix64::new(0);
        geometric_uniform(&mut w, 3, 3, 4.0, &mut rng).unwrap();
        let u0 = (0xe220_a839_7b1d_cdafu64 >> 11) as f64 / 9007199254740992.0;
        assert_eq!(u0, 0x1c_4415_072f_63b9u64 as f64 / 9007199254740992.0);
        assert_eq!(w[0], 4.0 * u0 - 2.0);
        // 0.8833108082136426 · 4 - 2, to the printed precision of u0.
        assert!((w[0] - 1.5332432328545704).abs() < 1e-15);
        let mut again = SplitMix64::new(0);
        again.next_u64();
        assert_eq!(w[1], 4.0 * again.next_unit() - 2.0);
        // f32 weights are the f64 ones rounded once.
        let mut w32 = [0.0f32; 2];
        geometric_uniform(&mut w32, 3, 3, 4.0, &mut SplitMix64::new(0)).unwrap();
        assert_eq!(w32, w.map(|x| x as f32));
    }

    #[test]
    fn variance_is_the_geometric_mean_rule() {
        // 64 -> 16 with gain 2: variance 2 / √1024 = 1/16. For the uniform
        // distribution on [-a, a) the sample variance of N draws has
        // standard deviation √(4 a⁴ / 45 / N) (E w⁴ = a⁴ / 5, E w² = a² / 3),
        // with a² = 3/16 and N = 2^17 about 1.5e-4: 5 of those is 7.3e-4.
        // The mean's standard deviation is a / √(3N) ≈ 6.9e-4.
        // Drawn in chunks from one generator: the same numbers as one fill.
        let n = 1 << 17;
        let a = geometric_bound(64, 16, 2.0).unwrap();
        let mut rng = SplitMix64::new(7);
        let (mut sum, mut squares) = (0.0f64, 0.0f64);
        let mut chunk = [0.0f64; 1024];
        for _ in 0..n / chunk.len() {
            geometric_uniform(&mut chunk, 64, 16, 2.0, &mut rng).unwrap();
            assert!(chunk.iter().all(|x| -a <= *x && *x < a));
            sum += chunk.iter().sum::<f64>();
            squares += chunk.iter().map(|x| x * x).sum::<f64>();
        }
        let (mean, var) = (sum / n as f64, squares / n as f64);
        assert!(mean.abs() < 5.0 * 6.9e-4, "mean {mean}");
        assert!((var - 1.0 / 16.0).abs() < 7.3e-4, "variance {var}");
        // a² = 3 · 2 / √(64 · 16) = 3/16, up to the rounding of the root.
        assert!((a * a - 3.0 / 16.0).abs() < 1e-16);
    }

    #[test]
    fn bad_settings_change_nothing() {
        let mut w = [5.0f32; 4];
        let mut rng = SplitMix64::new(3);
        let cases = [
            (0, 4, 2.0, "fan_in"),
            (4, 0, 2.0, "fan_out"),
            (4, 4, 0.0, "gain"),
            (4, 4, f64::NAN, "gain"),
            (4, 4, f64::INFINITY, "gain"),
            (4, 4, f64::MAX, "gain"),
            // The bound vanishes: 3 · 2^-1074 / (2^32 - 1) rounds to 0 (fans
            // that fit a 32-bit usize, so every target sees the same case).
            (
                u32::MAX as usize,
                u32::MAX as usize,
                f64::from_bits(1),
                "gain",
            ),
        ];
        for (fan_in, fan_out, gain, what) in cases {
            let got = geometric_uniform(&mut w, fan_in, fan_out, gain, &mut rng);
            assert_eq!(got, Err(Error::InvalidHyperparameter(what)));
        }
        assert_eq!(w, [5.0; 4]);
        assert_eq!(rng, SplitMix64::new(3));
    }
}
