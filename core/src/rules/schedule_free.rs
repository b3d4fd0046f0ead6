//! Schedule-Free SGD, AdamW and RAdam.
//!
//! Reference: the `schedulefree` package 1.4.1 (`SGDScheduleFree`,
//! `AdamWScheduleFree`, `RAdamScheduleFree`); Defazio et al., "The Road Less Scheduled",
//! arXiv 2405.15682. Symbols follow the paper: `z` is the base sequence, `x`
//! the average (the weights to evaluate), `y` the point where gradients are
//! taken, which is what the parameter buffer holds in train mode.
//!
//! Per step `k` (from 0), with `lr_k = lr · min(1, (k + 1) / warmup_steps)`:
//!
//! ```text
//! lr_max ← max(lr_max, lr_k)
//! w      = (k + 1)^r · lr_max^weight_lr_power,   W ← W + w,   c = w / W
//! v      ← β2 v + (1 - β2) g²                   AdamW only
//! g      ← g / (√(v / (1 - β2^(k+1))) + ε)      AdamW only
//! g      ← g + λ y
//! y      ← (1 - c) y + c z + lr_k (β (1 - c) - 1) g
//! z      ← z - lr_k g
//! ```
//!
//! with `β` the momentum (SGD) or `β1` (AdamW). The eval weights are
//! `x = y + (1 - 1/β)(z - y)` and the train weights `y = x + (1 - β)(z - x)`;
//! [`Optimizer::eval`] and [`Optimizer::train`] switch in place,
//! [`Optimizer::eval_params`] writes `x` to a separate buffer.
//!
//! State per parameter: `z` (SGD), `z` and `v` (AdamW).
//!
//! Deviations, each where the reference is undefined or awkward:
//! - The optimizer starts in train mode; the reference starts in eval mode
//!   and refuses to step until `train()` is called, which is then a no-op.
//! - `β = 0` is refused: `x` cannot be recovered from `y` and `z` then, and
//!   the reference divides by zero in `eval()`.
//! - When every learning rate so far was 0, `W = 0` and the reference catches
//!   the division by zero and uses `c = 0`; freestep does the same.
//! - A group's learning-rate multiplier scales `lr_k` for that group only;
//!   the averaging weight `c` is computed from the base `lr`, which is what
//!   the reference computes per group when multipliers are constant.

use crate::error::Error;
use crate::float::Float;
use crate::math::{lerp, lerp_from_end, powf, within};
use crate::optimizer::{Optimizer, PieceMut, UpdateRule};
use crate::reduce::MAX_SUMS;
use crate::rules::Progress;

/// The averaging schedule shared by both rules: warmup, `lr_max`, the
/// weight sum and the step count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Averaging {
    /// Steps taken.
    pub k: u64,
    /// The largest scheduled lr so far (-1 before the first step, as in the
    /// reference).
    pub lr_max: f64,
    /// The sum of averaging weights so far.
    pub weight_sum: f64,
    /// The scheduled lr of the last step.
    pub scheduled_lr: f64,
    /// True in train mode (the parameters hold `y`).
    pub train_mode: bool,
}

impl Averaging {
    const START: Self = Self {
        k: 0,
        lr_max: -1.0,
        weight_sum: 0.0,
        scheduled_lr: 0.0,
        train_mode: true,
    };

    /// Refuses a step in eval mode.
    fn ready(&self) -> Result<(), Error> {
        match self.train_mode {
            true => Ok(()),
            false => Err(Error::EvalMode),
        }
    }

    fn progress(&self) -> Progress {
        Progress {
            k: self.k,
            lr: self.scheduled_lr,
            d: None,
        }
    }

    /// Advances one step; returns `(lr_k, c)`.
    fn advance(&mut self, lr: f64, warmup_steps: u64, r: f64, weight_lr_power: f64) -> (f64, f64) {
        let k = self.k as f64;
        let sched = if self.k < warmup_steps {
            (k + 1.0) / warmup_steps as f64
        } else {
            1.0
        };
        self.advance_at(lr * sched, r, weight_lr_power)
    }

