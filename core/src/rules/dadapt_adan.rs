//! D-Adaptation Adan: Adan (adaptive Nesterov momentum) whose step size
//! `d` is estimated as it goes.
//!
//! Reference: `dadaptation` 3.2 (`DAdaptAdan`); Defazio and Mishchenko,
//! arXiv 2301.07733, applied to Adan (Xie et al., arXiv 2208.06677).
//!
//! Per step, with `dlr = d · lr` (d before the step), `Δ = g − g_prev` (0 on
//! the first counted step) and `λ` the weight decay:
//!
//! ```text
//! m   ← β1 m + dlr (1 − β1) g
//! md  ← β2 md + dlr (1 − β2) Δ
//! v   ← β3 v + (1 − β3) (g + β2 Δ)²
//! δ   = √v + ε
//! s   ← β3 s + dlr (1 − β3) g
//! Gw  ← β3 Gw + dlr² (1 − β3) Σ g² / δ
//! d   ← max(d, min((Σ s²/δ / (1 − β3) − Gw) / Σ|s|, d · growth_rate))
//! p   ← (p − (m + β2 md) / δ) / (1 + dlr λ)      (no_prox: p (1 − dlr λ) − …)
//! ```
//!
//! The three sums are the rule's global partial sums in the phased step.
//! State: `m`, `md`, `v`, `s` and the previous gradient: 5 values per
//! parameter.
//!
//! Behaviour where the reference is special:
//! - While `Σ|s| = 0` the reference returns after updating `m`, `md`, `v`
//!   and `s`, before moving the parameters, storing `Gw` and `d`, counting
//!   the step or keeping the gradient; until a step is counted, every
//!   gradient is its own previous one (`Δ = 0`). freestep does the same.
//! - A group's lr multiplier scales its `dlr`; 0 freezes the group.
//! - `log_every` only logs in the reference; read [`DAdaptAdan::d`] instead.

use crate::error::Error;
use crate::float::Float;
use crate::math::within;
use crate::optimizer::{Piece, PieceMut, UpdateRule};
use crate::reduce::{fold_lanes, LANES, MAX_SUMS};
use crate::rules::Progress;

/// Hyperparameters of [`DAdaptAdan`], with `dadaptation.DAdaptAdan`'s names
/// and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DAdaptAdanConfig {
    /// Multiplier of the adapted step size, `>= 0` (default 1).
    pub lr: f64,
    /// `β1`, the decay of the gradient average, in `[0, 1)` (default 0.98).
    pub beta1: f64,
    /// `β2`, the decay of the gradient-difference average, in `[0, 1)`
    /// (default 0.92).
    pub beta2: f64,
    /// `β3`, the decay of the second moment and of `s`, in `[0, 1)` (default
    /// 0.99).
    pub beta3: f64,
    /// Added to the denominator, `> 0` (default 1e-8).
    pub eps: f64,
    /// Weight decay, `>= 0` (default 0.02).
    pub weight_decay: f64,
    /// Decay the weights before the step instead of dividing after it
    /// (default false).
    pub no_prox: bool,
    /// Initial estimate of `d`, `> 0` (default 1e-6).
    pub d0: f64,
    /// Largest factor by which `d` may grow per step, `> 0`; infinity means
    /// unbounded (default infinity).
    pub growth_rate: f64,
}

impl Default for DAdaptAdanConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            beta1: 0.98,
            beta2: 0.92,
            beta3: 0.99,
            eps: 1e-8,
            weight_decay: 0.02,
            no_prox: false,
            d0: 1e-6,
            growth_rate: f64::INFINITY,
        }
    }
}

/// D-Adaptation Adan: configuration and the `d` estimate.
///
/// # Examples
///
/// ```
/// use freestep::{DAdaptAdan, DAdaptAdanConfig, Optimizer};
///
/// let rule = DAdaptAdan::new(DAdaptAdanConfig { weight_decay: 0.0, ..Default::default() });
/// let mut opt = Optimizer::<f64, _>::new(rule, 2).unwrap();
/// let mut params = [3.0, -3.0];
/// let mut state = [0.0; DAdaptAdan::state_len(2)];
/// for _ in 0..100 {
///     let grads = params;
///     opt.step(&mut params, &grads, &mut state).unwrap();
/// }
/// assert!(opt.rule().d() > 0.01);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DAdaptAdan {
    /// The hyperparameters; may be changed between steps.
    pub config: DAdaptAdanConfig,
    d: f64,
    gsq_weighted: f64,
    k: u64,
    last_dlr: f64,
}

