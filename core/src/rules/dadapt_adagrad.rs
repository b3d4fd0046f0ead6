//! D-Adaptation AdaGrad: dual-averaged AdaGrad whose step size `d` is
//! estimated as it goes.
//!
//! Reference: `dadaptation` 3.2 (`DAdaptAdaGrad`, dense gradients);
//! Defazio and Mishchenko, arXiv 2301.07733.
//!
//! Per step, with `dlr = d · lr` (d before the step), `λ` the weight decay
//! and `c = 1 - momentum`:
//!
//! ```text
//! g   ← g + λ p
//! α   ← α + g²                                    α starts at 1e-6
//! s   ← s + dlr g
//! Sw  ← Sw + Σ (s² / (√α + ε) after − s² / (√α + ε) before)
//! S1  ← S1 + Σ (|s| after − |s| before)
//! Gw  ← Gw + dlr² Σ g² / (√α + ε)                 with the new α
//! d   ← max(d, min((Sw − Gw) / S1, d · growth_rate))
//! z   = x0 − s / (√α + ε)
//! p   ← (1 − c) p + c z                           (momentum 0: p ← z)
//! ```
//!
//! `x0` is the first step's parameters. The three sums are the rule's
//! global partial sums in the phased step (the reference refuses sharded
//! runs). State: `α`, `s`, `x0`: 3 values per parameter.
//!
//! Behaviour where the reference is special:
//! - While `S1 = 0` (all gradients so far zero) the reference returns after
//!   updating `α` and `s`, before moving the parameters, storing the sums or
//!   counting the step. freestep does the same.
//! - A group's lr multiplier scales its `dlr`; 0 freezes the group.
//! - `log_every` only logs in the reference; read [`DAdaptAdagrad::d`].

use crate::error::Error;
use crate::float::Float;
use crate::math::{averaging_weights, within};
use crate::optimizer::{Piece, PieceMut, UpdateRule};
use crate::reduce::{fold_lanes, LANES, MAX_SUMS};
use crate::rules::Progress;

/// The reference's starting value of `α`.
const ALPHA0: f64 = 1e-6;

/// Hyperparameters of [`DAdaptAdagrad`], with `dadaptation.DAdaptAdaGrad`'s
/// names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DAdaptAdagradConfig {
    /// Multiplier of the adapted step size, `>= 0` (default 1).
    pub lr: f64,
    /// Momentum, in `[0, 1)` (default 0).
    pub momentum: f64,
    /// L2 penalty added to the gradient, `>= 0` (default 0).
    pub weight_decay: f64,
    /// Added to the root in the denominators, `> 0` (default 1e-6).
    pub eps: f64,
    /// Initial estimate of `d`, `> 0` (default 1e-6).
    pub d0: f64,
    /// Largest factor by which `d` may grow per step, `> 0`; infinity means
    /// unbounded (default infinity).
    pub growth_rate: f64,
}

impl Default for DAdaptAdagradConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            momentum: 0.0,
            weight_decay: 0.0,
            eps: 1e-6,
            d0: 1e-6,
            growth_rate: f64::INFINITY,
        }
    }
}

/// D-Adaptation AdaGrad: configuration and the `d` estimate.
///
/// # Examples
///
/// ```
/// use freestep::{DAdaptAdagrad, DAdaptAdagradConfig, Optimizer};
///
/// let rule = DAdaptAdagrad::new(DAdaptAdagradConfig::default());
/// let mut opt = Optimizer::<f64, _>::new(rule, 2).unwrap();
/// let mut params = [3.0, -3.0];
/// let mut state = [0.0; DAdaptAdagrad::state_len(2)];
/// for _ in 0..100 {
///     let grads = params;
///     opt.step(&mut params, &grads, &mut state).unwrap();
/// }
/// assert!(opt.rule().d() > 0.1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DAdaptAdagrad {
    /// The hyperparameters; may be changed between steps.
    pub config: DAdaptAdagradConfig,
    d: f64,
    gsq_weighted: f64,
    sksq_weighted: f64,
    skl1: f64,
    k: u64,
    last_dlr: f64,
}

/// The scalars of one D-Adaptation AdaGrad step.
#[derive(Clone, Copy, Debug, Default)]
pub struct DAdaptAdagradPlan {
    /// `d · lr` with `d` before the step, before the group multiplier.
    dlr: f64,
    /// The reference returns early: `α` and `s` move, the parameters do not.
    skip: bool,
}

