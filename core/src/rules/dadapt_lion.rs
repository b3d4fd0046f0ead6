//! D-Adaptation Lion: Lion whose step size `d` is estimated as it goes.
//!
//! Reference: `dadaptation` 3.2 (`DAdaptLion`); the D-Adaptation paper,
//! Defazio and Mishchenko, arXiv 2301.07733, applied to Lion (Chen et al.,
//! arXiv 2302.06675).
//!
//! Per step, with `dlr = d · lr` (d before the step), `b = √β2` and `λ` the
//! weight decay:
//!
//! ```text
//! u  = sign(β1 m + (1 - β1) g)
//! p  ← p (1 - dlr λ) - dlr u
//! m  ← β2 m + (1 - β2) dlr g
//! a  = dlr Σ u · s                          with s before the step
//! s  ← b s + (1 - b) dlr u
//! nw ← b nw + (1 - b) a
//! d  ← max(d, nw / ((1 - b) Σ|s|))
//! ```
//!
//! Unlike D-Adaptation Adam, the parameters move in the same pass as the
//! sums, with the old `d`; the new `d` only affects the next step. The sums
//! `a` and `Σ|s|` are the rule's global partial sums.
//!
//! State: `m` and `s`, 2 values per parameter.
//!
//! Behaviour where the reference is special:
//! - While `Σ|s| = 0` the reference returns after the parameter update but
//!   before storing `nw` and `d` or counting the step. freestep does the same.
//! - A group's lr multiplier scales its `dlr`; 0 freezes the group (the
//!   reference accepts only 0 and the common lr, and still moves a group
//!   with lr 0 by the global `dlr`).
//! - `log_every` only logs in the reference; read [`DAdaptLion::d`] instead.

use crate::error::Error;
use crate::float::Float;
use crate::math::{sign, within};
use crate::optimizer::{Piece, PieceMut, UpdateRule};
use crate::reduce::{fold_lanes, LANES, MAX_SUMS};
use crate::rules::Progress;

/// Hyperparameters of [`DAdaptLion`], with `dadaptation.DAdaptLion`'s
/// names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DAdaptLionConfig {
    /// Multiplier of the adapted step size, `>= 0` (default 1).
    pub lr: f64,
    /// `β1`, the interpolation that gives the update's sign, in `[0, 1)`
    /// (default 0.9).
    pub beta1: f64,
    /// `β2`, the decay of the momentum, in `[0, 1)` (default 0.99).
    pub beta2: f64,
    /// Decoupled weight decay, `>= 0` (default 0).
    pub weight_decay: f64,
    /// Initial estimate of `d`, `> 0` (default 1e-6).
    pub d0: f64,
}

impl Default for DAdaptLionConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            beta1: 0.9,
            beta2: 0.99,
            weight_decay: 0.0,
            d0: 1e-6,
        }
    }
}

/// D-Adaptation Lion: configuration and the `d` estimate.
///
/// # Examples
///
/// ```
/// use freestep::{DAdaptLion, DAdaptLionConfig, Optimizer};
///
/// let rule = DAdaptLion::new(DAdaptLionConfig::default());
/// let mut opt = Optimizer::<f64, _>::new(rule, 2).unwrap();
/// let mut params = [3.0, -3.0];
/// let mut state = [0.0; DAdaptLion::state_len(2)];
/// for _ in 0..100 {
///     let grads = params;
///     opt.step(&mut params, &grads, &mut state).unwrap();
/// }
/// assert!(opt.rule().d() > 0.01);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DAdaptLion {
    /// The hyperparameters; may be changed between steps.
    pub config: DAdaptLionConfig,
    d: f64,
    numerator_weighted: f64,
    k: u64,
    last_dlr: f64,
}

/// The scalars of one D-Adaptation Lion step.
#[derive(Clone, Copy, Debug, Default)]
pub struct DAdaptLionPlan {
    /// `d · lr` with `d` before the step, before the group multiplier.
    dlr: f64,
}

impl DAdaptLion {
    /// A rule with the given hyperparameters.
    pub const fn new(config: DAdaptLionConfig) -> Self {
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
        2 * n
    }

    /// The current step-size estimate `d`.
    pub fn d(&self) -> f64 {
        self.d
    }
    /// The weighted numerator `nw` of the estimate.
    pub fn numerator_weighted(&self) -> f64 {
        self.numerator_weighted
    }
    /// Steps counted.
    pub fn k(&self) -> u64 {
        self.k
    }