/// The scalars of one D-Adaptation Adan step.
#[derive(Clone, Copy, Debug, Default)]
pub struct DAdaptAdanPlan {
    /// `d · lr` with `d` before the step, before the group multiplier.
    dlr: f64,
    /// No step counted yet: the gradient difference is 0.
    first: bool,
    /// The reference returns early: the moments move, the parameters do not.
    skip: bool,
}

impl DAdaptAdan {
    /// A rule with the given hyperparameters.
    pub const fn new(config: DAdaptAdanConfig) -> Self {
        Self {
            config,
            d: config.d0,
            gsq_weighted: 0.0,
            k: 0,
            last_dlr: 0.0,
        }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize) -> usize {
        5 * n
    }

    /// The current step-size estimate `d`.
    pub fn d(&self) -> f64 {
        self.d
    }
    /// `Gw`, the weighted sum of squared gradients.
    pub fn gsq_weighted(&self) -> f64 {
        self.gsq_weighted
    }
    /// Steps counted.
    pub fn k(&self) -> u64 {
        self.k
    }
}

/// The new moments of one coordinate (see the module's equations).
struct Moments<T> {
    m: T,
    md: T,
    v: T,
    s: T,
    denom: T,
}

/// The coefficients of one group's step.
struct Coefficients<T> {
    beta1: T,
    m: T,
    beta2: T,
    md: T,
    beta3: T,
    v: T,
    s: T,
    eps: T,
}

impl<T: Float> Coefficients<T> {
    fn new(c: &DAdaptAdanConfig, dlr: f64) -> Self {
        Self {
            beta1: T::from_f64(c.beta1),
            m: T::from_f64(dlr * (1.0 - c.beta1)),
            beta2: T::from_f64(c.beta2),
            md: T::from_f64(dlr * (1.0 - c.beta2)),
            beta3: T::from_f64(c.beta3),
            v: T::from_f64(1.0 - c.beta3),
            s: T::from_f64(dlr * (1.0 - c.beta3)),
            eps: T::from_f64(c.eps),
        }
    }

    /// The moments after a step with gradient `g` and difference `diff`
    /// from the moments before (`m`, `md`, `v`, `s`).
    #[inline(always)]
    fn step(&self, g: T, diff: T, [m, md, v, s]: [T; 4]) -> Moments<T> {
        let update = g + self.beta2 * diff;
        let m = self.beta1 * m + self.m * g;
        let md = self.beta2 * md + self.md * diff;
        let v = self.beta3 * v + self.v * (update * update);
        let s = self.beta3 * s + self.s * g;
        Moments {
            m,
            md,
            v,
            s,
            denom: v.sqrt() + self.eps,
        }
    }
}

