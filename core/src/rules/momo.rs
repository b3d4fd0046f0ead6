//! MoMo and MoMo-Adam: momentum methods whose step size comes from the loss,
//! a model-based (Polyak-type) step capped by the learning rate.
//!
//! Reference: `momo-opt` 0.1.0 (`Momo`, `MomoAdam`); Schaipp, Ohana,
//! Eickenberg, Defazio, Gower, "MoMo: Momentum Models for Adaptive Learning
//! Rates", arXiv 2305.07583.
//!
//! Each step reads the loss `f` at the current parameters `x` (see
//! [`Optimizer::step_with_loss`](crate::Optimizer::step_with_loss)). With
//! `β` the momentum, `λ` the weight decay, `η` the learning rate and `f*`
//! the lower bound `lb`, MoMo keeps averages of the gradient, of the loss
//! and of `<g, x>`:
//!
//! ```text
//! d  ← β d + (1 - β) g                  (per parameter)
//! f̄  ← β f̄ + (1 - β) f
//! γ  ← β γ + (1 - β) <g, x>
//! ρ  = 1 - β^k with bias correction, else 1
//! t  = max((1 + ηλ)(f̄ - ρ f*) + <d, x> - (1 + ηλ) γ, 0) / ||d||²
//! τ  = min(η / ρ, t)
//! x  ← (x - τ d) / (1 + ηλ)
//! ```
//!
//! Without bias correction the first step starts the averages at `g`, `f`
//! and `<g, x>` (then averages them with themselves, as the reference
//! does); with it they start at zero. MoMo-Adam (always bias-corrected)
//! preconditions with Adam's second moment: `v ← β2 v + (1 - β2) g²`,
//! `D = sqrt(v / (1 - β2^k)) + ε`, `||d||²` becomes `Σ d²/D`, `ρ` is
//! `1 - β1^k`, and the step is `x ← x - τ d / D`, followed by the division
//! by `1 + ηλ` (`divide`) or preceded by `x ← (1 - ηλ) x` (not `divide`).
//! `<d, x>`, `<g, x>` and `||d||²` are the rule's global sums, taken at the
//! parameters before the step.
//!
//! The online lower bound (`use_fstar`) first lowers `f*` to half the
//! model's cap when the cap falls below it, then after the step sets
//! `f* ← ((f̄ + <d, x> - γ) - τ ||d||² / 2) / ρ`; both are kept at or above
//! the initial `lb`.
//!
//! State: MoMo keeps `d`, 1 value per parameter; MoMo-Adam `d` and `v`, 2.
//!
//! Behaviour where the reference is special:
//! - When `||d||² = 0` the reference divides by zero and its `min` then
//!   picks `η / ρ`; freestep takes `τ = η / ρ` directly (the parameters then
//!   move only by the weight decay).
//! - MoMo-Adam with `eps = 0` on a coordinate whose `v` is still zero gives
//!   NaN in the reference (0/0); freestep treats that quotient as 0.
//! - With several groups the reference computes one step size per group
//!   from the shared sums, updating `f*` group by group. freestep computes
//!   each group's `τ` from its own lr and weight-decay multipliers and the
//!   sums, and updates `f*` once, with the base lr and weight decay.

use crate::error::Error;
use crate::float::Float;
use crate::math::{over_root, powf, within};
use crate::optimizer::{Piece, PieceMut, UpdateRule};
use crate::reduce::{fold_lanes, LANES, MAX_SUMS};
use crate::rules::Progress;

/// Hyperparameters of [`Momo`], with `momo.Momo`'s names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MomoConfig {
    /// The cap `η` of the step size, `>= 0` (default 1).
    pub lr: f64,
    /// Weight decay `λ`, applied as the division by `1 + ηλ`, `>= 0`
    /// (default 0).
    pub weight_decay: f64,
    /// Momentum `β`, in `[0, 1]`; 1 only without bias correction
    /// (default 0.9).
    pub beta: f64,
    /// Lower bound `f*` of the loss, finite (default 0).
    pub lb: f64,
    /// Start the averages at zero and correct their bias (default false).
    pub bias_correction: bool,
    /// Estimate the lower bound online, never below `lb` (default false).
    pub use_fstar: bool,
}