    /// Advances one step whose scheduled lr is `lr`; returns `(lr, c)`.
    fn advance_at(&mut self, lr: f64, r: f64, weight_lr_power: f64) -> (f64, f64) {
        let k = self.k as f64;
        self.scheduled_lr = lr;
        self.lr_max = self.lr_max.max(lr);
        let weight = powf(k + 1.0, r) * powf(self.lr_max, weight_lr_power);
        self.weight_sum += weight;
        let ckp1 = if self.weight_sum == 0.0 {
            0.0
        } else {
            weight / self.weight_sum
        };
        self.k += 1;
        (lr, ckp1)
    }
}

/// The scalars of one Schedule-Free step.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScheduleFreePlan {
    lr: f64,
    ckp1: f64,
    bias_correction2: f64,
}

fn check_schedule(lr: f64, weight_decay: f64, r: f64, power: f64) -> Result<(), Error> {
    if !within(lr, 0.0, f64::MAX) {
        return Err(Error::InvalidHyperparameter("lr"));
    }
    if !within(weight_decay, 0.0, f64::MAX) {
        return Err(Error::InvalidHyperparameter("weight_decay"));
    }
    if !within(r, -f64::MAX, f64::MAX) {
        return Err(Error::InvalidHyperparameter("r"));
    }
    if !within(power, 0.0, f64::MAX) {
        return Err(Error::InvalidHyperparameter("weight_lr_power"));
    }
    Ok(())
}

/// Checks the Adam-type hyperparameters of Schedule-Free AdamW and RAdam.
fn check_adam(beta1: f64, beta2: f64, eps: f64) -> Result<(), Error> {
    if !within(beta1, 0.0, 1.0) || beta1 == 0.0 || beta1 == 1.0 {
        return Err(Error::InvalidHyperparameter("beta1"));
    }
    if !within(beta2, 0.0, 1.0) || beta2 == 1.0 {
        return Err(Error::InvalidHyperparameter("beta2"));
    }
    if !within(eps, f64::MIN_POSITIVE, f64::MAX) {
        return Err(Error::InvalidHyperparameter("eps"));
    }
    Ok(())
}

/// The per-element pass of Schedule-Free AdamW and RAdam: `v` is updated,
/// the gradient normalised by `√(v / bc2) + ε` unless the plan's `bc2` is 0
/// (RAdam's steps before its variance is tractable), decayed at `y`, and
/// the averaged step taken.
fn adam_pass<T: Float>(
    plan: &ScheduleFreePlan,
    fresh: bool,
    piece: PieceMut<'_, T>,
    (beta1, beta2, eps): (f64, f64, f64),
    weight_decay: f64,
) {
    let wd = T::from_f64(weight_decay * piece.weight_decay_scale);
    let lr = plan.lr * piece.lr_scale;
    let a = T::from_f64(lr * (beta1 * (1.0 - plan.ckp1) - 1.0));
    let (c_end, ckp1) = (lerp_from_end(plan.ckp1), T::from_f64(plan.ckp1));
    let lr = T::from_f64(lr);
    let (beta2, w2) = (T::from_f64(beta2), T::from_f64(1.0 - beta2));
    let normalise = plan.bias_correction2 != 0.0;
    let bc2 = T::from_f64(plan.bias_correction2);
    let eps = T::from_f64(eps);
    let [z, v, ..] = piece.dense;
    let zv = z.iter_mut().zip(v.iter_mut());
    for ((y, &g), (z, v)) in piece.params.iter_mut().zip(piece.grads).zip(zv) {
        if fresh {
            *z = *y;
        }
        *v = beta2 * if fresh { T::ZERO } else { *v } + w2 * g * g;
        let g = match normalise {
            true => g / ((*v / bc2).sqrt() + eps),
            false => g,
        };
        let g = g + wd * *y;
        averaged_step(y, z, g, ckp1, c_end, a, lr);
    }
}

/// `y ← (1 - c) y + c z + a g`, `z ← z - lr g`, where `g` is already the
/// normalised, decayed gradient. Shared by both rules.
#[inline(always)]
fn averaged_step<T: Float>(y: &mut T, z: &mut T, g: T, c: T, c_end: bool, a: T, lr: T) {
    *y = lerp(*y, *z, c, c_end) + a * g;
    *z -= lr * g;
}

