//! D-Adaptation Adam: Adam whose step size `d` is a lower bound on the
//! distance to the solution, estimated as it goes.
//!
//! Reference: `dadaptation` 3.2 (`DAdaptAdam`); Defazio and Mishchenko,
//! "Learning-Rate-Free Learning by D-Adaptation", arXiv 2301.07733.
//! Symbols follow the reference; `r` is a group's lr multiplier, which plays
//! the reference's `layer_scale`.
//!
//! Per step, with `√β2` written `b`, `bc = √(1 - β2^(k+1)) / (1 - β1^(k+1))`
//! with `use_bias_correction` (else 1) and `dlr = d · lr · bc`:
//!
//! ```text
//! g  ← g + λ p                                coupled decay only
//! a  = Σ r dlr g · s / (√v + ε)               with s and v before the step
//! m  ← β1 m + r dlr (1 - β1) g
//! v  ← β2 v + (1 - β2) g²
//! s  ← b s + dlr (1 - b) g
//! nw ← b nw + (1 - b) a
//! d̂  = nw / ((1 - b) Σ r |s|)
//! d  ← max(d, min(d̂, d · growth_rate))
//! p  ← p - λ dlr p                            decoupled decay only
//! p  ← p - m / (√v + ε)
//! ```
//!
//! The sums `a` and `Σ r|s|` are global: the rule's partial sums in the
//! phased step (see [`crate::optimizer`]), in place of the reference's
//! `fsdp_in_use` all-reduce. State: `m`, `v`, `s`: 3 values per parameter.
//!
//! Behaviour where the reference is special or undefined:
//! - While `Σ r|s| = 0` (all gradients so far zero) the reference returns
//!   early after updating `m`, `v` and `s`, before moving the parameters,
//!   storing `nw` or counting the step. freestep does exactly that.
//! - A group whose multiplier is 0 is frozen: no state or parameter update
//!   (the reference skips its state and would fail on its first step).
//! - `log_every` only logs in the reference; read [`DAdaptAdam::d`] instead.

use crate::error::Error;
use crate::float::Float;
use crate::math::{powf, within};
use crate::optimizer::{Piece, PieceMut, UpdateRule};
use crate::reduce::{fold_lanes, LANES, MAX_SUMS};
use crate::rules::Progress;

/// Hyperparameters of [`DAdaptAdam`], with `dadaptation.DAdaptAdam`'s names
/// and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DAdaptAdamConfig {
    /// Multiplier of the adapted step size, `>= 0` (default 1).
    pub lr: f64,
    /// `β1`, the decay of the first moment, in `[0, 1)` (default 0.9).
    pub beta1: f64,
    /// `β2`, the decay of the second moment, in `[0, 1)` (default 0.999).
    pub beta2: f64,
    /// Added to the denominator, `> 0` (default 1e-8).
    pub eps: f64,
    /// Weight decay, `>= 0` (default 0).
    pub weight_decay: f64,
    /// AdamW-style decoupled decay instead of an L2 term (default false).
    pub decouple: bool,
    /// Adam's bias correction in the step size (default false).
    pub use_bias_correction: bool,
    /// Initial estimate of `d`, `> 0` (default 1e-6).
    pub d0: f64,
    /// Largest factor by which `d` may grow per step, `> 0`; infinity means
    /// unbounded (default infinity).
    pub growth_rate: f64,
}

impl Default for DAdaptAdamConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decouple: false,
            use_bias_correction: false,
            d0: 1e-6,
            growth_rate: f64::INFINITY,
        }
    }
}

/// D-Adaptation Adam: configuration and the `d` estimate.
///
/// # Examples
///
/// ```
/// use freestep::{DAdaptAdam, DAdaptAdamConfig, Optimizer};
///
/// let rule = DAdaptAdam::new(DAdaptAdamConfig::default());
/// let mut opt = Optimizer::<f64, _>::new(rule, 2).unwrap();
/// let mut params = [3.0, -3.0];
/// let mut state = [0.0; DAdaptAdam::state_len(2)];
/// for _ in 0..100 {
///     let grads = params;
///     opt.step(&mut params, &grads, &mut state).unwrap();
/// }
/// // d grew from 1e-6 towards the distance to the solution.
/// assert!(opt.rule().d() > 0.1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DAdaptAdam {
    /// The hyperparameters; may be changed between steps.
    pub config: DAdaptAdamConfig,
    d: f64,
    numerator_weighted: f64,
    k: u64,
    last_dlr: f64,
}

/// The scalars of one D-Adaptation Adam step.
#[derive(Clone, Copy, Debug, Default)]
pub struct DAdaptAdamPlan {
    /// `d · lr · bc` with `d` before the step, before the group multiplier.
    dlr: f64,
    /// True when the reference returns early: the state moves, the
    /// parameters do not.
    skip: bool,
}

impl DAdaptAdam {
    /// A rule with the given hyperparameters.
    pub const fn new(config: DAdaptAdamConfig) -> Self {
        Self {
            config,
            d: config.d0,
            numerator_weighted: 0.0,
            k: 0,
            last_dlr: 0.0,
        }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize) -> usize {
        3 * n
    }

    /// The current step-size estimate `d`.
    pub fn d(&self) -> f64 {
        self.d
    }
    /// The weighted numerator `nw` of the estimate.
    pub fn numerator_weighted(&self) -> f64 {
        self.numerator_weighted
    }
    /// Steps counted (steps that returned early are not counted).
    pub fn k(&self) -> u64 {
        self.k
    }

