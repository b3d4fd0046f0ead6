//! Prodigy: Adam whose step size `d` is estimated from the distance travelled.
//!
//! Reference: `prodigyopt` 1.1.2 (`Prodigy`); Mishchenko and Defazio,
//! "Prodigy: An Expeditiously Adaptive Parameter-Free Learner",
//! arXiv 2306.06101. Symbols follow the reference.
//!
//! Per step, with `d` the current estimate, `γ = lr · bc` (`bc` is
//! `√(1 - β2^(k+1)) / (1 - β1^(k+1))` with `use_bias_correction`, else 1)
//! and `dlr = d γ`:
//!
//! ```text
//! g  ← g + λ p                                   coupled decay only
//! r  ← β3 r + (d / d0) dlr Σ g · (p0 - p)         over sampled coordinates
//! s  ← β3 s + (d / d0) dlr g                      (d / d0) d g with safeguard_warmup
//! m  ← β1 m + d (1 - β1) g,   v ← β2 v + d² (1 - β2) g²
//! d̂  = d_coef r / Σ|s|
//! d  ← max(d, d̂) while d = d0;   d_max ← max(d_max, d̂)
//! d  ← min(d_max, d · growth_rate)
//! p  ← p - λ dlr p                               decoupled decay only
//! p  ← p - dlr m / (√v + d ε)                    (β1 = 0: p - dlr d g / (√v + d ε))
//! ```
//!
//! `p0` is the first step's parameters. With `slice_p > 1`, `p0` and `s` are
//! kept only for every `slice_p`-th parameter of each group, counted from the
//! group's first parameter. The reference samples each tensor that way, so a
//! caller reproduces it exactly with one group per tensor.
//!
//! The two sums `Σ g·(p0 - p)` and `Σ|s|` are global: they are the rule's
//! partial sums in the phased step (see [`crate::optimizer`]), which replaces
//! the reference's `fsdp_in_use` all-reduce.
//!
//! State: `m` (unless `β1 = 0`) and `v` per parameter, `p0` and `s` per
//! sampled parameter: 4 values per parameter at `slice_p = 1`.
//!
//! Behaviour where the reference is special or undefined:
//! - While `Σ|s| = 0` (all gradients so far zero, or every lr 0) the reference
//!   returns early after updating `m`, `v` and `s` but before moving the
//!   parameters or counting the step. freestep does exactly that.
//! - A group whose lr multiplier is 0 is frozen: no moment, `s`, decay or
//!   parameter update. The reference still applies the decoupled decay and
//!   (with `β1 = 0`) the step to such a group with the global `dlr`.
//! - `lr = 0` is accepted (for schedules); the reference refuses it in the
//!   constructor but not later.

use crate::error::Error;
use crate::float::Float;
use crate::math::{powf, within};
use crate::optimizer::{Piece, PieceMut, UpdateRule};
use crate::reduce::{fold_lanes, LANES, MAX_SUMS};
use crate::rules::Progress;

/// Hyperparameters of [`Prodigy`], with `prodigyopt.Prodigy`'s names and
/// defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProdigyConfig {
    /// Multiplier of the adapted step size, `>= 0` (default 1).
    pub lr: f64,
    /// `β1`, the decay of the first moment, in `[0, 1)` (default 0.9).
    pub beta1: f64,
    /// `β2`, the decay of the second moment, in `[0, 1)` (default 0.999).
    pub beta2: f64,
    /// `β3`, the decay of the `d` estimate's running sums, in `[0, 1]`;
    /// `None` means `√β2` (default `None`).
    pub beta3: Option<f64>,
    /// Added to the denominator (times `d`), `> 0` (default 1e-8).
    pub eps: f64,
    /// Weight decay, `>= 0` (default 0).
    pub weight_decay: f64,
    /// AdamW-style decoupled decay instead of an L2 term in the gradient
    /// (default true).
    pub decouple: bool,
    /// Adam's bias correction in the step size (default false).
    pub use_bias_correction: bool,
    /// Leave `lr` out of the `s` update, against early overshoot during
    /// warmup (default false).
    pub safeguard_warmup: bool,
    /// Initial estimate of `d`, `> 0` (default 1e-6).
    pub d0: f64,
    /// Multiplier of the estimate, `> 0` (default 1).
    pub d_coef: f64,
    /// Largest factor by which `d` may grow per step, `> 0`; infinity means
    /// unbounded (default infinity).
    pub growth_rate: f64,
    /// Keep `p0` and `s` for every `slice_p`-th parameter only, `>= 1`
    /// (default 1).
    pub slice_p: usize,
}