/// Hyperparameters of [`ScheduleFreeSgd`], with `SGDScheduleFree`'s names and
/// defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleFreeSgdConfig {
    /// Learning rate, `>= 0` (default 1.0).
    pub lr: f64,
    /// Interpolation `β` between `z` and `x`, in `(0, 1)` (default 0.9).
    pub momentum: f64,
    /// Weight decay at `y`, `>= 0` (default 0).
    pub weight_decay: f64,
    /// Linear warmup length in steps (default 0).
    pub warmup_steps: u64,
    /// Polynomial weighting of the average, `(k+1)^r` (default 0).
    pub r: f64,
    /// Exponent of `lr_max` in the averaging weight, `>= 0` (default 2).
    pub weight_lr_power: f64,
}

impl Default for ScheduleFreeSgdConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            momentum: 0.9,
            weight_decay: 0.0,
            warmup_steps: 0,
            r: 0.0,
            weight_lr_power: 2.0,
        }
    }
}

/// Schedule-Free SGD: configuration and averaging state.
///
/// # Examples
///
/// ```
/// use freestep::{Optimizer, ScheduleFreeSgd, ScheduleFreeSgdConfig};
///
/// let rule = ScheduleFreeSgd::new(ScheduleFreeSgdConfig { lr: 0.5, ..Default::default() });
/// let mut opt = Optimizer::<f64, _>::new(rule, 1).unwrap();
/// let mut y = [2.0];
/// let mut state = [0.0; ScheduleFreeSgd::state_len(1)];
/// for _ in 0..100 {
///     let g = [y[0] - 1.0]; // minimum at 1
///     opt.step(&mut y, &g, &mut state).unwrap();
/// }
/// let mut x = [0.0];
/// opt.eval_params(&y, &state, &mut x).unwrap();
/// assert!((x[0] - 1.0).abs() < 0.02);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleFreeSgd {
    /// The hyperparameters; may be changed between steps.
    pub config: ScheduleFreeSgdConfig,
    /// The averaging state.
    pub averaging: Averaging,
}

impl ScheduleFreeSgd {
    /// A rule with the given hyperparameters.
    pub const fn new(config: ScheduleFreeSgdConfig) -> Self {
        Self {
            config,
            averaging: Averaging::START,
        }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize) -> usize {
        n
    }
}