    fn sqrt_beta2(&self) -> f64 {
        libm::sqrt(self.config.beta2)
    }

    /// `d · lr · bc` for the next step.
    fn dlr(&self) -> f64 {
        let c = &self.config;
        let bc = match c.use_bias_correction {
            true => {
                let t = self.k as f64 + 1.0;
                libm::sqrt(1.0 - powf(c.beta2, t)) / (1.0 - powf(c.beta1, t))
            }
            false => 1.0,
        };
        self.d * c.lr * bc
    }

    /// `λ` added to the gradient: the weight decay unless decoupled.
    fn coupled(&self, wd_scale: f64) -> f64 {
        match self.config.decouple {
            true => 0.0,
            false => self.config.weight_decay * wd_scale,
        }
    }
}

impl UpdateRule for DAdaptAdam {
    type Plan = DAdaptAdamPlan;
    const SUMS: usize = 2;

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
        if !within(c.d0, f64::MIN_POSITIVE, f64::MAX) {
            return Err(Error::InvalidHyperparameter("d0"));
        }
        if c.growth_rate.is_nan() || c.growth_rate <= 0.0 {
            return Err(Error::InvalidHyperparameter("growth_rate"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        3
    }

    fn partial_piece<T: Float>(&self, fresh: bool, piece: &Piece<'_, T>) -> [f64; MAX_SUMS] {
        let mut out = [0.0; MAX_SUMS];
        let r = piece.lr_scale;
        if self.config.lr * r == 0.0 {
            return out;
        }
        let dlr = self.dlr();
        let b = self.sqrt_beta2();
        let coupled = T::from_f64(self.coupled(piece.weight_decay_scale));
        let (b_t, s_coef) = (T::from_f64(b), T::from_f64(dlr * (1.0 - b)));
        let eps = T::from_f64(self.config.eps);
        let [_, v, s, ..] = piece.dense;
        // Lanes add in f64 whatever T is, as the reference accumulates.
        let mut dot = [0.0f64; LANES];
        let mut l1 = [0.0f64; LANES];
        let values = piece.params.iter().zip(piece.grads).zip(v.iter().zip(s));
        for (i, ((&p, &g), (&v, &s))) in values.enumerate() {
            let g = g + coupled * p;
            let (v, s) = if fresh { (T::ZERO, T::ZERO) } else { (v, s) };
            let lane = i % LANES;
            if let (Some(a), Some(n)) = (dot.get_mut(lane), l1.get_mut(lane)) {
                *a += (g * (s / (v.sqrt() + eps))).to_f64();
                *n += (b_t * s + s_coef * g).abs().to_f64();
            }
        }
        out[0] = r * dlr * fold_lanes(dot);
        out[1] = r * fold_lanes(l1);
        out
    }

    fn finish(&mut self, sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> DAdaptAdamPlan {
        let c = self.config;
        let dlr = self.dlr();
        self.last_dlr = dlr;
        let [numerator, sk_l1, ..] = *sums;
        let b = self.sqrt_beta2();
        if sk_l1 == 0.0 {
            return DAdaptAdamPlan { dlr, skip: true };
        }
        let nw = b * self.numerator_weighted + (1.0 - b) * numerator;
        if c.lr > 0.0 {
            let d_hat = nw / ((1.0 - b) * sk_l1);
            self.d = self.d.max(d_hat.min(self.d * c.growth_rate));
        }
        self.numerator_weighted = nw;
        self.k += 1;
        DAdaptAdamPlan { dlr, skip: false }
    }

    fn update_piece<T: Float>(&self, plan: &DAdaptAdamPlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let r = piece.lr_scale;
        if c.lr * r == 0.0 {
            // Frozen, but the first step must still write the state that
            // later steps read.
            if fresh {
                piece.dense.into_iter().flatten().for_each(|x| *x = T::ZERO);
            }
            return;
        }
        let b = self.sqrt_beta2();
        let coupled = T::from_f64(self.coupled(piece.weight_decay_scale));
        let beta1 = T::from_f64(c.beta1);
        let m_coef = T::from_f64(r * plan.dlr * (1.0 - c.beta1));
        let beta2 = T::from_f64(c.beta2);
        let v_coef = T::from_f64(1.0 - c.beta2);
        let (b_t, s_coef) = (T::from_f64(b), T::from_f64(plan.dlr * (1.0 - b)));
        let decoupled = match c.decouple {
            true => c.weight_decay * piece.weight_decay_scale,
            false => 0.0,
        };
        let shrink = T::from_f64(-decoupled * plan.dlr);
        let eps = T::from_f64(c.eps);
        let (skip, zero) = (plan.skip, T::ZERO);
        let [m, v, s, ..] = piece.dense;
        let state = m.iter_mut().zip(v.iter_mut()).zip(s.iter_mut());
        for ((p, &g), ((m, v), s)) in piece.params.iter_mut().zip(piece.grads).zip(state) {
            let g = g + coupled * *p;
            let (m0, v0, s0) = if fresh {
                (zero, zero, zero)
            } else {
                (*m, *v, *s)
            };
            *m = beta1 * m0 + m_coef * g;
            *v = beta2 * v0 + v_coef * g * g;
            *s = b_t * s0 + s_coef * g;
            if !skip {
                *p += shrink * *p;
                *p -= *m / (v.sqrt() + eps);
            }
        }
    }

    fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    /// `lr` is the last step's `dlr = d · lr · bc`, with `d` as it was
    /// before that step.
    fn progress(&self) -> Progress {
        Progress {
            k: self.k,
            lr: self.last_dlr,
            d: Some(self.d),
        }
    }
}