impl UpdateRule for DAdaptAdan {
    type Plan = DAdaptAdanPlan;
    const SUMS: usize = 3;

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        if !within(c.lr, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("lr"));
        }
        for (beta, name) in [(c.beta1, "beta1"), (c.beta2, "beta2"), (c.beta3, "beta3")] {
            if !within(beta, 0.0, 1.0) || beta == 1.0 {
                return Err(Error::InvalidHyperparameter(name));
            }
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
        5
    }

    /// `[Σ g²/δ, Σ s²/δ, Σ|s|]` with the new `δ` and `s`, `g²/δ` weighted by
    /// the group multiplier squared (its `dlr²`).
    fn partial_piece<T: Float>(&self, fresh: bool, piece: &Piece<'_, T>) -> [f64; MAX_SUMS] {
        let mut out = [0.0; MAX_SUMS];
        let c = &self.config;
        let r = piece.lr_scale;
        if c.lr * r == 0.0 {
            return out;
        }
        let k = Coefficients::<T>::new(c, self.d * c.lr * r);
        let first = self.k == 0;
        let [m, md, v, s, prev] = piece.dense;
        let mut gsq = [0.0f64; LANES];
        let mut ssq = [0.0f64; LANES];
        let mut l1 = [0.0f64; LANES];
        let old = m.iter().zip(md.iter()).zip(v.iter().zip(s.iter()));
        for (i, ((&g, &prev), ((&m, &md), (&v, &s)))) in
            piece.grads.iter().zip(prev.iter()).zip(old).enumerate()
        {
            let zero = T::ZERO;
            let before = if fresh { [zero; 4] } else { [m, md, v, s] };
            let diff = if first || fresh { zero } else { g - prev };
            let new = k.step(g, diff, before);
            let lane = i % LANES;
            let sums = (gsq.get_mut(lane), ssq.get_mut(lane), l1.get_mut(lane));
            if let (Some(a), Some(b), Some(n)) = sums {
                *a += (g * g / new.denom).to_f64();
                *b += (new.s * new.s / new.denom).to_f64();
                *n += new.s.abs().to_f64();
            }
        }
        out[0] = r * r * fold_lanes(gsq);
        out[1] = fold_lanes(ssq);
        out[2] = fold_lanes(l1);
        out
    }

    fn finish(&mut self, sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> DAdaptAdanPlan {
        let c = self.config;
        let dlr = self.d * c.lr;
        self.last_dlr = dlr;
        let first = self.k == 0;
        let [g_sq, sksq_weighted, sk_l1, ..] = *sums;
        let gsq_weighted = c.beta3 * self.gsq_weighted + g_sq * (dlr * dlr) * (1.0 - c.beta3);
        if sk_l1 == 0.0 {
            return DAdaptAdanPlan {
                dlr,
                first,
                skip: true,
            };
        }
        if c.lr > 0.0 {
            let d_hat = (sksq_weighted / (1.0 - c.beta3) - gsq_weighted) / sk_l1;
            self.d = self.d.max(d_hat.min(self.d * c.growth_rate));
        }
        self.gsq_weighted = gsq_weighted;
        self.k += 1;
        DAdaptAdanPlan {
            dlr,
            first,
            skip: false,
        }
    }

    fn update_piece<T: Float>(&self, plan: &DAdaptAdanPlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let r = piece.lr_scale;
        let [m, md, v, s, prev] = piece.dense;
        if c.lr * r == 0.0 {
            if fresh {
                for x in m.iter_mut().chain(md.iter_mut()).chain(v.iter_mut()) {
                    *x = T::ZERO;
                }
                s.iter_mut().for_each(|x| *x = T::ZERO);
                prev.iter_mut().zip(piece.grads).for_each(|(x, &g)| *x = g);
            }
            return;
        }
        let dlr = plan.dlr * r;
        let k = Coefficients::<T>::new(c, dlr);
        let decay = dlr * c.weight_decay * piece.weight_decay_scale;
        let (shrink, divide) = match c.no_prox {
            true => (T::from_f64(1.0 - decay), T::ONE),
            false => (T::ONE, T::from_f64(1.0 + decay)),
        };
        let zero = T::ZERO;
        let state = m
            .iter_mut()
            .zip(md.iter_mut())
            .zip(v.iter_mut().zip(s.iter_mut()));
        let values = piece
            .params
            .iter_mut()
            .zip(piece.grads)
            .zip(prev.iter_mut());
        for (((p, &g), prev), ((m, md), (v, s))) in values.zip(state) {
            let before = if fresh { [zero; 4] } else { [*m, *md, *v, *s] };
            let diff = if plan.first || fresh { zero } else { g - *prev };
            let new = k.step(g, diff, before);
            (*m, *md, *v, *s) = (new.m, new.md, new.v, new.s);
            if fresh {
                // Written once, so that later steps never read garbage.
                *prev = g;
            }
            if !plan.skip {
                let update = (new.m + k.beta2 * new.md) / new.denom;
                if c.no_prox {
                    *p *= shrink;
                    *p -= update;
                } else {
                    *p -= update;
                    *p = *p / divide;
                }
                *prev = g;
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