impl UpdateRule for ScheduleFreeSgd {
    type Plan = ScheduleFreePlan;

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        check_schedule(c.lr, c.weight_decay, c.r, c.weight_lr_power)?;
        if !within(c.momentum, 0.0, 1.0) || c.momentum == 0.0 || c.momentum == 1.0 {
            return Err(Error::InvalidHyperparameter("momentum"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        1
    }

    fn ready(&self) -> Result<(), Error> {
        self.averaging.ready()
    }

    fn finish(&mut self, _sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> ScheduleFreePlan {
        let c = &self.config;
        let (lr, ckp1) = self
            .averaging
            .advance(c.lr, c.warmup_steps, c.r, c.weight_lr_power);
        ScheduleFreePlan {
            lr,
            ckp1,
            bias_correction2: 1.0,
        }
    }

    fn update_piece<T: Float>(&self, plan: &ScheduleFreePlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let wd = T::from_f64(c.weight_decay * piece.weight_decay_scale);
        let lr = plan.lr * piece.lr_scale;
        let a = T::from_f64(lr * (c.momentum * (1.0 - plan.ckp1) - 1.0));
        let (c_end, ckp1) = (lerp_from_end(plan.ckp1), T::from_f64(plan.ckp1));
        let lr = T::from_f64(lr);
        let [z, ..] = piece.dense;
        for ((y, &g), z) in piece.params.iter_mut().zip(piece.grads).zip(z.iter_mut()) {
            if fresh {
                *z = *y;
            }
            let g = g + wd * *y;
            averaged_step(y, z, g, ckp1, c_end, a, lr);
        }
    }

    fn reset(&mut self) {
        self.averaging = Averaging::START;
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn progress(&self) -> Progress {
        self.averaging.progress()
    }
}

/// Hyperparameters of [`ScheduleFreeAdamW`], with `AdamWScheduleFree`'s names
/// and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleFreeAdamWConfig {
    /// Learning rate, `>= 0` (default 0.0025).
    pub lr: f64,
    /// `β1`, the interpolation between `z` and `x`, in `(0, 1)` (default 0.9).
    pub beta1: f64,
    /// `β2`, the decay of the second moment, in `[0, 1)` (default 0.999).
    pub beta2: f64,
    /// Added to the denominator, `> 0` (default 1e-8).
    pub eps: f64,
    /// Weight decay at `y`, `>= 0` (default 0).
    pub weight_decay: f64,
    /// Linear warmup length in steps (default 0).
    pub warmup_steps: u64,
    /// Polynomial weighting of the average, `(k+1)^r` (default 0).
    pub r: f64,
    /// Exponent of `lr_max` in the averaging weight, `>= 0` (default 2).
    pub weight_lr_power: f64,
}

impl Default for ScheduleFreeAdamWConfig {
    fn default() -> Self {
        Self {
            lr: 0.0025,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            warmup_steps: 0,
            r: 0.0,
            weight_lr_power: 2.0,
        }
    }
}

/// Schedule-Free AdamW: configuration and averaging state.
///
/// # Examples
///
/// ```
/// use freestep::{Optimizer, ScheduleFreeAdamW, ScheduleFreeAdamWConfig};
///
/// let rule = ScheduleFreeAdamW::new(ScheduleFreeAdamWConfig::default());
/// let mut opt = Optimizer::<f32, _>::new(rule, 3).unwrap();
/// let mut state = [0.0f32; ScheduleFreeAdamW::state_len(3)];
/// let mut params = [1.0f32, 2.0, 3.0];
/// opt.step(&mut params, &[0.1, 0.2, 0.3], &mut state).unwrap();
/// opt.eval(&mut params, &state).unwrap();
/// // Stepping in eval mode is refused.
/// assert_eq!(opt.step(&mut params, &[0.0; 3], &mut state), Err(freestep::Error::EvalMode));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleFreeAdamW {
    /// The hyperparameters; may be changed between steps.
    pub config: ScheduleFreeAdamWConfig,
    /// The averaging state.
    pub averaging: Averaging,
}

impl ScheduleFreeAdamW {
    /// A rule with the given hyperparameters.
    pub const fn new(config: ScheduleFreeAdamWConfig) -> Self {
        Self {
            config,
            averaging: Averaging::START,
        }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize) -> usize {
        2 * n
    }
}

impl UpdateRule for ScheduleFreeAdamW {
    type Plan = ScheduleFreePlan;

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        check_schedule(c.lr, c.weight_decay, c.r, c.weight_lr_power)?;
        check_adam(c.beta1, c.beta2, c.eps)
    }

    fn dense(&self) -> usize {
        2
    }

    fn ready(&self) -> Result<(), Error> {
        self.averaging.ready()
    }

    fn finish(&mut self, _sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> ScheduleFreePlan {
        let c = &self.config;
        let bias_correction2 = 1.0 - powf(c.beta2, self.averaging.k as f64 + 1.0);
        let (lr, ckp1) = self
            .averaging
            .advance(c.lr, c.warmup_steps, c.r, c.weight_lr_power);
        ScheduleFreePlan {
            lr,
            ckp1,
            bias_correction2,
        }
    }

    fn update_piece<T: Float>(&self, plan: &ScheduleFreePlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let betas = (c.beta1, c.beta2, c.eps);
        adam_pass(plan, fresh, piece, betas, c.weight_decay);
    }

    fn reset(&mut self) {
        self.averaging = Averaging::START;
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn progress(&self) -> Progress {
        self.averaging.progress()
    }
}

/// Hyperparameters of [`ScheduleFreeRAdam`], with `RAdamScheduleFree`'s
/// names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleFreeRAdamConfig {
    /// Learning rate, `>= 0` (default 0.0025).
    pub lr: f64,
    /// `β1`, the interpolation between `z` and `x`, in `(0, 1)` (default 0.9).
    pub beta1: f64,
    /// `β2`, the decay of the second moment, in `[0, 1)` (default 0.999).
    pub beta2: f64,
    /// Added to the denominator, `> 0` (default 1e-8).
    pub eps: f64,
    /// Weight decay at `y`, `>= 0` (default 0).
    pub weight_decay: f64,
    /// Polynomial weighting of the average, `(k+1)^r` (default 0).
    pub r: f64,
    /// Exponent of `lr_max` in the averaging weight, `>= 0` (default 2).
    pub weight_lr_power: f64,
    /// While RAdam's variance is not yet tractable (`ρ_t <= 4`), take no
    /// step at all instead of an unnormalised SGD step (default true).
    pub silent_sgd_phase: bool,
}

impl Default for ScheduleFreeRAdamConfig {
    fn default() -> Self {
        Self {
            lr: 0.0025,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            r: 0.0,
            weight_lr_power: 2.0,
            silent_sgd_phase: true,
        }
    }
}

/// Schedule-Free RAdam: Schedule-Free AdamW whose lr is RAdam's rectified
/// one, and which needs no warmup.
///
/// Reference: `schedulefree.RAdamScheduleFree` 1.4.1. With
/// `ρ∞ = 2/(1 - β2) - 1` and `ρ_t = ρ∞ - 2 t β2^t / (1 - β2^t)` at step
/// `t = k + 1`, the step's lr is `lr · rect` with
///
/// ```text
/// rect = sqrt((ρ_t - 4)(ρ_t - 2) ρ∞ / ((ρ∞ - 4)(ρ∞ - 2) ρ_t))   if ρ_t > 4
///      = 0 with silent_sgd_phase, else 1                       otherwise
/// ```
///
/// and the gradient is normalised by `√(v / (1 - β2^t)) + ε` only when
/// `ρ_t > 4`; the rest is Schedule-Free AdamW's step (see the module docs).
/// In the silent phase (the first 4 steps at `β2 = 0.999`, where
/// `ρ_4 ≈ 3.997`) `v` accumulates
/// but the weights do not move: every weight of the average is 0 then.
///
/// State per parameter: `z` and `v`.
///
/// # Examples
///
/// ```
/// use freestep::{Optimizer, ScheduleFreeRAdam, ScheduleFreeRAdamConfig};
///
/// let rule = ScheduleFreeRAdam::new(ScheduleFreeRAdamConfig::default());
/// let mut opt = Optimizer::<f64, _>::new(rule, 1).unwrap();
/// let mut y = [1.0];
/// let mut state = [0.0; ScheduleFreeRAdam::state_len(1)];
/// for _ in 0..4 {
///     opt.step(&mut y, &[0.5], &mut state).unwrap();
/// }
/// // The silent phase: nothing has moved yet.
/// assert_eq!(y, [1.0]);
/// opt.step(&mut y, &[0.5], &mut state).unwrap();
/// assert!(y[0] < 1.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleFreeRAdam {
    /// The hyperparameters; may be changed between steps.
    pub config: ScheduleFreeRAdamConfig,
    /// The averaging state.
    pub averaging: Averaging,
}

impl ScheduleFreeRAdam {
    /// A rule with the given hyperparameters.
    pub const fn new(config: ScheduleFreeRAdamConfig) -> Self {
        Self {
            config,
            averaging: Averaging::START,
        }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize) -> usize {
        2 * n
    }

