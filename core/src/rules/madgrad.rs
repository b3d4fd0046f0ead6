//! MADGRAD: momentumized, adaptive, dual-averaged gradient descent.
//!
//! Reference: `madgrad.MADGRAD` 1.3 (dense gradients); Defazio and Jelassi,
//! arXiv 2101.11075.
//!
//! With `k` the step number from 0, `g` the gradient and `λ` the weight
//! decay, and the reference's own adjustment of the learning rate
//! (`lr + eps` when `lr > 0`):
//!
//! ```text
//! g ← g + λ p                          coupled decay
//! λk = lr · √(k + 1),  c = 1 - momentum
//! ν ← ν + λk g²,  s ← s + λk g
//! z = x0 - s / (∛ν + ε)
//! p ← (1 - c) p + c z                  (momentum 0: p ← z)
//! p ← p - lr λ p_before                decoupled decay
//! ```
//!
//! `x0` is the starting point, stored when momentum is not 0; without
//! momentum the reference recovers it each step as `p + s_before / (∛ν_before
//! + ε)`, and so does freestep.
//!
//! State: three values per parameter (`ν`, `s`, `x0`), two without momentum.
//!
//! Deviation: with `eps = 0` the reference divides by a zero cube root on a
//! coordinate whose gradients have all been zero. For the new point it
//! replaces the root by infinity (so `s / root` is 0); for the recovered
//! `x0` without momentum it does not, and gets NaN. freestep takes `s / root`
//! as 0 in both places (`s` is 0 there too), which is the reference's value
//! wherever the reference has one.

use crate::error::Error;
use crate::float::Float;
use crate::math::{averaging_weights, over_root, within};
use crate::optimizer::{PieceMut, UpdateRule};
use crate::reduce::MAX_SUMS;
use crate::rules::Progress;

/// Hyperparameters of [`Madgrad`], with `madgrad.MADGRAD`'s names and
/// defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MadgradConfig {
    /// Learning rate, `>= 0` (default 1e-2).
    pub lr: f64,
    /// Momentum, in `[0, 1)` (default 0.9); 0 stores no starting point.
    pub momentum: f64,
    /// Weight decay, `>= 0` (default 0).
    pub weight_decay: f64,
    /// Added to the cube root, `>= 0` (default 1e-6).
    pub eps: f64,
    /// AdamW-style decoupled decay instead of an L2 term (default false).
    pub decouple_decay: bool,
}

impl Default for MadgradConfig {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            momentum: 0.9,
            weight_decay: 0.0,
            eps: 1e-6,
            decouple_decay: false,
        }
    }
}

/// MADGRAD: configuration and step count.
///
/// # Examples
///
/// ```
/// use freestep::{Madgrad, MadgradConfig, Optimizer};
///
/// let config = MadgradConfig { lr: 0.1, momentum: 0.0, eps: 0.0, ..Default::default() };
/// let rule = Madgrad::new(config);
/// let mut opt = Optimizer::<f64, _>::new(rule, 1).unwrap();
/// let (mut params, mut state) = ([1.0], [0.0; Madgrad::state_len(1, false)]);
/// opt.step(&mut params, &[8.0], &mut state).unwrap();
/// // ν = 0.1 · 64 = 6.4 and s = 0.1 · 8 = 0.8, so p = 1 - 0.8 / ∛6.4.
/// let step = 0.8 / (6.4f64).cbrt();
/// assert!((params[0] - (1.0 - step)).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Madgrad {
    /// The hyperparameters; may be changed between steps.
    pub config: MadgradConfig,
    k: u64,
}

/// The scalars of one MADGRAD step.
#[derive(Clone, Copy, Debug, Default)]
pub struct MadgradPlan {
    lr: f64,
    lamb: f64,
}

impl Madgrad {
    /// A rule with the given hyperparameters; they are checked when the
    /// optimizer is built.
    pub const fn new(config: MadgradConfig) -> Self {
        Self { config, k: 0 }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize, momentum: bool) -> usize {
        if momentum {
            3 * n
        } else {
            2 * n
        }
    }

    /// Steps taken.
    pub fn k(&self) -> u64 {
        self.k
    }

    /// The learning rate the reference uses: `lr + eps` unless `lr` is 0.
    fn effective_lr(&self) -> f64 {
        let c = &self.config;
        if c.lr != 0.0 {
            c.lr + c.eps
        } else {
            0.0
        }
    }
}

/// `∛x + eps` for the non-negative sum of squares. The reference raises to
/// the power 1/3 (rounded), which differs from the cube root by far less
/// than the replay tolerance; the cube root is much cheaper, in the element
/// type itself (a tenth of the cost on a single-precision FPU), and libm's
/// is the same on every target.
#[inline(always)]
fn root<T: Float>(x: T, eps: T) -> T {
    x.cbrt() + eps
}

impl UpdateRule for Madgrad {
    type Plan = MadgradPlan;

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        if !within(c.lr, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("lr"));
        }
        if !within(c.momentum, 0.0, 1.0) || c.momentum == 1.0 {
            return Err(Error::InvalidHyperparameter("momentum"));
        }
        if !within(c.weight_decay, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("weight_decay"));
        }
        if !within(c.eps, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("eps"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        Self::state_len(1, self.config.momentum != 0.0)
    }

    fn finish(&mut self, _sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> MadgradPlan {
        let lr = self.effective_lr();
        let plan = MadgradPlan {
            lr,
            lamb: lr * libm::sqrt((self.k + 1) as f64),
        };
        self.k += 1;
        plan
    }

    fn update_piece<T: Float>(&self, plan: &MadgradPlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let decay = c.weight_decay * piece.weight_decay_scale;
        let (coupled, decoupled) = match c.decouple_decay {
            false => (T::from_f64(decay), T::ZERO),
            true => (T::ZERO, T::from_f64(-(plan.lr * piece.lr_scale) * decay)),
        };
        let lamb = T::from_f64(plan.lamb * piece.lr_scale);
        let eps = T::from_f64(c.eps);
        let (keep, ck) = averaging_weights::<T>(c.momentum);
        let zero = T::ZERO;
        let [nu, s, x0s, ..] = piece.dense;
        let sums = piece
            .params
            .iter_mut()
            .zip(piece.grads)
            .zip(nu.iter_mut().zip(s));
        if c.momentum != 0.0 {
            for (((p, &g), (nu, s)), x0) in sums.zip(x0s.iter_mut()) {
                let g = g + coupled * *p;
                if fresh {
                    (*nu, *s, *x0) = (zero, zero, *p);
                }
                *nu += lamb * g * g;
                *s += lamb * g;
                let z = *x0 - over_root(*s, root(*nu, eps));
                let before = *p;
                *p = *p * keep + ck * z;
                *p += decoupled * before;
            }
        } else {
            for ((p, &g), (nu, s)) in sums {
                let g = g + coupled * *p;
                if fresh {
                    (*nu, *s) = (zero, zero);
                }
                let x0 = *p + over_root(*s, root(*nu, eps));
                *nu += lamb * g * g;
                *s += lamb * g;
                let before = *p;
                *p = x0 - over_root(*s, root(*nu, eps));
                *p += decoupled * before;
            }
        }
    }

    fn reset(&mut self) {
        self.k = 0;
    }

    fn progress(&self) -> Progress {
        Progress {
            k: self.k,
            lr: self.effective_lr(),
            d: None,
        }
    }
}