impl Default for MomoConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            weight_decay: 0.0,
            beta: 0.9,
            lb: 0.0,
            bias_correction: false,
            use_fstar: false,
        }
    }
}

/// Hyperparameters of [`MomoAdam`], with `momo.MomoAdam`'s names and
/// defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MomoAdamConfig {
    /// The cap `η` of the step size, `>= 0` (default 1e-2).
    pub lr: f64,
    /// `β1`, the momentum of `d`, `f̄` and `γ`, in `[0, 1)` (default 0.9).
    pub beta1: f64,
    /// `β2`, the decay of the second moment, in `[0, 1)` (default 0.999).
    pub beta2: f64,
    /// Added to the root of the second moment, `>= 0` (default 1e-8).
    pub eps: f64,
    /// Weight decay `λ`, `>= 0` (default 0).
    pub weight_decay: f64,
    /// Lower bound `f*` of the loss, finite (default 0).
    pub lb: f64,
    /// Apply the weight decay as the division by `1 + ηλ` (true, the
    /// default) or as AdamW's `(1 - ηλ)` factor before the step.
    pub divide: bool,
    /// Estimate the lower bound online, never below `lb` (default false).
    pub use_fstar: bool,
}

impl Default for MomoAdamConfig {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            lb: 0.0,
            divide: true,
            use_fstar: false,
        }
    }
}

/// The scalar state both rules share: the averages of the loss and of
/// `<g, x>`, the lower bound and the step count.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Model {
    loss_avg: f64,
    gamma: f64,
    lb: f64,
    k: u64,
    tau: f64,
}

impl Model {
    const fn new(lb: f64) -> Self {
        Self {
            loss_avg: 0.0,
            gamma: 0.0,
            lb,
            k: 0,
            tau: 0.0,
        }
    }
}

/// The scalars of one MoMo or MoMo-Adam step: what every group needs to
/// compute its own step size.
#[derive(Clone, Copy, Debug, Default)]
pub struct MomoPlan {
    loss_avg: f64,
    gamma: f64,
    dot: f64,
    norm: f64,
    rho: f64,
    /// The lower bound the step size uses (after the online reset).
    lb: f64,
    /// MoMo-Adam: `1 - β2^k` of this step.
    bc2: f64,
}

/// The step size of one group: `min(η / ρ, max(nom, 0) / ||d||²)`.
/// `prox` selects the reference's weight-decay form of the numerator.
fn step_size(plan: &MomoPlan, lr: f64, lmbda: f64, prox: bool) -> f64 {
    let nom = if prox {
        let a = 1.0 + lr * lmbda;
        a * (plan.loss_avg - plan.rho * plan.lb) + plan.dot - a * plan.gamma
    } else {
        plan.loss_avg - plan.rho * plan.lb + plan.dot - plan.gamma
    };
    let cap = lr / plan.rho;
    if plan.norm == 0.0 {
        return cap;
    }
    cap.min(nom.max(0.0) / plan.norm)
}

