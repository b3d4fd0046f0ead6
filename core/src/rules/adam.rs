//! Adam and AdamW, with AMSGrad.
//!
//! Reference: `torch.optim.Adam` and `torch.optim.AdamW` (PyTorch 2.x), which
//! differ only in their defaults and in whether weight decay is coupled (added
//! to the gradient) or decoupled (applied to the weights). Kingma and Ba,
//! arXiv 1412.6980; Loshchilov and Hutter, arXiv 1711.05101.
//!
//! With `t` the step number, `g` the gradient (negated when `maximize`) and
//! `λ` the weight decay:
//!
//! ```text
//! p ← p (1 - lr λ)          decoupled        or   g ← g + λ p   coupled
//! m ← m + (1 - β1)(g - m)
//! v ← β2 v + (1 - β2) g²
//! v̂ ← max(v̂, v)            AMSGrad only, and then v̂ replaces v below
//! p ← p - lr / (1 - β1^t) · m / (√v / √(1 - β2^t) + ε)
//! ```
//!
//! State: two values per parameter (`m`, `v`), three with AMSGrad.
//!
//! Deviation: torch accepts `eps = 0`, and then divides zero by zero on a
//! coordinate whose gradients have all been zero. freestep requires
//! `eps > 0`.

use crate::error::Error;
use crate::float::Float;
use crate::math::{lerp, lerp_from_end, powf, within};
use crate::optimizer::{PieceMut, UpdateRule};
use crate::reduce::MAX_SUMS;
use crate::rules::Progress;

/// Hyperparameters of [`Adam`], with torch's names. `Default` gives
/// `torch.optim.Adam`'s defaults and [`AdamConfig::adamw`] those of
/// `torch.optim.AdamW`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate, `>= 0` (default 1e-3).
    pub lr: f64,
    /// `β1`, the decay of the first moment, in `[0, 1)` (default 0.9).
    pub beta1: f64,
    /// `β2`, the decay of the second moment, in `[0, 1)` (default 0.999).
    pub beta2: f64,
    /// Added to the denominator, `> 0` (default 1e-8).
    pub eps: f64,
    /// Weight decay, `>= 0` (Adam default 0, AdamW default 1e-2).
    pub weight_decay: f64,
    /// Use the maximum of all second moments so far (default false).
    pub amsgrad: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
    /// Decay the weights directly instead of adding `λ p` to the gradient
    /// (Adam default false, AdamW default true).
    pub decoupled_weight_decay: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
        }
    }
}

impl AdamConfig {
    /// `torch.optim.AdamW`'s defaults: decoupled weight decay of 1e-2.
    pub fn adamw() -> Self {
        Self {
            weight_decay: 1e-2,
            decoupled_weight_decay: true,
            ..Self::default()
        }
    }
}

/// Adam or AdamW: configuration and step count.
///
/// # Examples
///
/// ```
/// use freestep::{Adam, AdamConfig, Optimizer};
///
/// let mut opt = Optimizer::<f64, _>::new(Adam::new(AdamConfig::default()), 1).unwrap();
/// let mut params = [1.0];
/// let mut state = [0.0; Adam::state_len(1, false)];
/// opt.step(&mut params, &[4.0], &mut state).unwrap();
/// // Adam's first step moves each coordinate by about lr.
/// assert!((params[0] - (1.0 - 1e-3)).abs() < 1e-9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adam {
    /// The hyperparameters; may be changed between steps.
    pub config: AdamConfig,
    k: u64,
}

/// The scalars of one Adam step.
#[derive(Clone, Copy, Debug, Default)]
pub struct AdamPlan {
    lr: f64,
    step_size: f64,
    bias_correction2_sqrt: f64,
}

impl Adam {
    /// A rule with the given hyperparameters; they are checked when the
    /// optimizer is built.
    pub const fn new(config: AdamConfig) -> Self {
        Self { config, k: 0 }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize, amsgrad: bool) -> usize {
        if amsgrad {
            3 * n
        } else {
            2 * n
        }
    }

    /// Steps taken.
    pub fn k(&self) -> u64 {
        self.k
    }
}

impl UpdateRule for Adam {
    type Plan = AdamPlan;

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        if !within(c.lr, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("lr"));
        }
        if !within(c.beta1, 0.0, 1.0) || c.beta1 == 1.0 {
            return Err(Error::InvalidHyperparameter("beta1"));
        }
        if !within(c.beta2, 0.0, 1.0) || c.beta2 == 1.0 {
            return Err(Error::InvalidHyperparameter("beta2"));
        }
        if !within(c.eps, f64::MIN_POSITIVE, f64::MAX) {
            return Err(Error::InvalidHyperparameter("eps"));
        }
        if !within(c.weight_decay, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("weight_decay"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        Self::state_len(1, self.config.amsgrad)
    }

    fn finish(&mut self, _sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> AdamPlan {
        self.k += 1;
        let t = self.k as f64;
        let c = &self.config;
        let bias_correction1 = 1.0 - powf(c.beta1, t);
        let bias_correction2 = 1.0 - powf(c.beta2, t);
        AdamPlan {
            lr: c.lr,
            step_size: c.lr / bias_correction1,
            bias_correction2_sqrt: libm::sqrt(bias_correction2),
        }
    }

    fn update_piece<T: Float>(&self, plan: &AdamPlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let sign = T::from_f64(if c.maximize { -1.0 } else { 1.0 });
        let lambda = c.weight_decay * piece.weight_decay_scale;
        let lr = plan.lr * piece.lr_scale;
        let (coupled, shrink) = match c.decoupled_weight_decay {
            true => (T::ZERO, T::from_f64(1.0 - lr * lambda)),
            false => (T::from_f64(lambda), T::ONE),
        };
        let w1 = 1.0 - c.beta1;
        let (w1_end, w1) = (lerp_from_end(w1), T::from_f64(w1));
        let beta2 = T::from_f64(c.beta2);
        let w2 = T::from_f64(1.0 - c.beta2);
        let bc2 = T::from_f64(plan.bias_correction2_sqrt);
        let eps = T::from_f64(c.eps);
        let neg_step = T::from_f64(-(plan.step_size * piece.lr_scale));
        let [m, v, vmax, ..] = piece.dense;
        let zero = T::ZERO;

        let moments = piece
            .params
            .iter_mut()
            .zip(piece.grads)
            .zip(m.iter_mut().zip(v.iter_mut()));
        if c.amsgrad {
            for (((p, &g), (m, v)), vmax) in moments.zip(vmax.iter_mut()) {
                let g = sign * g + coupled * *p;
                *p *= shrink;
                *m = lerp(if fresh { zero } else { *m }, g, w1, w1_end);
                *v = beta2 * if fresh { zero } else { *v } + w2 * g * g;
                // A select rather than max(): the gradients are finite here,
                // and the select vectorises on every target.
                *vmax = if fresh || *v > *vmax { *v } else { *vmax };
                *p += neg_step * (*m / (vmax.sqrt() / bc2 + eps));
            }
        } else {
            for ((p, &g), (m, v)) in moments {
                let g = sign * g + coupled * *p;
                *p *= shrink;
                *m = lerp(if fresh { zero } else { *m }, g, w1, w1_end);
                *v = beta2 * if fresh { zero } else { *v } + w2 * g * g;
                *p += neg_step * (*m / (v.sqrt() / bc2 + eps));
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