impl Default for ProdigyConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            beta1: 0.9,
            beta2: 0.999,
            beta3: None,
            eps: 1e-8,
            weight_decay: 0.0,
            decouple: true,
            use_bias_correction: false,
            safeguard_warmup: false,
            d0: 1e-6,
            d_coef: 1.0,
            growth_rate: f64::INFINITY,
            slice_p: 1,
        }
    }
}

/// Prodigy: configuration and the `d` estimate.
///
/// # Examples
///
/// ```
/// use freestep::{Optimizer, Prodigy, ProdigyConfig};
///
/// let mut opt = Optimizer::<f64, _>::new(Prodigy::new(ProdigyConfig::default()), 2).unwrap();
/// let mut params = [3.0, -3.0];
/// let mut state = [0.0; Prodigy::state_len(2, 1)];
/// for _ in 0..50 {
///     let grads = params;
///     opt.step(&mut params, &grads, &mut state).unwrap();
/// }
/// // d grew from 1e-6 towards the distance to the solution.
/// assert!(opt.rule().d() > 0.1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prodigy {
    /// The hyperparameters; may be changed between steps (except `beta1`
    /// between zero and non-zero, and `slice_p`, which shape the state).
    pub config: ProdigyConfig,
    d: f64,
    d_max: f64,
    d_numerator: f64,
    d_denom: Option<f64>,
    d_hat: Option<f64>,
    k: u64,
    last_dlr: f64,
}

/// The scalars of one Prodigy step.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProdigyPlan {
    /// `d` before the step: scales the moments and `dlr`.
    d_old: f64,
    /// `d` after the step: scales `ε` (and the step when `β1 = 0`).
    d_new: f64,
    /// `d_old · lr · bc`, before the group multiplier.
    dlr: f64,
    /// True when the reference returns early: moments move, parameters do not.
    skip: bool,
}

impl Prodigy {
    /// A rule with the given hyperparameters.
    pub const fn new(config: ProdigyConfig) -> Self {
        Self {
            config,
            d: config.d0,
            d_max: config.d0,
            d_numerator: 0.0,
            d_denom: None,
            d_hat: None,
            k: 0,
            last_dlr: 0.0,
        }
    }

    /// State values for `n` parameters in one group (`beta1 > 0`).
    pub const fn state_len(n: usize, slice_p: usize) -> usize {
        crate::layout::state_len_one_group(n, 2, 2, slice_p)
    }

    /// The current step-size estimate `d`.
    pub fn d(&self) -> f64 {
        self.d
    }
    /// The largest estimate so far.
    pub fn d_max(&self) -> f64 {
        self.d_max
    }
    /// The running numerator `r` of the estimate.
    pub fn d_numerator(&self) -> f64 {
        self.d_numerator
    }
    /// `Σ|s|` of the last counted step, `None` before the first.
    pub fn d_denom(&self) -> Option<f64> {
        self.d_denom
    }
    /// The raw estimate `d̂` of the last counted step, `None` before the first.
    pub fn d_hat(&self) -> Option<f64> {
        self.d_hat
    }
    /// Steps counted (steps that returned early are not counted).
    pub fn k(&self) -> u64 {
        self.k
    }

    fn beta3(&self) -> f64 {
        self.config.beta3.unwrap_or(libm::sqrt(self.config.beta2))
    }

    fn bias_correction(&self) -> f64 {
        let c = &self.config;
        if !c.use_bias_correction {
            return 1.0;
        }
        let t = self.k as f64 + 1.0;
        libm::sqrt(1.0 - powf(c.beta2, t)) / (1.0 - powf(c.beta1, t))
    }

    /// The coefficients of one group for a step taken at estimate `d`, with
    /// `dlr = d · lr · bc` before the group's multiplier. `partial_piece`
    /// (before `finish`) and `update_piece` (after it, from the plan) must
    /// compute the same `s`, so both take them from here.
    fn group_coefficients(&self, d: f64, dlr: f64, lr_scale: f64, wd_scale: f64) -> Coefficients {
        let c = &self.config;
        let ratio = d / c.d0;
        let dlr = dlr * lr_scale;
        let lambda = c.weight_decay * wd_scale;
        let (coupled, decoupled) = match c.decouple {
            true => (0.0, lambda),
            false => (lambda, 0.0),
        };
        let s = match c.safeguard_warmup {
            true => ratio * d,
            false => ratio * dlr,
        };
        Coefficients {
            coupled,
            decoupled,
            s,
            numerator: ratio * dlr,
            dlr,
        }
    }
}