/// Advances the loss and `<g, x>` averages and the lower bound, and returns
/// the plan. Without bias correction the averages start at the first values
/// (MoMo's default), with it at zero (MoMo's option, and MoMo-Adam).
fn advance(
    m: &mut Model,
    (sums, loss): (&[f64; MAX_SUMS], f64),
    (beta, bias_corrected): (f64, bool),
    (lr, lmbda, lb0): (f64, f64, f64),
    use_fstar: bool,
    prox: bool,
) -> MomoPlan {
    let [pg, dot, norm, ..] = *sums;
    m.k += 1;
    if m.k == 1 && !bias_corrected {
        m.loss_avg = loss;
        m.gamma = pg;
    }
    m.loss_avg = beta * m.loss_avg + (1.0 - beta) * loss;
    m.gamma = beta * m.gamma + (1.0 - beta) * pg;
    let rho = match bias_corrected {
        true => 1.0 - powf(beta, m.k as f64),
        false => 1.0,
    };
    let a = 1.0 + lr * lmbda;
    if use_fstar {
        let cap = a * m.loss_avg + dot - a * m.gamma;
        if cap < a * rho * m.lb {
            m.lb = (cap / (2.0 * a * rho)).max(lb0);
        }
    }
    let plan = MomoPlan {
        loss_avg: m.loss_avg,
        gamma: m.gamma,
        dot,
        norm,
        rho,
        lb: m.lb,
        bc2: 1.0,
    };
    let tau = step_size(&plan, lr, lmbda, prox);
    m.tau = tau;
    if use_fstar {
        let h = m.loss_avg + dot - m.gamma;
        m.lb = ((h - 0.5 * tau * norm) / rho).max(lb0);
    }
    plan
}

/// Adds `p g`, `p d` and `d q` to the lanes of the three sums.
#[inline(always)]
fn add_sums<T: Float>(lanes: &mut [[f64; LANES]; 3], i: usize, (p, g, d, q): (T, T, T, T)) {
    let lane = i % LANES;
    let [pg, pd, dq] = lanes;
    if let (Some(a), Some(b), Some(c)) = (pg.get_mut(lane), pd.get_mut(lane), dq.get_mut(lane)) {
        *a += (p * g).to_f64();
        *b += (p * d).to_f64();
        *c += (d * q).to_f64();
    }
}

fn fold_sums(lanes: [[f64; LANES]; 3]) -> [f64; MAX_SUMS] {
    let [pg, pd, dq] = lanes;
    let mut out = [0.0; MAX_SUMS];
    out[0] = fold_lanes(pg);
    out[1] = fold_lanes(pd);
    out[2] = fold_lanes(dq);
    out
}

/// MoMo: configuration and the model's scalars.
///
/// # Examples
///
/// ```
/// use freestep::{Momo, MomoConfig, Optimizer};
///
/// // f(x) = ||x||^2 / 2 has f* = 0, the default lower bound.
/// let mut opt = Optimizer::<f64, _>::new(Momo::new(MomoConfig::default()), 2).unwrap();
/// let mut params = [3.0, -1.0];
/// let mut state = [0.0; Momo::state_len(2)];
/// for _ in 0..100 {
///     let loss = 0.5 * (params[0] * params[0] + params[1] * params[1]);
///     let grads = params;
///     opt.step_with_loss(&mut params, &grads, loss, &mut state).unwrap();
/// }
/// // The reference ends at (0.053, -0.018) on this problem.
/// assert!(params.iter().all(|p| p.abs() < 0.06));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Momo {
    /// The hyperparameters; may be changed between steps.
    pub config: MomoConfig,
    model: Model,
}

impl Momo {
    /// A rule with the given hyperparameters.
    pub const fn new(config: MomoConfig) -> Self {
        Self {
            config,
            model: Model::new(config.lb),
        }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize) -> usize {
        n
    }

    /// The current lower bound `f*` (moves only with `use_fstar`).
    pub fn lb(&self) -> f64 {
        self.model.lb
    }
    /// The loss average `f̄`.
    pub fn loss_avg(&self) -> f64 {
        self.model.loss_avg
    }
    /// Steps taken.
    pub fn k(&self) -> u64 {
        self.model.k
    }
}

