//! The refined schedule of Defazio, Cutkosky, Mehta and Mishchenko, "When,
//! Why and How Much? Adaptive Learning Rate Scheduling by Refinement"
//! (arXiv 2310.07831), for SGD-like rules: a schedule computed from the
//! gradient norms that an earlier run of the same length recorded.
//!
//! The paper's analysis of the last iterate gives, for gradient norms
//! `g_1 … g_T`, the step sizes `η_t ∝ w_t Σ_{p>t} w_p` with `w_t = 1/g_t²`.
//! Its Algorithm 1 smooths the recorded norms with a median filter first
//! (single steps are noisy; the filter keeps the trend and drops outliers),
//! then divides by the largest value so that the peak multiplier is 1.
//! Constant norms give linear decay; norms that fall early in the run give
//! a warmup, and norms that rise at the end give a fast final decay, which
//! is how the schedule finds both on its own.
//!
//! The paper leaves some choices open; freestep makes them as follows.
//!
//! - The filter is `τ T` steps wide, rounded down to an odd number
//!   (`2 ⌊τ T / 2⌋ + 1`: 1, no filtering, when `τ T < 2`), centred on each
//!   step. Beyond the first step the window repeats the first norm; beyond
//!   the last it mirrors the norms before the last one (`g_{T-1}, g_{T-2},
//!   …`), as the padding the authors' published script uses does. `τ` is the
//!   caller's choice in `[0, 1]`; 0.1 (a tenth of the run) is a moderate
//!   smoothing.
//! - The tail sum counts the step's own weight: `η_t = w_t Σ_{p≥t} w_p`.
//!   The paper's sum starts after `t`, which gives the last step 0 (its
//!   analysis judges the point where that step is taken, so that step's
//!   size does not matter to it) and a one-step run nothing at all. A
//!   trainer keeps the point after its last step, and the crate's decays end
//!   just above 0, so the last step gets `w_T² / max η` instead. Constant
//!   norms then give exactly [`Schedule::LinearDecay`](super::Schedule)
//!   with no warmup, `(T - t) / T`.
//! - The weights are computed as `(g_min / ĝ_t)²`, with `g_min` the
//!   smallest filtered norm: the same schedule (normalisation removes the
//!   scale) without overflow, whatever the norms' magnitude.
//! - No step gets 0: a multiplier that would round to 0 in the element type
//!   (norms spanning some 38 orders of magnitude in `f32`) is raised to
//!   `2^-126`.
//!
//! The paper's variant for Adam-like rules (Algorithm 2, from the `ℓ1`
//! norms of the updates) is not provided.
//!
//! Everything is computed in the caller's arrays: the recorded norms are
//! read, the schedule is written to `out`, and nothing else is needed. The
//! median of each window is found by bisection on the bits of the norms
//! (positive floats order as their bits do), so no window is copied or
//! sorted; the cost is at most 64 passes over a window per step, `O(64 τ
//! T²)` in all: about 13 million comparisons for a 1410-step run at
//! `τ = 0.1`.

use crate::error::Error;
use crate::float::Float;

/// Writes into `out[t]` the multiplier of the base learning rate at step
/// `t` (from 0) of the schedule refined from `norms`, the gradient norms
/// recorded at the steps of an earlier run of the same length. `tau` is the
/// width of the median filter as a fraction of the run. See the [module
/// documentation](self) for the formula and its choices.
///
/// Every multiplier is finite and in `(0, 1]`, the largest exactly 1.
///
/// Refuses, writing nothing: `norms` empty or not as long as `out`
/// ([`Error::Length`]), `tau` not in `[0, 1]`
/// ([`Error::InvalidHyperparameter`] `"tau"`), a norm that is NaN,
/// infinite, zero or negative ([`Error::InvalidNorm`]).
///
/// # Examples
///
/// ```
/// use freestep::schedule::refined::refine;
///
/// // Norms that fall and then rise: a warmup and a fast final decay.
/// let norms = [4.0f64, 2.0, 1.0, 1.0, 1.0, 2.0];
/// let mut lr = [0.0f64; 6];
/// refine(&norms, 0.0, &mut lr).unwrap();
/// assert!(lr[0] < lr[2] && lr[5] < lr[4]);
/// assert_eq!(lr.iter().cloned().fold(0.0, f64::max), 1.0);
/// ```
pub fn refine<T: Float>(norms: &[T], tau: f64, out: &mut [T]) -> Result<(), Error> {
    if norms.is_empty() || norms.len() != out.len() {
        return Err(Error::Length);
    }
    if !(tau.is_finite() && (0.0..=1.0).contains(&tau)) {
        return Err(Error::InvalidHyperparameter("tau"));
    }
    if !norms.iter().all(|&g| g.is_finite() && g > T::ZERO) {
        return Err(Error::InvalidNorm);
    }

    // Smooth: each output is the median of its window of recorded norms.
    let half = half_width(norms.len(), tau);
    for (t, slot) in out.iter_mut().enumerate() {
        *slot = window_median(norms, t, half);
    }

    // The largest multiplier before normalisation, from a first pass over
    // the tail sums; the second pass repeats the same sums and writes.
    let g_min = out.iter().fold(f64::INFINITY, |m, g| m.min(g.to_f64()));
    let mut peak = 0.0f64;
    let mut etas = Etas::new(out.len(), g_min);
    while let Some((_, eta)) = etas.next_from(out) {
        peak = peak.max(eta);
    }
    let floor = T::from_f64(f32::MIN_POSITIVE as f64);
    let mut etas = Etas::new(out.len(), g_min);
    // Each step reads only its own filtered norm, before writing over it.
    while let Some((t, eta)) = etas.next_from(out) {
        if let Some(slot) = out.get_mut(t) {
            let m = T::from_f64(eta / peak);
            *slot = if m > T::ZERO { m } else { floor };
        }
    }
    Ok(())
}