/// What one group's passes multiply by (see `Prodigy::group_coefficients`).
struct Coefficients {
    /// `λ` added to the gradient (coupled decay), else 0.
    coupled: f64,
    /// `λ` applied to the weights (decoupled decay), else 0.
    decoupled: f64,
    /// The coefficient of `g` in the `s` update.
    s: f64,
    /// The coefficient of `Σ g·(p0 - p)` in the numerator.
    numerator: f64,
    /// The group's `dlr`.
    dlr: f64,
}

impl UpdateRule for Prodigy {
    type Plan = ProdigyPlan;
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
        if c.beta3.is_some_and(|b| !within(b, 0.0, 1.0)) {
            return Err(Error::InvalidHyperparameter("beta3"));
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
        if !within(c.d_coef, f64::MIN_POSITIVE, f64::MAX) {
            return Err(Error::InvalidHyperparameter("d_coef"));
        }
        if c.growth_rate.is_nan() || c.growth_rate <= 0.0 {
            return Err(Error::InvalidHyperparameter("growth_rate"));
        }
        if c.slice_p == 0 {
            return Err(Error::InvalidHyperparameter("slice_p"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        if self.config.beta1 > 0.0 {
            2
        } else {
            1
        }
    }

    fn sampled(&self) -> (usize, usize) {
        (2, self.config.slice_p)
    }

    fn partial_piece<T: Float>(&self, fresh: bool, piece: &Piece<'_, T>) -> [f64; MAX_SUMS] {
        let mut out = [0.0; MAX_SUMS];
        if self.config.lr * piece.lr_scale == 0.0 {
            return out;
        }
        let dlr = self.d * self.config.lr * self.bias_correction();
        let k = self.group_coefficients(self.d, dlr, piece.lr_scale, piece.weight_decay_scale);
        let (coupled, s_coef) = (T::from_f64(k.coupled), T::from_f64(k.s));
        let beta3 = T::from_f64(self.beta3());
        let [p0, s] = piece.sampled;
        // Lanes add in f64 whatever T is: an f32 sum of |s| can overflow
        // where every s is still finite, and f64 keeps it as exact as the
        // reference's double accumulation.
        let mut num = [0.0f64; LANES];
        let mut den = [0.0f64; LANES];
        let mut add = |lane: usize, p: T, g: T, p0: T, s: T| {
            let g = g + coupled * p;
            let (p0, s) = if fresh { (p, T::ZERO) } else { (p0, s) };
            if let (Some(n), Some(d)) = (num.get_mut(lane), den.get_mut(lane)) {
                *n += (g * (p0 - p)).to_f64();
                *d += (beta3 * s + s_coef * g).abs().to_f64();
            }
        };
        if piece.stride == 1 {
            // Every coordinate is sampled: eight lanes at a time, which the
            // compiler turns into vector code.
            let (pc, gc) = (
                piece.params.chunks_exact(LANES),
                piece.grads.chunks_exact(LANES),
            );
            let (p0c, sc) = (p0.chunks_exact(LANES), s.chunks_exact(LANES));
            let tail = (
                pc.remainder(),
                gc.remainder(),
                p0c.remainder(),
                sc.remainder(),
            );
            for ((p, g), (p0, s)) in pc.zip(gc).zip(p0c.zip(sc)) {
                let lanes = p.iter().zip(g).zip(p0.iter().zip(s));
                for (lane, ((&p, &g), (&p0, &s))) in lanes.enumerate() {
                    add(lane, p, g, p0, s);
                }
            }
            let lanes = tail.0.iter().zip(tail.1).zip(tail.2.iter().zip(tail.3));
            for (lane, ((&p, &g), (&p0, &s))) in lanes.enumerate() {
                add(lane, p, g, p0, s);
            }
        } else {
            // The layout never makes a stride of 0; `max(1)` tells the
            // compiler so, which leaves `step_by` no panic path.
            let (first, stride) = (piece.first_sample, piece.stride.max(1));
            let params = piece.params.iter().skip(first).step_by(stride);
            let grads = piece.grads.iter().skip(first).step_by(stride);
            let sampled = params.zip(grads).zip(p0.iter().zip(s));
            for (i, ((&p, &g), (&p0, &s))) in sampled.enumerate() {
                add(i % LANES, p, g, p0, s);
            }
        }
        out[0] = k.numerator * fold_lanes(num);
        out[1] = fold_lanes(den);
        out
    }

    fn finish(&mut self, sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> ProdigyPlan {
        let c = self.config;
        let d_old = self.d;
        let dlr = d_old * c.lr * self.bias_correction();
        let [delta_numerator, d_denom, ..] = *sums;
        self.last_dlr = dlr;
        if d_denom == 0.0 {
            return ProdigyPlan {
                d_old,
                d_new: d_old,
                dlr,
                skip: true,
            };
        }
        let d_numerator = self.beta3() * self.d_numerator + delta_numerator;
        let d_hat = c.d_coef * d_numerator / d_denom;
        let mut d = self.d;
        if d == c.d0 {
            d = d.max(d_hat);
        }
        self.d_max = self.d_max.max(d_hat);
        self.d = self.d_max.min(d * c.growth_rate);
        self.d_numerator = d_numerator;
        self.d_denom = Some(d_denom);
        self.d_hat = Some(d_hat);
        self.k += 1;
        ProdigyPlan {
            d_old,
            d_new: self.d,
            dlr,
            skip: false,
        }
    }

    fn update_piece<T: Float>(&self, plan: &ProdigyPlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        if c.lr * piece.lr_scale == 0.0 {
            // A frozen group moves nothing, but its state must still be
            // written on the first step, since later steps read it.
            if fresh {
                let [p0, s] = piece.sampled;
                let sampled = piece.params.iter().skip(piece.first_sample);
                p0.iter_mut()
                    .zip(sampled.step_by(piece.stride.max(1)))
                    .for_each(|(p0, &p)| *p0 = p);
                s.iter_mut().for_each(|s| *s = T::ZERO);
                piece.dense.into_iter().flatten().for_each(|x| *x = T::ZERO);
            }
            return;
        }
        // The coefficients of d before the step, as partial_piece used:
        // finish has moved self.d, so they come from the plan.
        let k = self.group_coefficients(
            plan.d_old,
            plan.dlr,
            piece.lr_scale,
            piece.weight_decay_scale,
        );
        let (dlr_g, decoupled) = (k.dlr, k.decoupled);
        let coupled = T::from_f64(k.coupled);
        let beta3 = T::from_f64(self.beta3());
        let s_coef = T::from_f64(k.s);
        let [p0, s] = piece.sampled;

        // Sampled coordinates: p0 on the first step, then s.
        let sampled = piece
            .params
            .iter()
            .zip(piece.grads)
            .skip(piece.first_sample);
        let p0s = p0.iter_mut().zip(s.iter_mut());
        let sample = |((&p, &g), (p0, s)): ((&T, &T), (&mut T, &mut T))| {
            let g = g + coupled * p;
            if fresh {
                *p0 = p;
            }
            *s = beta3 * if fresh { T::ZERO } else { *s } + s_coef * g;
        };
        if piece.stride == 1 {
            sampled.zip(p0s).for_each(sample);
        } else {
            sampled
                .step_by(piece.stride.max(1))
                .zip(p0s)
                .for_each(sample);
        }

        // Every coordinate: the moments, then (unless skipped) the step.
        let beta1 = T::from_f64(c.beta1);
        let beta2 = T::from_f64(c.beta2);
        let m_coef = T::from_f64(plan.d_old * (1.0 - c.beta1));
        let v_coef = T::from_f64(plan.d_old * plan.d_old * (1.0 - c.beta2));
        let shrink = T::from_f64(-decoupled * dlr_g);
        let d_eps = T::from_f64(plan.d_new * c.eps);
        let (skip, zero) = (plan.skip, T::ZERO);
        let [m, v, ..] = piece.dense;
        if c.beta1 > 0.0 {
            let neg_dlr = T::from_f64(-dlr_g);
            let mv = m.iter_mut().zip(v.iter_mut());
            for ((p, &g), (m, v)) in piece.params.iter_mut().zip(piece.grads).zip(mv) {
                let g = g + coupled * *p;
                *m = beta1 * if fresh { zero } else { *m } + m_coef * g;
                *v = beta2 * if fresh { zero } else { *v } + v_coef * g * g;
                if !skip {
                    let denom = v.sqrt() + d_eps;
                    *p += shrink * *p;
                    *p += neg_dlr * (*m / denom);
                }
            }
        } else {
            // Without a first moment the only dense section is v.
            let neg_step = T::from_f64(-dlr_g * plan.d_new);
            for ((p, &g), v) in piece.params.iter_mut().zip(piece.grads).zip(m.iter_mut()) {
                let g = g + coupled * *p;
                *v = beta2 * if fresh { zero } else { *v } + v_coef * g * g;
                if !skip {
                    let denom = v.sqrt() + d_eps;
                    *p += shrink * *p;
                    *p += neg_step * (g / denom);
                }
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