impl DAdaptAdagrad {
    /// A rule with the given hyperparameters.
    pub const fn new(config: DAdaptAdagradConfig) -> Self {
        Self {
            config,
            d: config.d0,
            gsq_weighted: 0.0,
            sksq_weighted: 0.0,
            skl1: 0.0,
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
    /// `Gw`, the weighted sum of squared gradients.
    pub fn gsq_weighted(&self) -> f64 {
        self.gsq_weighted
    }
    /// `Sw`, the weighted squared norm of `s`.
    pub fn sksq_weighted(&self) -> f64 {
        self.sksq_weighted
    }
    /// `S1`, the l1 norm of `s`.
    pub fn skl1(&self) -> f64 {
        self.skl1
    }
    /// Steps counted.
    pub fn k(&self) -> u64 {
        self.k
    }
}

impl UpdateRule for DAdaptAdagrad {
    type Plan = DAdaptAdagradPlan;
    const SUMS: usize = 3;

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
        if !within(c.eps, f64::MIN_POSITIVE, f64::MAX) {
            return Err(Error::InvalidHyperparameter("eps"));
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

    /// `[Σ Δ(s²/(√α+ε)), Σ Δ|s|, Σ g²/(√α+ε)]` over the piece, the changes
    /// from before to after the step.
    fn partial_piece<T: Float>(&self, fresh: bool, piece: &Piece<'_, T>) -> [f64; MAX_SUMS] {
        let mut out = [0.0; MAX_SUMS];
        let c = &self.config;
        let r = piece.lr_scale;
        if c.lr * r == 0.0 {
            return out;
        }
        let lambda = T::from_f64(c.weight_decay * piece.weight_decay_scale);
        let dlr = T::from_f64(self.d * c.lr * r);
        let eps = T::from_f64(c.eps);
        let start = T::from_f64(ALPHA0);
        let [alpha, s, ..] = piece.dense;
        let mut sq = [0.0f64; LANES];
        let mut l1 = [0.0f64; LANES];
        let mut gsq = [0.0f64; LANES];
        let values = piece
            .params
            .iter()
            .zip(piece.grads)
            .zip(alpha.iter().zip(s));
        for (i, ((&p, &g), (&a, &s))) in values.enumerate() {
            let g = g + lambda * p;
            let (a, s) = if fresh { (start, T::ZERO) } else { (a, s) };
            let a_new = a + g * g;
            let s_new = s + dlr * g;
            let (root, root_new) = (a.sqrt() + eps, a_new.sqrt() + eps);
            let lane = i % LANES;
            let sums = (sq.get_mut(lane), l1.get_mut(lane), gsq.get_mut(lane));
            if let (Some(q), Some(n), Some(w)) = sums {
                *q += (s_new * s_new / root_new).to_f64() - (s * s / root).to_f64();
                *n += s_new.abs().to_f64() - s.abs().to_f64();
                *w += (g * g / root_new).to_f64();
            }
        }
        out[0] = fold_lanes(sq);
        out[1] = fold_lanes(l1);
        out[2] = r * r * fold_lanes(gsq);
        out
    }

    fn finish(&mut self, sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> DAdaptAdagradPlan {
        let c = self.config;
        let dlr = self.d * c.lr;
        self.last_dlr = dlr;
        let [sq_change, l1_change, g_sq, ..] = *sums;
        let sksq_weighted = self.sksq_weighted + sq_change;
        let skl1 = self.skl1 + l1_change;
        if skl1 == 0.0 {
            return DAdaptAdagradPlan { dlr, skip: true };
        }
        let gsq_weighted = self.gsq_weighted + dlr * dlr * g_sq;
        if c.lr > 0.0 {
            let d_hat = (sksq_weighted - gsq_weighted) / skl1;
            self.d = self.d.max(d_hat.min(self.d * c.growth_rate));
        }
        (self.gsq_weighted, self.sksq_weighted, self.skl1) = (gsq_weighted, sksq_weighted, skl1);
        self.k += 1;
        DAdaptAdagradPlan { dlr, skip: false }
    }

    fn update_piece<T: Float>(
        &self,
        plan: &DAdaptAdagradPlan,
        fresh: bool,
        piece: PieceMut<'_, T>,
    ) {
        let c = &self.config;
        let r = piece.lr_scale;
        let [alpha, s, x0s, ..] = piece.dense;
        let start = T::from_f64(ALPHA0);
        if fresh {
            alpha.iter_mut().for_each(|a| *a = start);
            s.iter_mut().for_each(|s| *s = T::ZERO);
            x0s.iter_mut()
                .zip(piece.params.iter())
                .for_each(|(x, &p)| *x = p);
        }
        if c.lr * r == 0.0 {
            return;
        }
        let lambda = T::from_f64(c.weight_decay * piece.weight_decay_scale);
        let dlr = T::from_f64(plan.dlr * r);
        let eps = T::from_f64(c.eps);
        let (keep, ck) = averaging_weights::<T>(c.momentum);
        let momentum = c.momentum != 0.0;
        let state = alpha.iter_mut().zip(s.iter_mut()).zip(x0s.iter());
        for ((p, &g), ((a, s), &x0)) in piece.params.iter_mut().zip(piece.grads).zip(state) {
            let g = g + lambda * *p;
            *a += g * g;
            *s += dlr * g;
            if !plan.skip {
                let z = x0 - *s / (a.sqrt() + eps);
                *p = if momentum { *p * keep + ck * z } else { z };
            }
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