    /// `(rect, ρ_t > 4, 1 - β2^t)` of step `t`.
    fn rectification(&self, t: f64) -> (f64, bool, f64) {
        let c = &self.config;
        let beta2_t = powf(c.beta2, t);
        let bias_correction2 = 1.0 - beta2_t;
        let rho_inf = 2.0 / (1.0 - c.beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * beta2_t / bias_correction2;
        if rho_t > 4.0 {
            let ratio = (rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t);
            (powf(ratio, 0.5), true, bias_correction2)
        } else {
            let rect = if c.silent_sgd_phase { 0.0 } else { 1.0 };
            (rect, false, bias_correction2)
        }
    }
}

impl UpdateRule for ScheduleFreeRAdam {
    type Plan = ScheduleFreePlan;

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        check_schedule(c.lr, c.weight_decay, c.r, c.weight_lr_power)?;
        check_adam(c.beta1, c.beta2, c.eps)
    }

    fn dense(&self) -> usize {
        2
    }

    fn ready(&self) -> Result<(), Error> {
        self.averaging.ready()
    }

    fn finish(&mut self, _sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> ScheduleFreePlan {
        let c = &self.config;
        let (rect, normalise, bias_correction2) = self.rectification(self.averaging.k as f64 + 1.0);
        let (lr, ckp1) = self
            .averaging
            .advance_at(c.lr * rect, c.r, c.weight_lr_power);
        ScheduleFreePlan {
            lr,
            ckp1,
            // 0 marks a step without normalisation.
            bias_correction2: if normalise { bias_correction2 } else { 0.0 },
        }
    }

    fn update_piece<T: Float>(&self, plan: &ScheduleFreePlan, fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let betas = (c.beta1, c.beta2, c.eps);
        adam_pass(plan, fresh, piece, betas, c.weight_decay);
    }

    fn reset(&mut self) {
        self.averaging = Averaging::START;
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn progress(&self) -> Progress {
        self.averaging.progress()
    }
}

impl ScheduleFree for ScheduleFreeRAdam {
    fn beta(&self) -> f64 {
        self.config.beta1
    }
    fn averaging(&self) -> &Averaging {
        &self.averaging
    }
    fn averaging_mut(&mut self) -> &mut Averaging {
        &mut self.averaging
    }
}

/// The Schedule-Free rules: what the weight switches need to know.
pub trait ScheduleFree: UpdateRule {
    /// The interpolation `β` (momentum or `β1`).
    fn beta(&self) -> f64;
    /// The averaging state.
    fn averaging(&self) -> &Averaging;
    /// The averaging state, mutably.
    fn averaging_mut(&mut self) -> &mut Averaging;
}

impl ScheduleFree for ScheduleFreeSgd {
    fn beta(&self) -> f64 {
        self.config.momentum
    }
    fn averaging(&self) -> &Averaging {
        &self.averaging
    }
    fn averaging_mut(&mut self) -> &mut Averaging {
        &mut self.averaging
    }
}

impl ScheduleFree for ScheduleFreeAdamW {
    fn beta(&self) -> f64 {
        self.config.beta1
    }
    fn averaging(&self) -> &Averaging {
        &self.averaging
    }
    fn averaging_mut(&mut self) -> &mut Averaging {
        &mut self.averaging
    }
}

/// The weight switches. `z` is always the first state section.
impl<T: Float, R: ScheduleFree> Optimizer<T, R> {
    /// True when the parameters hold the train weights `y`.
    pub fn is_train_mode(&self) -> bool {
        self.rule().averaging().train_mode
    }

    /// Moves `p` towards `z` by `w`, in place. Before the first step `z`
    /// does not exist yet and `p` stays as it is.
    fn lerp_to_z(&self, params: &mut [T], state: &[T], w: f64) -> Result<(), Error> {
        if state.len() != self.state_len() {
            return Err(Error::StateLength);
        }
        if !self.has_stepped() {
            return Ok(());
        }
        let (end, w) = (lerp_from_end(w), T::from_f64(w));
        self.for_each_section(0, |pr, zr| {
            if let (Some(p), Some(z)) = (params.get_mut(pr), state.get(zr)) {
                p.iter_mut()
                    .zip(z)
                    .for_each(|(p, &z)| *p = lerp(*p, z, w, end));
            }
        });
        Ok(())
    }

    /// Checks the buffers of a switch, whether or not it has work to do.
    fn check_switch(&self, params: &[T], state: &[T]) -> Result<(), Error> {
        if params.len() != self.len() {
            return Err(Error::Length);
        }
        if state.len() != self.state_len() {
            return Err(Error::StateLength);
        }
        Ok(())
    }

    /// Switches the parameters to the eval weights `x`. Does nothing when
    /// already in eval mode, or before the first step (then `x = y`).
    pub fn eval(&mut self, params: &mut [T], state: &[T]) -> Result<(), Error> {
        self.check_switch(params, state)?;
        if !self.is_train_mode() {
            return Ok(());
        }
        self.lerp_to_z(params, state, 1.0 - 1.0 / self.rule().beta())?;
        self.rule_mut().averaging_mut().train_mode = false;
        Ok(())
    }

    /// Switches the parameters back to the train weights `y`. Does nothing
    /// when already in train mode.
    pub fn train(&mut self, params: &mut [T], state: &[T]) -> Result<(), Error> {
        self.check_switch(params, state)?;
        if self.is_train_mode() {
            return Ok(());
        }
        self.lerp_to_z(params, state, 1.0 - self.rule().beta())?;
        self.rule_mut().averaging_mut().train_mode = true;
        Ok(())
    }

    /// Writes the eval weights `x` into `out` without switching. In eval
    /// mode this copies the parameters.
    pub fn eval_params(&self, params: &[T], state: &[T], out: &mut [T]) -> Result<(), Error> {
        if params.len() != self.len() || out.len() != self.len() {
            return Err(Error::Length);
        }
        if state.len() != self.state_len() {
            return Err(Error::StateLength);
        }
        out.copy_from_slice(params);
        if self.is_train_mode() {
            self.lerp_to_z(out, state, 1.0 - 1.0 / self.rule().beta())?;
        }
        Ok(())
    }
}
