//! Stochastic heavy ball in its iterate-moving-average form, whose last
//! iterate is the step-size-weighted average of the SGD iterates.
//!
//! Reference: Sebbouh, Gower and Defazio, "Almost sure convergence rates
//! for Stochastic Gradient Descent and Stochastic Heavy Ball", COLT 2021
//! (arXiv 2006.07867). There is no official package; the tests derive steps
//! by hand.
//!
//! The symbols follow the paper: `x` is where the gradient is taken (the
//! parameters), `z` the SGD sequence, `z_0 = x_0`. With `g = ∇f(x_k)`:
//!
//! ```text
//! z_{k+1} = z_k - η_k g
//! x_{k+1} = λ_{k+1} / (λ_{k+1} + 1) x_k + 1 / (λ_{k+1} + 1) z_{k+1}
//! λ_k     = Σ_{t<k} η_t / η_k                       (λ_0 = 0)
//! ```
//!
//! which is the heavy ball `x_{k+1} = x_k - α_k g + β_k (x_k - x_{k-1})`
//! with `α_k = η_k / (1 + λ_{k+1})` and `β_k = λ_k / (1 + λ_{k+1})`. With
//! this `λ`, `x_k = Σ_{t≤k} η_t z_t / Σ_{t≤k} η_t`: the weighted average of
//! the SGD iterates that the paper's almost-sure rates are stated for, taken
//! without storing any average. The step sizes are `η_k = η / (k + 1)^p`;
//! the paper's convex rates take `p` just above 1/2, `p = 0` (a constant
//! `η`) suits strongly convex problems and interpolation.
//!
//! State: `z`, one value per parameter.
//!
//! Choices the paper leaves open:
//! - A group's lr multiplier scales its `η_k` but not the averaging
//!   weights, which are global.

use crate::error::Error;
use crate::float::Float;
use crate::optimizer::{PieceMut, UpdateRule};
use crate::reduce::MAX_SUMS;
use crate::rules::primal_averaging::{average_piece, check_schedule, scheduled_lr, AveragingPlan};
use crate::rules::Progress;

/// Hyperparameters of [`Shb`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShbConfig {
    /// `η`, the step of the `z` sequence, `>= 0` (default 0.1).
    pub lr: f64,
    /// `p` in `η_k = η / (k + 1)^p`, in `[0, 1]` (default 0).
    pub lr_power: f64,
}

impl Default for ShbConfig {
    fn default() -> Self {
        Self {
            lr: 0.1,
            lr_power: 0.0,
        }
    }
}

/// Stochastic heavy ball with weighted iterate averaging: configuration,
/// step count and the running sum of step sizes.
///
/// # Examples
///
/// ```
/// use freestep::{Optimizer, Shb, ShbConfig};
///
/// let rule = Shb::new(ShbConfig { lr: 0.5, lr_power: 0.0 });
/// let mut opt = Optimizer::<f64, _>::new(rule, 1).unwrap();
/// let (mut x, mut z) = ([1.0], [0.0; Shb::state_len(1)]);
/// opt.step(&mut x, &[1.0], &mut z).unwrap();
/// // z1 = 1 - 0.5 and, with equal weights, x1 = (z0 + z1) / 2.
/// assert_eq!((x, z), ([0.75], [0.5]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shb {
    /// The hyperparameters; may be changed between steps.
    pub config: ShbConfig,
    k: u64,
    weight_sum: f64,
    last_lr: f64,
}

impl Shb {
    /// A rule with the given hyperparameters; they are checked when the
    /// optimizer is built.
    pub const fn new(config: ShbConfig) -> Self {
        Self {
            config,
            k: 0,
            weight_sum: 0.0,
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

    /// `Σ_{t≤k} η_t`, the total weight of the average `x_k`.
    pub fn weight_sum(&self) -> f64 {
        self.weight_sum
    }
}

impl UpdateRule for Shb {
    type Plan = AveragingPlan;

    fn validate(&self) -> Result<(), Error> {
        check_schedule(self.config.lr, self.config.lr_power)
    }

    fn dense(&self) -> usize {
        1
    }

    fn finish(&mut self, _sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> AveragingPlan {
        let cfg = &self.config;
        let lr = scheduled_lr(cfg.lr, cfg.lr_power, self.k);
        // The weight of z_0 is η_0; z_{k+1} enters with η_{k+1}, and
        // 1 / (λ_{k+1} + 1) = η_{k+1} / Σ_{t≤k+1} η_t.
        let before = match self.k {
            0 => lr,
            _ => self.weight_sum,
        };
        let next = scheduled_lr(cfg.lr, cfg.lr_power, self.k + 1);
        let total = before + next;
        // η = 0 gives no weights at all: x stays at z, which does not move.
        let c = if total > 0.0 { next / total } else { 1.0 };
        self.weight_sum = total;
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
