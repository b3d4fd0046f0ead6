//! Stochastic gradient descent with momentum, dampening, Nesterov momentum
//! and L2 weight decay.
//!
//! Reference: `torch.optim.SGD` (PyTorch 2.x), which this follows step for
//! step, including its first-step rule for the momentum buffer.
//!
//! With `g` the gradient (negated when `maximize`), `μ` the momentum, `τ` the
//! dampening and `λ` the weight decay:
//!
//! ```text
//! g ← g + λ p
//! b ← g                       on the first step
//! b ← μ b + (1 - τ) g         afterwards
//! g ← g + μ b   (Nesterov)    or   g ← b
//! p ← p - lr g
//! ```
//!
//! State: one value per parameter (the buffer `b`) when `momentum != 0`,
//! none otherwise.

use crate::error::Error;
use crate::float::Float;
use crate::math::within;
use crate::optimizer::{PieceMut, UpdateRule};
use crate::reduce::MAX_SUMS;
use crate::rules::Progress;

/// Hyperparameters of [`Sgd`], with `torch.optim.SGD`'s names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate, `>= 0` (default 1e-3).
    pub lr: f64,
    /// Momentum factor, `>= 0` (default 0, no momentum buffer).
    pub momentum: f64,
    /// Dampening of the momentum, in `[0, 1]` (default 0).
    pub dampening: f64,
    /// L2 penalty added to the gradient, `>= 0` (default 0).
    pub weight_decay: f64,
    /// Nesterov momentum; needs `momentum > 0` and `dampening == 0`
    /// (default false).
    pub nesterov: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

/// SGD with momentum: configuration and step count.
///
/// # Examples
///
/// ```
/// use freestep::{Optimizer, Sgd, SgdConfig};
///
/// let config = SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() };
/// let mut opt = Optimizer::<f64, _>::new(Sgd::new(config), 2).unwrap();
/// let mut params = [1.0, 1.0];
/// let mut state = [0.0; Sgd::state_len(2, true)];
/// opt.step(&mut params, &[1.0, -1.0], &mut state).unwrap();
/// // The first step copies the gradient into the buffer: p - lr g.
/// assert_eq!(params, [0.9, 1.1]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    /// The hyperparameters; may be changed between steps.
    pub config: SgdConfig,
    k: u64,
}

/// The scalars of one SGD step.
#[derive(Clone, Copy, Debug, Default)]
pub struct SgdPlan {
    lr: f64,
}

impl Sgd {
    /// A rule with the given hyperparameters; they are checked when the
    /// optimizer is built.
    pub const fn new(config: SgdConfig) -> Self {
        Self { config, k: 0 }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize, momentum: bool) -> usize {
        if momentum {
            n
        } else {
            0
        }
    }

    /// Steps taken.
    pub fn k(&self) -> u64 {
        self.k
    }
}

impl UpdateRule for Sgd {
    type Plan = SgdPlan;

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        if !within(c.lr, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("lr"));
        }
        if !within(c.momentum, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("momentum"));
        }
        if !within(c.dampening, 0.0, 1.0) {
            return Err(Error::InvalidHyperparameter("dampening"));
        }
        if !within(c.weight_decay, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("weight_decay"));
        }
        if c.nesterov && (c.momentum <= 0.0 || c.dampening != 0.0) {
            return Err(Error::InvalidHyperparameter("nesterov"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        Self::state_len(1, self.config.momentum != 0.0)
    }

    fn finish(&mut self, _sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> SgdPlan {
        self.k += 1;
        SgdPlan { lr: self.config.lr }
    }

    fn update_piece<T: Float>(&self, plan: &SgdPlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let sign = T::from_f64(if c.maximize { -1.0 } else { 1.0 });
        let wd = T::from_f64(c.weight_decay * piece.weight_decay_scale);
        let lr = T::from_f64(plan.lr * piece.lr_scale);
        let [buf, ..] = piece.dense;
        let params = piece.params;
        let grads = piece.grads;

        if c.momentum == 0.0 {
            for (p, &g) in params.iter_mut().zip(grads) {
                let g = sign * g + wd * *p;
                *p -= lr * g;
            }
            return;
        }

        // Nesterov: d = g + μ b; plain: d = b. Written as d = a g + e b.
        let mu = T::from_f64(c.momentum);
        let keep = T::from_f64(1.0 - c.dampening);
        let (a, e) = match c.nesterov {
            true => (T::ONE, mu),
            false => (T::ZERO, T::ONE),
        };
        for ((p, &g), b) in params.iter_mut().zip(grads).zip(buf.iter_mut()) {
            let g = sign * g + wd * *p;
            *b = if fresh { g } else { mu * *b + keep * g };
            *p -= lr * (a * g + e * *b);
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
