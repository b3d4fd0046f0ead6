//! D-Adaptation SGD: dual-averaged SGD whose step size `d` is a lower bound
//! on the distance to the solution, estimated as it goes.
//!
//! Reference: `dadaptation` 3.2 (`DAdaptSGD`); Defazio and Mishchenko,
//! "Learning-Rate-Free Learning by D-Adaptation", arXiv 2301.07733.
//!
//! With `g0` the norm of the first gradient (taken before weight decay, as
//! the reference does), `dlr = d · lr / g0`, `c = 1 - momentum` and `λ` the
//! weight decay:
//!
//! ```text
//! g  ← g + λ p
//! nw ← nw + dlr Σ g · s                      with s before the step
//! s  ← s + dlr g
//! d̂  = 2 nw / ‖s‖
//! d  ← max(d, min(d̂, d · growth_rate))
//! p  ← (1 - c) p + c (x0 - s)                (momentum 0: p ← x0 - s)
//! ```
//!
//! `x0` is the first step's parameters. The sums are global: the rule's
//! partial sums in the phased step (see [`crate::optimizer`]). On the first
//! step `‖s‖²` is `dlr² Σ g²`, since `s` starts at 0; afterwards it is summed
//! from the new `s` directly, as the reference does.
//!
//! State: `s` and `x0`, 2 values per parameter (the reference also keeps a
//! scratch `z`).
//!
//! Behaviour where the reference is special or undefined:
//! - A first gradient that is all zero makes the reference divide by zero
//!   (`g0 = 0`) and raise. freestep takes no step instead: nothing moves,
//!   the step is not counted, and the next step is treated as the first.
//! - A later step with `‖s‖ = 0` (gradients that cancel exactly) makes the
//!   reference divide by zero in `d̂`. freestep leaves `d` alone there and
//!   does what the reference's code does next for that case: update `s`,
//!   move no parameter, count no step.
//! - A group's lr multiplier scales its `dlr`; 0 freezes the group (the
//!   reference accepts only 0 and the common lr).
//! - `log_every` only logs in the reference; read [`DAdaptSgd::d`] instead.

use crate::error::Error;
use crate::float::Float;
use crate::math::{averaging_weights, within};
use crate::optimizer::{Piece, PieceMut, UpdateRule};
use crate::reduce::{fold_lanes, LANES, MAX_SUMS};
use crate::rules::Progress;

/// Hyperparameters of [`DAdaptSgd`], with `dadaptation.DAdaptSGD`'s names
/// and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DAdaptSgdConfig {
    /// Multiplier of the adapted step size, `>= 0` (default 1).
    pub lr: f64,
    /// Momentum, in `[0, 1)` (default 0).
    pub momentum: f64,
    /// L2 penalty added to the gradient, `>= 0` (default 0).
    pub weight_decay: f64,
    /// Initial estimate of `d`, `> 0` (default 1e-6).
    pub d0: f64,
    /// Largest factor by which `d` may grow per step, `> 0`; infinity means
    /// unbounded (default infinity).
    pub growth_rate: f64,
}

impl Default for DAdaptSgdConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            momentum: 0.0,
            weight_decay: 0.0,
            d0: 1e-6,
            growth_rate: f64::INFINITY,
        }
    }
}

/// D-Adaptation SGD: configuration and the `d` estimate.
///
/// # Examples
///
/// ```
/// use freestep::{DAdaptSgd, DAdaptSgdConfig, Optimizer};
///
/// let rule = DAdaptSgd::new(DAdaptSgdConfig { momentum: 0.9, ..Default::default() });
/// let mut opt = Optimizer::<f64, _>::new(rule, 2).unwrap();
/// let mut params = [3.0, -3.0];
/// let mut state = [0.0; DAdaptSgd::state_len(2)];
/// for _ in 0..200 {
///     let grads = params;
///     opt.step(&mut params, &grads, &mut state).unwrap();
/// }
/// // d grew from 1e-6 towards the distance to the solution.
/// assert!(opt.rule().d() > 0.1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DAdaptSgd {
    /// The hyperparameters; may be changed between steps.
    pub config: DAdaptSgdConfig,
    d: f64,
    numerator_weighted: f64,
    g0_norm: Option<f64>,
    k: u64,
    last_dlr: f64,
}