    fn sqrt_beta2(&self) -> f64 {
        libm::sqrt(self.config.beta2)
    }
}

impl UpdateRule for DAdaptLion {
    type Plan = DAdaptLionPlan;
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
        if !within(c.weight_decay, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("weight_decay"));
        }
        if !within(c.d0, f64::MIN_POSITIVE, f64::MAX) {
            return Err(Error::InvalidHyperparameter("d0"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        2
    }

    fn partial_piece<T: Float>(&self, fresh: bool, piece: &Piece<'_, T>) -> [f64; MAX_SUMS] {
        let mut out = [0.0; MAX_SUMS];
        let c = &self.config;
        let r = piece.lr_scale;
        if c.lr * r == 0.0 {
            return out;
        }
        let dlr = self.d * c.lr * r;
        let b = self.sqrt_beta2();
        let (beta1, w1) = (T::from_f64(c.beta1), T::from_f64(1.0 - c.beta1));
        let (b_t, s_coef) = (T::from_f64(b), T::from_f64((1.0 - b) * dlr));
        let [m, s, ..] = piece.dense;
        let mut dot = [0.0f64; LANES];
        let mut l1 = [0.0f64; LANES];
        for (i, (&g, (&m, &s))) in piece.grads.iter().zip(m.iter().zip(s)).enumerate() {
            let (m, s) = if fresh { (T::ZERO, T::ZERO) } else { (m, s) };
            let u = sign(beta1 * m + w1 * g);
            let lane = i % LANES;
            if let (Some(a), Some(n)) = (dot.get_mut(lane), l1.get_mut(lane)) {
                *a += (u * s).to_f64();
                *n += (b_t * s + s_coef * u).abs().to_f64();
            }
        }
        out[0] = dlr * fold_lanes(dot);
        out[1] = fold_lanes(l1);
        out
    }

    fn finish(&mut self, sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> DAdaptLionPlan {
        let c = self.config;
        let dlr = self.d * c.lr;
        self.last_dlr = dlr;
        let [numerator, sk_l1, ..] = *sums;
        let b = self.sqrt_beta2();
        if sk_l1 == 0.0 {
            return DAdaptLionPlan { dlr };
        }
        let nw = b * self.numerator_weighted + (1.0 - b) * numerator;
        if c.lr > 0.0 {
            self.d = self.d.max(nw / ((1.0 - b) * sk_l1));
        }
        self.numerator_weighted = nw;
        self.k += 1;
        DAdaptLionPlan { dlr }
    }

    fn update_piece<T: Float>(&self, plan: &DAdaptLionPlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let r = piece.lr_scale;
        let [m, s, ..] = piece.dense;
        if c.lr * r == 0.0 {
            if fresh {
                m.iter_mut().chain(s.iter_mut()).for_each(|x| *x = T::ZERO);
            }
            return;
        }
        let dlr = plan.dlr * r;
        let b = self.sqrt_beta2();
        let shrink = T::from_f64(1.0 - dlr * c.weight_decay * piece.weight_decay_scale);
        let neg_dlr = T::from_f64(-dlr);
        let (beta1, w1) = (T::from_f64(c.beta1), T::from_f64(1.0 - c.beta1));
        let (beta2, m_coef) = (T::from_f64(c.beta2), T::from_f64((1.0 - c.beta2) * dlr));
        let (b_t, s_coef) = (T::from_f64(b), T::from_f64((1.0 - b) * dlr));
        let state = m.iter_mut().zip(s.iter_mut());
        for ((p, &g), (m, s)) in piece.params.iter_mut().zip(piece.grads).zip(state) {
            let (m0, s0) = if fresh { (T::ZERO, T::ZERO) } else { (*m, *s) };
            let u = sign(beta1 * m0 + w1 * g);
            *p *= shrink;
            *p += neg_dlr * u;
            *m = beta2 * m0 + m_coef * g;
            *s = b_t * s0 + s_coef * u;
        }
    }

    fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    /// `lr` is the last step's `dlr = d · lr`, with `d` as it was before
    /// that step.
    fn progress(&self) -> Progress {
        Progress {
            k: self.k,
            lr: self.last_dlr,
            d: Some(self.d),
        }
    }
}
