//! SGD with momentum in its primal-averaging form.
//!
//! Reference: Defazio, "Momentum via Primal Averaging: Theoretical Insights
//! and Learning Rate Schedules for Non-Convex Optimization", arXiv
//! 2010.00406. There is no official package; the tests derive steps by
//! hand.
//!
//! The symbols follow the paper: `x` is where the gradient is taken (the
//! parameters) and `z` the SGD sequence, which starts at `z_0 = x_0`. With
//! `g = ∇f(x_k)`:
//!
//! ```text
//! z_{k+1} = z_k - η_k g
//! x_{k+1} = (1 - c_{k+1}) x_k + c_{k+1} z_{k+1}
//! ```
//!
//! With constant `c = 1 - β` and `η` this is SGD with heavy-ball momentum
//! `β` and learning rate `α = c η` (PyTorch's `SGD(momentum = β)` at
//! `lr = c η`, once past its first step). The paper's schedules are offered
//! as options:
//! - `uniform`: `c_{k+1} = 1 / (k + 1)`, so `x_{k+1}` is the plain average
//!   of `z_1 .. z_{k+1}` (momentum that grows towards 1); otherwise
//!   `c = 1 - momentum`, constant.
//! - `lr_power = p`: `η_k = η / (k + 1)^p`; `p = 1/2` with `uniform` is the
//!   schedule of the paper's convex analysis, `p = 0` a constant `η`.
//!
//! State: `z`, one value per parameter.
//!
//! Choices the paper leaves open:
//! - A group's lr multiplier scales its `η_k`; 0 freezes the group's `z`
//!   while `x` still moves towards it.

use crate::error::Error;
use crate::float::Float;
use crate::math::{powf, within};
use crate::optimizer::{PieceMut, UpdateRule};
use crate::reduce::MAX_SUMS;
use crate::rules::Progress;

/// Hyperparameters of [`PrimalAveraging`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrimalAveragingConfig {
    /// `η`, the step of the `z` sequence, `>= 0` (default 1).
    pub lr: f64,
    /// `β`, with `c = 1 - β`, in `[0, 1)`; ignored with `uniform`
    /// (default 0.9).
    pub momentum: f64,
    /// Average `z` uniformly, `c_{k+1} = 1 / (k + 1)` (default false).
    pub uniform: bool,
    /// `p` in `η_k = η / (k + 1)^p`, in `[0, 1]` (default 0).
    pub lr_power: f64,
}

impl Default for PrimalAveragingConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            momentum: 0.9,
            uniform: false,
            lr_power: 0.0,
        }
    }
}

/// SGD with momentum as primal averaging: configuration and step count.
///
/// # Examples
///
/// ```
/// use freestep::{Optimizer, PrimalAveraging, PrimalAveragingConfig};
///
/// let config = PrimalAveragingConfig { lr: 1.0, momentum: 0.75, ..Default::default() };
/// let mut opt = Optimizer::<f64, _>::new(PrimalAveraging::new(config), 1).unwrap();
/// let (mut x, mut z) = ([1.0], [0.0; PrimalAveraging::state_len(1)]);
/// opt.step(&mut x, &[2.0], &mut z).unwrap();
/// // z = 1 - 2 = -1 and x = 0.75 · 1 + 0.25 · (-1).
/// assert_eq!((x, z), ([0.5], [-1.0]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrimalAveraging {
    /// The hyperparameters; may be changed between steps.
    pub config: PrimalAveragingConfig,
    k: u64,
    last_lr: f64,
}

/// The scalars of one averaging step: `z ← z - lr g`, `x ← keep x + c z`.
#[derive(Clone, Copy, Debug, Default)]
pub struct AveragingPlan {
    /// `η_k`, before the group multiplier.
    pub(crate) lr: f64,
    /// `c_{k+1}`.
    pub(crate) c: f64,
}

/// The per-element pass shared with [`Shb`](crate::Shb): `z_0 = x_0` on
/// the first step, then `z ← z - η g` and `x ← (1 - c) x + c z`.
pub(crate) fn average_piece<T: Float>(plan: &AveragingPlan, fresh: bool, piece: PieceMut<'_, T>) {
    let [zs, ..] = piece.dense;
    if fresh {
        zs.iter_mut()
            .zip(piece.params.iter())
            .for_each(|(z, &x)| *z = x);
    }
    let lr = T::from_f64(plan.lr * piece.lr_scale);
    let (keep, c) = (T::from_f64(1.0 - plan.c), T::from_f64(plan.c));
    for ((x, &g), z) in piece.params.iter_mut().zip(piece.grads).zip(zs) {
        *z -= lr * g;
        *x = keep * *x + c * *z;
    }
}

/// Checks `η >= 0` and `p` in `[0, 1]` of the schedule `η / (k + 1)^p`.
pub(crate) fn check_schedule(lr: f64, lr_power: f64) -> Result<(), Error> {
    if !within(lr, 0.0, f64::MAX) {
        return Err(Error::InvalidHyperparameter("lr"));
    }
    if !within(lr_power, 0.0, 1.0) {
        return Err(Error::InvalidHyperparameter("lr_power"));
    }
    Ok(())
}

/// `η / (k + 1)^p` for step `k` (from 0).
pub(crate) fn scheduled_lr(lr: f64, power: f64, k: u64) -> f64 {
    match power == 0.0 {
        true => lr,
        false => lr / powf(k as f64 + 1.0, power),
    }
}

impl PrimalAveraging {
    /// A rule with the given hyperparameters; they are checked when the
    /// optimizer is built.
    pub const fn new(config: PrimalAveragingConfig) -> Self {
        Self {
            config,
            k: 0,
            last_lr: 0.0,
        }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize) -> usize {
        n
    }

    /// Steps taken.
    pub fn k(&self) -> u64 {
        self.k
    }
}

impl UpdateRule for PrimalAveraging {
    type Plan = AveragingPlan;

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        check_schedule(c.lr, c.lr_power)?;
        if !within(c.momentum, 0.0, 1.0) || c.momentum == 1.0 {
            return Err(Error::InvalidHyperparameter("momentum"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        1
    }

    fn finish(&mut self, _sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> AveragingPlan {
        let cfg = &self.config;
        let lr = scheduled_lr(cfg.lr, cfg.lr_power, self.k);
        let c = match cfg.uniform {
            true => 1.0 / (self.k as f64 + 1.0),
            false => 1.0 - cfg.momentum,
        };
        self.k += 1;
        self.last_lr = lr;
        AveragingPlan { lr, c }
    }

    fn update_piece<T: Float>(&self, plan: &AveragingPlan, fresh: bool, piece: PieceMut<'_, T>) {
        average_piece(plan, fresh, piece);
    }

    fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    /// `lr` is the last step's `η_k`.
    fn progress(&self) -> Progress {
        Progress::plain(self.k, self.last_lr)
    }
}
