//! AdaGrad.
//!
//! Reference: `torch.optim.Adagrad` (PyTorch 2.x); Duchi, Hazan and Singer,
//! JMLR 2011.
//!
//! With `t` the step number (from 1), `g` the gradient (negated when
//! `maximize`), `λ` the weight decay and `s` the running sum of squares,
//! which starts at `initial_accumulator_value`:
//!
//! ```text
//! g ← g + λ p
//! s ← s + g²
//! p ← p - lr / (1 + (t - 1) lr_decay) · g / (√s + ε)
//! ```
//!
//! State: one value per parameter (`s`).
//!
//! Deviation: torch accepts `eps = 0`, and then divides zero by zero on a
//! coordinate whose accumulator and gradients are all zero. freestep
//! requires `eps > 0`.

use crate::error::Error;
use crate::float::Float;
use crate::math::within;
use crate::optimizer::{PieceMut, UpdateRule};
use crate::reduce::MAX_SUMS;
use crate::rules::Progress;

/// Hyperparameters of [`Adagrad`], with `torch.optim.Adagrad`'s names and
/// defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate, `>= 0` (default 1e-2).
    pub lr: f64,
    /// Decay of the learning rate, `lr / (1 + (t - 1) lr_decay)`, `>= 0`
    /// (default 0).
    pub lr_decay: f64,
    /// L2 penalty added to the gradient, `>= 0` (default 0).
    pub weight_decay: f64,
    /// The starting value of the sum of squares, `>= 0` (default 0).
    pub initial_accumulator_value: f64,
    /// Added to the denominator, `> 0` (default 1e-10).
    pub eps: f64,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

/// AdaGrad: configuration and step count.
///
/// # Examples
///
/// ```
/// use freestep::{Adagrad, AdagradConfig, Optimizer};
///
/// let rule = Adagrad::new(AdagradConfig { lr: 0.5, ..Default::default() });
/// let mut opt = Optimizer::<f64, _>::new(rule, 1).unwrap();
/// let (mut params, mut state) = ([2.0], [0.0; Adagrad::state_len(1)]);
/// opt.step(&mut params, &[4.0], &mut state).unwrap();
/// // The first step moves by lr · g / |g| = lr (up to eps).
/// assert!((params[0] - 1.5).abs() < 1e-9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adagrad {
    /// The hyperparameters; may be changed between steps.
    pub config: AdagradConfig,
    k: u64,
}

/// The scalars of one AdaGrad step.
#[derive(Clone, Copy, Debug, Default)]
pub struct AdagradPlan {
    clr: f64,
}

impl Adagrad {
    /// A rule with the given hyperparameters; they are checked when the
    /// optimizer is built.
    pub const fn new(config: AdagradConfig) -> Self {
        Self { config, k: 0 }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize) -> usize {
        n
    }

    /// Steps taken.
    pub fn k(&self) -> u64 {
        self.k
    }
}

impl UpdateRule for Adagrad {
    type Plan = AdagradPlan;

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        let checks = [
            (c.lr, 0.0, "lr"),
            (c.lr_decay, 0.0, "lr_decay"),
            (c.weight_decay, 0.0, "weight_decay"),
            (
                c.initial_accumulator_value,
                0.0,
                "initial_accumulator_value",
            ),
            (c.eps, f64::MIN_POSITIVE, "eps"),
        ];
        for (value, lo, name) in checks {
            if !within(value, lo, f64::MAX) {
                return Err(Error::InvalidHyperparameter(name));
            }
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        1
    }

    fn finish(&mut self, _sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> AdagradPlan {
        self.k += 1;
        let c = &self.config;
        AdagradPlan {
            clr: c.lr / (1.0 + (self.k - 1) as f64 * c.lr_decay),
        }
    }

    fn update_piece<T: Float>(&self, plan: &AdagradPlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let sign = T::from_f64(if c.maximize { -1.0 } else { 1.0 });
        let lambda = T::from_f64(c.weight_decay * piece.weight_decay_scale);
        let start = T::from_f64(c.initial_accumulator_value);
        let eps = T::from_f64(c.eps);
        let neg_clr = T::from_f64(-(plan.clr * piece.lr_scale));
        let [sums, ..] = piece.dense;
        for ((p, &g), s) in piece.params.iter_mut().zip(piece.grads).zip(sums) {
            let g = sign * g + lambda * *p;
            *s = if fresh { start } else { *s } + g * g;
            *p += neg_clr * (g / (s.sqrt() + eps));
        }
    }

    fn reset(&mut self) {
        self.k = 0;
    }

    fn progress(&self) -> Progress {
        let c = &self.config;
        let last = self.k.saturating_sub(1) as f64;
        Progress {
            k: self.k,
            lr: c.lr / (1.0 + last * c.lr_decay),
            d: None,
        }
    }
}
