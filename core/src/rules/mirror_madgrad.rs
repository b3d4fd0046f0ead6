//! Mirror MADGRAD: MADGRAD's mirror-descent form, without a stored start.
//!
//! Reference: `madgrad.MirrorMADGRAD` 1.3 (dense gradients); Defazio and
//! Jelassi, arXiv 2101.11075.
//!
//! With `k` the step number from 0, `g` the gradient, `λ` the weight decay,
//! `c = 1 - momentum` and the reference's `lr + eps` (when `lr > 0`):
//!
//! ```text
//! z  ← z - lr λ z                        decoupled decay (else g ← g + λ p)
//! ν  ← √(k / (k + 1)) ν + g²
//! z  ← z - lr (k + 1)^(1/3) g / (∛ν + ε)
//! p  ← (1 - c) p + c z
//! ```
//!
//! `z` starts at the first step's parameters. State: `ν` and `z`, 2 values
//! per parameter.
//!
//! Deviation: with `eps = 0` the reference replaces a zero root by infinity,
//! so that `g / root` is 0 on a coordinate whose gradients have all been
//! zero; freestep takes that quotient as 0 directly.

use crate::error::Error;
use crate::float::Float;
use crate::math::{averaging_weights, over_root, powf, within};
use crate::optimizer::{PieceMut, UpdateRule};
use crate::reduce::MAX_SUMS;
use crate::rules::Progress;

/// Hyperparameters of [`MirrorMadgrad`], with `madgrad.MirrorMADGRAD`'s
/// names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MirrorMadgradConfig {
    /// Learning rate, `>= 0` (default 1e-2).
    pub lr: f64,
    /// Momentum, in `[0, 1)` (default 0.9).
    pub momentum: f64,
    /// Weight decay, `>= 0` (default 0).
    pub weight_decay: f64,
    /// Added to the cube root, `>= 0` (default 0).
    pub eps: f64,
    /// AdamW-style decoupled decay, applied to `z` (default false).
    pub decouple_decay: bool,
}

impl Default for MirrorMadgradConfig {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            momentum: 0.9,
            weight_decay: 0.0,
            eps: 0.0,
            decouple_decay: false,
        }
    }
}

/// Mirror MADGRAD: configuration and step count.
///
/// # Examples
///
/// ```
/// use freestep::{MirrorMadgrad, MirrorMadgradConfig, Optimizer};
///
/// let config = MirrorMadgradConfig { lr: 0.5, momentum: 0.0, ..Default::default() };
/// let rule = MirrorMadgrad::new(config);
/// let mut opt = Optimizer::<f64, _>::new(rule, 1).unwrap();
/// let (mut params, mut state) = ([1.0], [0.0; MirrorMadgrad::state_len(1)]);
/// opt.step(&mut params, &[8.0], &mut state).unwrap();
/// // k = 0: ν = 64, so z = 1 - 0.5 · 8 / 4 = 0.
/// assert_eq!(params[0], 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MirrorMadgrad {
    /// The hyperparameters; may be changed between steps.
    pub config: MirrorMadgradConfig,
    k: u64,
}

/// The scalars of one Mirror MADGRAD step.
#[derive(Clone, Copy, Debug, Default)]
pub struct MirrorMadgradPlan {
    lr: f64,
    ratio: f64,
    lamb: f64,
}

impl MirrorMadgrad {
    /// A rule with the given hyperparameters; they are checked when the
    /// optimizer is built.
    pub const fn new(config: MirrorMadgradConfig) -> Self {
        Self { config, k: 0 }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize) -> usize {
        2 * n
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

impl UpdateRule for MirrorMadgrad {
    type Plan = MirrorMadgradPlan;

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
        2
    }

    fn finish(&mut self, _sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> MirrorMadgradPlan {
        let k = self.k as f64;
        let plan = MirrorMadgradPlan {
            lr: self.effective_lr(),
            ratio: powf(k / (k + 1.0), 0.5),
            lamb: powf(k + 1.0, 1.0 / 3.0),
        };
        self.k += 1;
        plan
    }

    fn update_piece<T: Float>(
        &self,
        plan: &MirrorMadgradPlan,
        fresh: bool,
        piece: PieceMut<'_, T>,
    ) {
        let c = &self.config;
        let lr = plan.lr * piece.lr_scale;
        let decay = c.weight_decay * piece.weight_decay_scale;
        let (coupled, z_shrink) = match c.decouple_decay {
            false => (T::from_f64(decay), T::ZERO),
            true => (T::ZERO, T::from_f64(-lr * decay)),
        };
        let ratio = T::from_f64(plan.ratio);
        let step = T::from_f64(-lr * plan.lamb);
        let eps = T::from_f64(c.eps);
        let (keep, ck) = averaging_weights::<T>(c.momentum);
        let [nu, z, ..] = piece.dense;
        let state = nu.iter_mut().zip(z.iter_mut());
        for ((p, &g), (nu, z)) in piece.params.iter_mut().zip(piece.grads).zip(state) {
            if fresh {
                (*nu, *z) = (T::ZERO, *p);
            }
            *z += z_shrink * *z;
            let g = g + coupled * *p;
            *nu = *nu * ratio + g * g;
            let root = nu.cbrt() + eps;
            *z += step * over_root(g, root);
            *p = *p * keep + ck * *z;
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