impl UpdateRule for Momo {
    type Plan = MomoPlan;
    const SUMS: usize = 3;
    const NEEDS_LOSS: bool = true;

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        if !within(c.lr, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("lr"));
        }
        if !within(c.weight_decay, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("weight_decay"));
        }
        if !within(c.beta, 0.0, 1.0) || (c.bias_correction && c.beta == 1.0) {
            return Err(Error::InvalidHyperparameter("beta"));
        }
        if !c.lb.is_finite() {
            return Err(Error::InvalidHyperparameter("lb"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        1
    }

    fn partial_piece<T: Float>(&self, fresh: bool, piece: &Piece<'_, T>) -> [f64; MAX_SUMS] {
        let c = &self.config;
        let (beta, w) = (T::from_f64(c.beta), T::from_f64(1.0 - c.beta));
        let mut lanes = [[0.0; LANES]; 3];
        let [avg, ..] = piece.dense;
        let items = piece.params.iter().zip(piece.grads).zip(avg);
        for (i, ((&p, &g), &d)) in items.enumerate() {
            let d = self.first_average(fresh, d, g);
            let d = beta * d + w * g;
            add_sums(&mut lanes, i, (p, g, d, d));
        }
        fold_sums(lanes)
    }

    fn finish(&mut self, sums: &[f64; MAX_SUMS], loss: Option<f64>) -> MomoPlan {
        let c = self.config;
        // The optimizer refuses a step without a loss for this rule.
        let loss = loss.unwrap_or(0.0);
        advance(
            &mut self.model,
            (sums, loss),
            (c.beta, c.bias_correction),
            (c.lr, c.weight_decay, c.lb),
            c.use_fstar,
            c.weight_decay > 0.0,
        )
    }

    fn update_piece<T: Float>(&self, plan: &MomoPlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let lr = c.lr * piece.lr_scale;
        let lmbda = c.weight_decay * piece.weight_decay_scale;
        let tau = step_size(plan, lr, lmbda, lmbda > 0.0);
        let (beta, w) = (T::from_f64(c.beta), T::from_f64(1.0 - c.beta));
        let neg_tau = T::from_f64(-tau);
        let divisor = T::from_f64(1.0 + lr * lmbda);
        let [avg, ..] = piece.dense;
        for ((p, &g), d) in piece.params.iter_mut().zip(piece.grads).zip(avg.iter_mut()) {
            let d0 = self.first_average(fresh, *d, g);
            *d = beta * d0 + w * g;
            *p += neg_tau * *d;
            if lmbda > 0.0 {
                *p = *p / divisor;
            }
        }
    }

    fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    /// `lr` is the last step size `τ` (of the base group).
    fn progress(&self) -> Progress {
        Progress {
            k: self.model.k,
            lr: self.model.tau,
            d: None,
        }
    }
}

impl Momo {
    /// The gradient average before this step: the stored one, or on the
    /// first step zero (bias correction) or the gradient itself.
    #[inline(always)]
    fn first_average<T: Float>(&self, fresh: bool, d: T, g: T) -> T {
        match (fresh, self.config.bias_correction) {
            (false, _) => d,
            (true, true) => T::ZERO,
            (true, false) => g,
        }
    }
}

/// MoMo-Adam: configuration and the model's scalars.
///
/// # Examples
///
/// ```
/// use freestep::{MomoAdam, MomoAdamConfig, Optimizer};
///
/// let rule = MomoAdam::new(MomoAdamConfig { lr: 0.5, ..Default::default() });
/// let mut opt = Optimizer::<f64, _>::new(rule, 2).unwrap();
/// let mut params = [3.0, -1.0];
/// let mut state = [0.0; MomoAdam::state_len(2)];
/// for _ in 0..200 {
///     let loss = 0.5 * (params[0] * params[0] + params[1] * params[1]);
///     let grads = params;
///     opt.step_with_loss(&mut params, &grads, loss, &mut state).unwrap();
/// }
/// assert!(params.iter().all(|p| p.abs() < 0.05));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MomoAdam {
    /// The hyperparameters; may be changed between steps.
    pub config: MomoAdamConfig,
    model: Model,
}

