//! RMSprop, plain or centered, with momentum.
//!
//! Reference: `torch.optim.RMSprop` (PyTorch 2.x); Tieleman and Hinton,
//! Coursera lecture 6.5, 2012; the centered form from Graves, arXiv
//! 1308.0850.
//!
//! With `g` the gradient (negated when `maximize`), `λ` the weight decay and
//! `α` the smoothing constant:
//!
//! ```text
//! g ← g + λ p
//! v ← α v + (1 - α) g²
//! a ← a + (1 - α)(g - a)           centered only
//! d ← √(v - a²) + ε   (centered)   or   √v + ε
//! b ← μ b + g / d ;  p ← p - lr b  with momentum μ > 0
//! p ← p - lr g / d                 without
//! ```
//!
//! State: one value per parameter (`v`), one more for the centered form
//! (`a`) and one more with momentum (`b`), in that order.
//!
//! Deviations: torch accepts `eps = 0`, and then divides zero by zero on a
//! coordinate whose gradients have all been zero; freestep requires
//! `eps > 0`. In the centered form `v - a²` is never negative in exact
//! arithmetic but can round below zero, where torch's square root gives NaN;
//! freestep takes 0 there.

use crate::error::Error;
use crate::float::Float;
use crate::math::{lerp, lerp_from_end, within};
use crate::optimizer::{PieceMut, UpdateRule};
use crate::reduce::MAX_SUMS;
use crate::rules::Progress;

/// Hyperparameters of [`Rmsprop`], with `torch.optim.RMSprop`'s names and
/// defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmspropConfig {
    /// Learning rate, `>= 0` (default 1e-2).
    pub lr: f64,
    /// Smoothing constant `α`, in `[0, 1]` (default 0.99).
    pub alpha: f64,
    /// Added to the denominator, `> 0` (default 1e-8).
    pub eps: f64,
    /// L2 penalty added to the gradient, `>= 0` (default 0).
    pub weight_decay: f64,
    /// Momentum factor, `>= 0` (default 0: no momentum buffer).
    pub momentum: f64,
    /// Normalise by the variance estimate instead of the second moment
    /// (default false).
    pub centered: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

impl Default for RmspropConfig {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

/// RMSprop: configuration and step count.
///
/// # Examples
///
/// ```
/// use freestep::{Optimizer, Rmsprop, RmspropConfig};
///
/// let rule = Rmsprop::new(RmspropConfig { lr: 0.1, alpha: 0.75, ..Default::default() });
/// let mut opt = Optimizer::<f64, _>::new(rule, 1).unwrap();
/// let (mut params, mut state) = ([1.0], [0.0; Rmsprop::state_len(1, false, false)]);
/// opt.step(&mut params, &[2.0], &mut state).unwrap();
/// // v = 0.25 · 4 = 1, so the step is lr · 2 / (1 + eps), eps = 1e-8.
/// assert!((params[0] - 0.8).abs() < 1e-8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rmsprop {
    /// The hyperparameters; may be changed between steps.
    pub config: RmspropConfig,
    k: u64,
}

impl Rmsprop {
    /// A rule with the given hyperparameters; they are checked when the
    /// optimizer is built.
    pub const fn new(config: RmspropConfig) -> Self {
        Self { config, k: 0 }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize, centered: bool, momentum: bool) -> usize {
        (1 + centered as usize + momentum as usize) * n
    }

    /// Steps taken.
    pub fn k(&self) -> u64 {
        self.k
    }
}

impl UpdateRule for Rmsprop {
    type Plan = ();

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        if !within(c.lr, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("lr"));
        }
        if !within(c.alpha, 0.0, 1.0) {
            return Err(Error::InvalidHyperparameter("alpha"));
        }
        if !within(c.eps, f64::MIN_POSITIVE, f64::MAX) {
            return Err(Error::InvalidHyperparameter("eps"));
        }
        if !within(c.weight_decay, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("weight_decay"));
        }
        if !within(c.momentum, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("momentum"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        let c = &self.config;
        Self::state_len(1, c.centered, c.momentum > 0.0)
    }

    fn finish(&mut self, _sums: &[f64; MAX_SUMS], _loss: Option<f64>) {
        self.k += 1;
    }

    fn update_piece<T: Float>(&self, _plan: &(), fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let sign = T::from_f64(if c.maximize { -1.0 } else { 1.0 });
        let lambda = T::from_f64(c.weight_decay * piece.weight_decay_scale);
        let alpha = T::from_f64(c.alpha);
        let w = 1.0 - c.alpha;
        let (w_end, w) = (lerp_from_end(w), T::from_f64(w));
        let eps = T::from_f64(c.eps);
        let mu = T::from_f64(c.momentum);
        let neg_lr = T::from_f64(-(c.lr * piece.lr_scale));
        let zero = T::ZERO;
        let [v, second, third, ..] = piece.dense;
        // The optional sections, in their fixed order.
        let (avg, buf) = match (c.centered, c.momentum > 0.0) {
            (true, true) => (second, third),
            (true, false) => (second, &mut [][..]),
            (false, true) => (&mut [][..], second),
            (false, false) => (&mut [][..], &mut [][..]),
        };
        let mut avg = avg.iter_mut();
        let mut buf = buf.iter_mut();
        for ((p, &g), v) in piece.params.iter_mut().zip(piece.grads).zip(v) {
            let g = sign * g + lambda * *p;
            *v = alpha * if fresh { zero } else { *v } + w * (g * g);
            let denom = match avg.next() {
                Some(a) => {
                    *a = lerp(if fresh { zero } else { *a }, g, w, w_end);
                    let var = *v - *a * *a;
                    // Rounding can take the variance a hair below zero.
                    (if var > zero { var } else { zero }).sqrt() + eps
                }
                None => v.sqrt() + eps,
            };
            match buf.next() {
                Some(b) => {
                    *b = mu * if fresh { zero } else { *b } + g / denom;
                    *p += neg_lr * *b;
                }
                None => *p += neg_lr * (g / denom),
            }
        }
    }

    fn reset(&mut self) {
        self.k = 0;
    }

    fn progress(&self) -> Progress {
        Progress {
            k: self.k,
            lr: self.config.lr,
            d: None,
        }
    }
}