/// `⌊τ T / 2⌋`: the window spans `2 half + 1` steps.
fn half_width(len: usize, tau: f64) -> usize {
    // τ ≤ 1, so the product is at most `len` and the cast is exact enough.
    ((tau * len as f64) as usize) / 2
}

/// The recorded norm at position `j` of the padded sequence (`j` counted
/// from `-half`, stored as `j + half`): the first norm before the start,
/// the mirror image (without repeating the last norm) after the end.
fn padded<T: Float>(norms: &[T], shifted: usize, half: usize) -> T {
    let last = norms.len() - 1;
    let index = match shifted.checked_sub(half) {
        None => 0,
        Some(j) if j <= last => j,
        // `j - last <= half <= len / 2 <= last` for two or more norms, so
        // the mirror stays inside; a single norm mirrors onto itself.
        Some(j) => last.saturating_sub(j - last),
    };
    norms.get(index).copied().unwrap_or(T::ONE)
}

/// The median of the `2 half + 1` padded norms centred on step `t`: the
/// smallest value with at least `half + 1` of the window at or below it,
/// found by bisection on the bits of the (positive) norms.
fn window_median<T: Float>(norms: &[T], t: usize, half: usize) -> T {
    let window = |k: usize| padded(norms, t + k, half);
    let width = 2 * half + 1;
    let bits = |k: usize| window(k).to_f64().to_bits();
    let (mut lo, mut hi) = (u64::MAX, 0u64);
    for k in 0..width {
        lo = lo.min(bits(k));
        hi = hi.max(bits(k));
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let at_or_below = (0..width).filter(|&k| bits(k) <= mid).count();
        if at_or_below > half {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    // `lo` is the bit pattern of a norm of the window: return that norm.
    T::from_f64(f64::from_bits(lo))
}

/// Walks the filtered norms from the last step to the first, giving each
/// step `t` its unnormalised `η_t = w_t Σ_{p≥t} w_p`.
struct Etas {
    g_min: f64,
    tail: f64,
    t: usize,
}

impl Etas {
    fn new(len: usize, g_min: f64) -> Self {
        Self {
            g_min,
            tail: 0.0,
            t: len,
        }
    }

    fn next_from<T: Float>(&mut self, filtered: &[T]) -> Option<(usize, f64)> {
        self.t = self.t.checked_sub(1)?;
        let g = filtered.get(self.t)?.to_f64();
        let ratio = self.g_min / g;
        // Clamped so that no weight underflows to 0 and no step gets 0.
        let w = (ratio * ratio).max(f64::MIN_POSITIVE);
        self.tail += w;
        Some((self.t, w * self.tail))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::schedule::Schedule;

    #[test]
    fn constant_norms_give_linear_decay() {
        // w_t = 1, so η_t = T - t and the peak is T at t = 0: (T - t) / T,
        // which is linear decay without warmup, bit for bit.
        for tau in [0.0, 0.1, 1.0] {
            let norms = [0.3f64; 12];
            let mut out = [0.0f64; 12];
            refine(&norms, tau, &mut out).unwrap();
            let decay = Schedule::LinearDecay {
                warmup: 0,
                total: 12,
            };
            for (t, m) in out.iter().enumerate() {
                assert_eq!(
                    *m,
                    decay.multiplier(t as u64).unwrap(),
                    "tau {tau} step {t}"
                );
            }
        }
    }

    #[test]
    fn unfiltered_schedule_by_hand() {
        // Norms 2, 1, 1, 2 and τ = 0: g_min = 1, w = 1/4, 1, 1, 1/4.
        // Tail sums from the end: 1/4, 5/4, 9/4, 10/4; η = w · tail =
        // 5/8, 9/4, 5/4, 1/16; divided by the peak 9/4: 5/18, 1, 5/9, 1/36.
        let mut out = [0.0f64; 4];
        refine(&[2.0f64, 1.0, 1.0, 2.0], 0.0, &mut out).unwrap();
        assert_eq!(out, [5.0 / 18.0, 1.0, 5.0 / 9.0, 1.0 / 36.0]);
        // The same in f32: every step above is exact in f64, and each
        // quotient is rounded once to f32.
        let mut out32 = [0.0f32; 4];
        refine(&[2.0f32, 1.0, 1.0, 2.0], 0.0, &mut out32).unwrap();
        assert_eq!(out32, out.map(|m| m as f32));
    }

    #[test]
    fn median_window_and_padding_by_hand() {
        // Width 3 (half 1). Step 0 sees the first norm twice (repeated
        // before the start) and the second: 5, 5, 1 has median 5. The last
        // step sees 3, 7 and the mirror of the one before it, 3: median 3.
        // Inside, 1, 9, 1 has median 1: the spike is removed.
        let norms = [5.0f64, 1.0, 9.0, 1.0, 3.0, 7.0];
        let got: [f64; 6] = core::array::from_fn(|t| window_median(&norms, t, 1));
        assert_eq!(got, [5.0, 5.0, 1.0, 3.0, 3.0, 3.0]);
        // Width 5 at the last step: 1, 3, 7, then the mirror 3, 1.
        assert_eq!(window_median(&norms, 5, 2), 3.0);
        // τ T = 2.4 rounds to half 1; τ T just under 2 means no filter.
        assert_eq!(half_width(12, 0.2), 1);
        assert_eq!(half_width(10, 0.19), 0);
    }

    #[test]
    fn a_spike_is_filtered_out() {
        // τ = 0.2 of 10 steps is a window of 3, which removes the single
        // spike: the filtered norms are constant, hence linear decay.
        let mut norms = [1.0f64; 10];
        norms[3] = 9.0;
        let mut out = [0.0f64; 10];
        refine(&norms, 0.2, &mut out).unwrap();
        let want: [f64; 10] = core::array::from_fn(|t| (10 - t) as f64 / 10.0);
        assert_eq!(out, want);
    }

    #[test]
    fn degenerate_runs_never_give_zero() {
        // One step: η = w², the peak itself.
        let mut one = [0.0f64];
        refine(&[4.0f64], 0.5, &mut one).unwrap();
        assert_eq!(one, [1.0]);
        // Norms 1e-30 and 1e30 in f32: w = 1, 1e-120; η_1 = 1e-240 rounds
        // to 0 in f32 and is raised to 2^-126; η_0 = 1 + 1e-120 = 1 is the
        // peak.
        let mut out = [0.0f32; 2];
        refine(&[1e-30f32, 1e30], 0.0, &mut out).unwrap();
        assert_eq!(out, [1.0, f32::MIN_POSITIVE]);
    }

    #[test]
    fn falling_then_rising_norms_warm_up_and_anneal() {
        let norms = [4.0f64, 2.0, 1.0, 1.0, 1.0, 2.0];
        let mut out = [0.0f64; 6];
        refine(&norms, 0.0, &mut out).unwrap();
        assert!(out[0] < out[1] && out[1] < out[2]);
        assert!(out[5] < out[4] && out[4] < out[3]);
        assert!(out.iter().all(|&m| m > 0.0 && m <= 1.0));
    }

    #[test]
    fn bad_inputs_are_refused_and_nothing_is_written() {
        let sentinel = [7.0f64; 3];
        let cases: [(&[f64], f64, usize, Error); 9] = [
            (&[], 0.1, 0, Error::Length),
            (&[1.0, 1.0], 0.1, 3, Error::Length),
            (&[1.0; 3], -0.1, 3, Error::InvalidHyperparameter("tau")),
            (&[1.0; 3], 1.5, 3, Error::InvalidHyperparameter("tau")),
            (&[1.0; 3], f64::NAN, 3, Error::InvalidHyperparameter("tau")),
            (&[1.0, f64::NAN, 1.0], 0.1, 3, Error::InvalidNorm),
            (&[1.0, f64::INFINITY, 1.0], 0.1, 3, Error::InvalidNorm),
            (&[1.0, 0.0, 1.0], 0.1, 3, Error::InvalidNorm),
            (&[1.0, -2.0, 1.0], 0.1, 3, Error::InvalidNorm),
        ];
        for (norms, tau, len, want) in cases {
            let mut out = sentinel;
            assert_eq!(refine(norms, tau, &mut out[..len]), Err(want));
            assert_eq!(out, sentinel);
        }
    }
}