impl MomoAdam {
    /// A rule with the given hyperparameters.
    pub const fn new(config: MomoAdamConfig) -> Self {
        Self {
            config,
            model: Model::new(config.lb),
        }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize) -> usize {
        2 * n
    }

    /// The current lower bound `f*` (moves only with `use_fstar`).
    pub fn lb(&self) -> f64 {
        self.model.lb
    }
    /// The loss average `f̄`.
    pub fn loss_avg(&self) -> f64 {
        self.model.loss_avg
    }
    /// Steps taken.
    pub fn k(&self) -> u64 {
        self.model.k
    }

    /// `1 - β2^k` for the step about to be taken (before `finish` counts
    /// it).
    fn bias_correction2(&self) -> f64 {
        1.0 - powf(self.config.beta2, (self.model.k + 1) as f64)
    }
}

impl UpdateRule for MomoAdam {
    type Plan = MomoPlan;
    const SUMS: usize = 3;
    const NEEDS_LOSS: bool = true;

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
        if !within(c.eps, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("eps"));
        }
        if !within(c.weight_decay, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("weight_decay"));
        }
        if !c.lb.is_finite() {
            return Err(Error::InvalidHyperparameter("lb"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        2
    }

    fn partial_piece<T: Float>(&self, fresh: bool, piece: &Piece<'_, T>) -> [f64; MAX_SUMS] {
        let step = AdamMoments::new(&self.config, self.bias_correction2());
        let mut lanes = [[0.0; LANES]; 3];
        let [avg, sq, ..] = piece.dense;
        let items = piece.params.iter().zip(piece.grads).zip(avg.iter().zip(sq));
        for (i, ((&p, &g), (&d, &v))) in items.enumerate() {
            let (d, v) = if fresh { (T::ZERO, T::ZERO) } else { (d, v) };
            let (d, v) = step.advance(d, v, g);
            add_sums(&mut lanes, i, (p, g, d, step.quotient(d, v)));
        }
        fold_sums(lanes)
    }

    fn finish(&mut self, sums: &[f64; MAX_SUMS], loss: Option<f64>) -> MomoPlan {
        let c = self.config;
        // The optimizer refuses a step without a loss for this rule.
        let loss = loss.unwrap_or(0.0);
        let bc2 = self.bias_correction2();
        let plan = advance(
            &mut self.model,
            (sums, loss),
            (c.beta1, true),
            (c.lr, c.weight_decay, c.lb),
            c.use_fstar,
            true,
        );
        MomoPlan { bc2, ..plan }
    }

    fn update_piece<T: Float>(&self, plan: &MomoPlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let lr = c.lr * piece.lr_scale;
        let lmbda = c.weight_decay * piece.weight_decay_scale;
        let tau = step_size(plan, lr, lmbda, true);
        let neg_tau = T::from_f64(-tau);
        let step = AdamMoments::new(c, plan.bc2);
        let shrink = T::from_f64(1.0 - lmbda * lr);
        let divisor = T::from_f64(1.0 + lmbda * lr);
        let (decay_first, divide) = (lmbda > 0.0 && !c.divide, lmbda > 0.0 && c.divide);
        let [avg, sq, ..] = piece.dense;
        let state = avg.iter_mut().zip(sq.iter_mut());
        for ((p, &g), (d, v)) in piece.params.iter_mut().zip(piece.grads).zip(state) {
            let (d0, v0) = if fresh { (T::ZERO, T::ZERO) } else { (*d, *v) };
            (*d, *v) = step.advance(d0, v0, g);
            if decay_first {
                *p *= shrink;
            }
            *p += neg_tau * step.quotient(*d, *v);
            if divide {
                *p = *p / divisor;
            }
        }
    }

    fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    /// `lr` is the last step size `τ` (of the base group).
    fn progress(&self) -> Progress {
        Progress {
            k: self.model.k,
            lr: self.model.tau,
            d: None,
        }
    }
}

/// MoMo-Adam's per-element moments and preconditioner for one step.
struct AdamMoments<T> {
    beta1: T,
    w1: T,
    beta2: T,
    w2: T,
    bc2: T,
    eps: T,
}

impl<T: Float> AdamMoments<T> {
    fn new(c: &MomoAdamConfig, bc2: f64) -> Self {
        Self {
            beta1: T::from_f64(c.beta1),
            w1: T::from_f64(1.0 - c.beta1),
            beta2: T::from_f64(c.beta2),
            w2: T::from_f64(1.0 - c.beta2),
            bc2: T::from_f64(bc2),
            eps: T::from_f64(c.eps),
        }
    }

    /// The moments after this step's gradient.
    #[inline(always)]
    fn advance(&self, d: T, v: T, g: T) -> (T, T) {
        (
            self.beta1 * d + self.w1 * g,
            self.beta2 * v + self.w2 * g * g,
        )
    }

    /// `d / D` with `D = sqrt(v / bc2) + eps` (0 where `D` is 0).
    #[inline(always)]
    fn quotient(&self, d: T, v: T) -> T {
        over_root(d, (v / self.bc2).sqrt() + self.eps)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::Optimizer;

    /// One step from `x = [2, -1]` with `g = [1, 3]`, `f = 5`, no bias
    /// correction, `β = 0.5`, `η = 10`, by hand: the averages start at the
    /// first values, so `d = g`, `f̄ = 5`, `γ = <g, x> = -1`, `<d, x> = -1`,
    /// `||d||² = 10`; `t = max(5 - 0 + (-1) - (-1), 0) / 10 = 0.5 < η`, so
    /// `x ← x - 0.5 g = [1.5, -2.5]`.
    #[test]
    fn first_step_by_hand() {
        let config = MomoConfig {
            beta: 0.5,
            lr: 10.0,
            ..Default::default()
        };
        let mut opt = Optimizer::<f64, _>::new(Momo::new(config), 2).unwrap();
        let mut x = [2.0, -1.0];
        let mut state = [0.0; 2];
        opt.step_with_loss(&mut x, &[1.0, 3.0], 5.0, &mut state)
            .unwrap();
        assert_eq!(x, [1.5, -2.5]);
        assert_eq!(opt.progress().lr, 0.5);
        assert_eq!(opt.rule().loss_avg(), 5.0);
    }

    /// With bias correction a zero first gradient leaves `d = 0`, so
    /// `||d||² = 0`: the step size is the cap `η / ρ` and only the weight
    /// decay moves the parameters, `x ← x / (1 + ηλ)`.
    #[test]
    fn zero_norm_takes_the_cap() {
        let config = MomoConfig {
            bias_correction: true,
            weight_decay: 0.25,
            ..Default::default()
        };
        let mut opt = Optimizer::<f64, _>::new(Momo::new(config), 2).unwrap();
        let mut x = [2.0, -1.0];
        let mut state = [0.0; 2];
        opt.step_with_loss(&mut x, &[0.0, 0.0], 1.0, &mut state)
            .unwrap();
        assert_eq!(x, [2.0 / 1.25, -1.0 / 1.25]);
        assert_eq!(opt.progress().lr, 1.0 / (1.0 - 0.9));
    }

    /// MoMo-Adam with `eps = 0` on all-zero gradients: `d / D` is 0/0 in
    /// the reference; here it is 0 and nothing moves.
    #[test]
    fn eps_zero_on_zero_gradients_stays_put() {
        let config = MomoAdamConfig {
            eps: 0.0,
            ..Default::default()
        };
        let mut opt = Optimizer::<f32, _>::new(MomoAdam::new(config), 3).unwrap();
        let mut x = [1.0f32, -2.0, 0.5];
        let mut state = [0.0f32; 6];
        for _ in 0..3 {
            opt.step_with_loss(&mut x, &[0.0; 3], 0.5, &mut state)
                .unwrap();
        }
        assert_eq!(x, [1.0, -2.0, 0.5]);
    }
}