/// The scalars of one D-Adaptation SGD step.
#[derive(Clone, Copy, Debug, Default)]
pub struct DAdaptSgdPlan {
    /// `d · lr / g0` with `d` before the step, before the group multiplier.
    dlr: f64,
    /// The reference returns early: `s` moves, the parameters do not.
    skip: bool,
    /// No step at all (a zero first gradient): only fresh state is written.
    nothing: bool,
}

impl DAdaptSgd {
    /// A rule with the given hyperparameters.
    pub const fn new(config: DAdaptSgdConfig) -> Self {
        Self {
            config,
            d: config.d0,
            numerator_weighted: 0.0,
            g0_norm: None,
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
    /// The running numerator `nw` of the estimate.
    pub fn numerator_weighted(&self) -> f64 {
        self.numerator_weighted
    }
    /// The norm of the first gradient, once there was one.
    pub fn g0_norm(&self) -> Option<f64> {
        self.g0_norm
    }
    /// Steps counted.
    pub fn k(&self) -> u64 {
        self.k
    }

    fn lambda(&self, wd_scale: f64) -> f64 {
        self.config.weight_decay * wd_scale
    }
}

impl UpdateRule for DAdaptSgd {
    type Plan = DAdaptSgdPlan;
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
        if !within(c.d0, f64::MIN_POSITIVE, f64::MAX) {
            return Err(Error::InvalidHyperparameter("d0"));
        }
        if c.growth_rate.is_nan() || c.growth_rate <= 0.0 {
            return Err(Error::InvalidHyperparameter("growth_rate"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        2
    }

    /// Before `g0` is known: `[Σ g_raw², Σ g², 0]` (`s` is still 0). After:
    /// `[Σ r g·s, Σ (s + r dlr g)², 0]`, `r` the group multiplier.
    fn partial_piece<T: Float>(&self, fresh: bool, piece: &Piece<'_, T>) -> [f64; MAX_SUMS] {
        let mut out = [0.0; MAX_SUMS];
        let r = piece.lr_scale;
        if self.config.lr * r == 0.0 {
            return out;
        }
        let lambda = T::from_f64(self.lambda(piece.weight_decay_scale));
        let [s, ..] = piece.dense;
        let mut first = [0.0f64; LANES];
        let mut second = [0.0f64; LANES];
        match self.g0_norm {
            None => {
                // `s` is 0 until the first counted step; weight each group's
                // Σ g² by r² so that finish can scale it by dlr².
                let values = piece.params.iter().zip(piece.grads);
                for (i, (&p, &g)) in values.enumerate() {
                    let lane = i % LANES;
                    let decayed = g + lambda * p;
                    if let (Some(a), Some(b)) = (first.get_mut(lane), second.get_mut(lane)) {
                        *a += (g * g).to_f64();
                        *b += (decayed * decayed).to_f64();
                    }
                }
                out[0] = fold_lanes(first);
                out[1] = r * r * fold_lanes(second);
            }
            Some(g0) => {
                let dlr = T::from_f64(self.d * self.config.lr / g0 * r);
                let values = piece.params.iter().zip(piece.grads).zip(s.iter());
                for (i, ((&p, &g), &s)) in values.enumerate() {
                    let lane = i % LANES;
                    let g = g + lambda * p;
                    let s = if fresh { T::ZERO } else { s };
                    let s_new = s + dlr * g;
                    if let (Some(a), Some(b)) = (first.get_mut(lane), second.get_mut(lane)) {
                        *a += (g * s).to_f64();
                        *b += (s_new * s_new).to_f64();
                    }
                }
                out[0] = r * fold_lanes(first);
                out[1] = fold_lanes(second);
            }
        }
        out
    }

    fn finish(&mut self, sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> DAdaptSgdPlan {
        let c = self.config;
        let [first, second, ..] = *sums;
        let (g0, sk_sq, dot) = match self.g0_norm {
            Some(g0) => (g0, second, first),
            None => {
                let g0 = libm::sqrt(first);
                if g0 == 0.0 {
                    return DAdaptSgdPlan {
                        dlr: 0.0,
                        skip: true,
                        nothing: true,
                    };
                }
                let dlr = self.d * c.lr / g0;
                (g0, dlr * dlr * second, 0.0)
            }
        };
        let dlr = self.d * c.lr / g0;
        self.last_dlr = dlr;
        self.g0_norm = Some(g0);
        let nw = self.numerator_weighted + dlr * dot;
        if c.lr > 0.0 && sk_sq > 0.0 {
            let d_hat = 2.0 * nw / libm::sqrt(sk_sq);
            self.d = self.d.max(d_hat.min(self.d * c.growth_rate));
        }
        if sk_sq == 0.0 {
            return DAdaptSgdPlan {
                dlr,
                skip: true,
                nothing: false,
            };
        }
        self.numerator_weighted = nw;
        self.k += 1;
        DAdaptSgdPlan {
            dlr,
            skip: false,
            nothing: false,
        }
    }

    fn update_piece<T: Float>(&self, plan: &DAdaptSgdPlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let r = piece.lr_scale;
        let [s, x0, ..] = piece.dense;
        if fresh {
            // The first pass writes the state, whatever else happens.
            s.iter_mut().for_each(|s| *s = T::ZERO);
            x0.iter_mut()
                .zip(piece.params.iter())
                .for_each(|(x, &p)| *x = p);
        }
        if plan.nothing || c.lr * r == 0.0 {
            return;
        }
        let lambda = T::from_f64(self.lambda(piece.weight_decay_scale));
        let dlr = T::from_f64(plan.dlr * r);
        let (keep, ck) = averaging_weights::<T>(c.momentum);
        let skip = plan.skip;
        let values = piece.params.iter_mut().zip(piece.grads);
        for ((p, &g), (s, &x0)) in values.zip(s.iter_mut().zip(x0.iter())) {
            let g = g + lambda * *p;
            *s += dlr * g;
            if !skip {
                let z = x0 - *s;
                *p = *p * keep + ck * z;
            }
        }
    }

    fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    /// `lr` is the last step's `dlr = d · lr / g0`, with `d` as it was
    /// before that step.
    fn progress(&self) -> Progress {
        Progress {
            k: self.k,
            lr: self.last_dlr,
            d: Some(self.d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Optimizer;

    /// The reference raises on an all-zero first gradient; freestep takes no
    /// step, so a run that starts with one is, bit for bit, the run without
    /// it.
    #[test]
    fn a_zero_first_gradient_is_no_step() -> Result<(), Error> {
        let rule = DAdaptSgd::new(DAdaptSgdConfig {
            momentum: 0.9,
            weight_decay: 0.01,
            ..Default::default()
        });
        let grads = |t: usize| [1.0 + t as f64, -2.0, 0.5 * t as f64];
        let run = |zero_first: bool| -> Result<([f64; 3], DAdaptSgd), Error> {
            let mut opt = Optimizer::<f64, _>::new(rule, 3)?;
            let (mut p, mut state) = ([1.0, 2.0, -1.0], [f64::NAN; 6]);
            if zero_first {
                opt.step(&mut p, &[0.0; 3], &mut state)?;
                assert_eq!(
                    (p, opt.rule().k(), opt.rule().g0_norm()),
                    ([1.0, 2.0, -1.0], 0, None)
                );
            }
            for t in 0..5 {
                opt.step(&mut p, &grads(t), &mut state)?;
            }
            Ok((p, *opt.rule()))
        };
        let (with, a) = run(true)?;
        let (without, b) = run(false)?;
        assert_eq!(with, without);
        assert_eq!((a.d(), a.k(), a.g0_norm()), (b.d(), b.k(), b.g0_norm()));
        Ok(())
    }

    /// The first step by hand: g0 = ‖g‖ = 5 for g = (3, 4), dlr = d0 / 5,
    /// s = dlr g, and without momentum p = x0 - s.
    #[test]
    fn first_step_by_hand() -> Result<(), Error> {
        let mut opt = Optimizer::<f64, _>::new(DAdaptSgd::new(DAdaptSgdConfig::default()), 2)?;
        let (mut p, mut state) = ([1.0, 1.0], [0.0; 4]);
        opt.step(&mut p, &[3.0, 4.0], &mut state)?;
        let dlr = 1e-6 / 5.0;
        assert_eq!(opt.rule().g0_norm(), Some(5.0));
        assert_eq!(p, [1.0 - dlr * 3.0, 1.0 - dlr * 4.0]);
        assert_eq!(opt.rule().d(), 1e-6);
        Ok(())
    }
}
