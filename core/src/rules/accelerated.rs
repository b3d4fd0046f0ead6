//! Nesterov's accelerated gradient method for `μ`-strongly convex,
//! `L`-smooth objectives, with its constant momentum.
//!
//! Reference: Defazio, "On the Curved Geometry of Accelerated
//! Optimization", NeurIPS 2019 (arXiv 1812.04634), which derives this
//! method as the proximal point method in a curved space and lists the
//! many equivalent ways of writing it; Nesterov, "Introductory Lectures on
//! Convex Optimization" (2004), constant step scheme (2.2.19), for the form
//! used here. There is no official package; the tests derive steps by hand.
//!
//! The symbols follow the paper: `x` is where the gradient is taken (the
//! parameters) and `y` the gradient-step sequence. With `g = ∇f(x_k)`,
//! `κ = L / μ` and `β = (√L - √μ) / (√L + √μ)`:
//!
//! ```text
//! y_{k+1} = x_k - lr g / L
//! x_{k+1} = y_{k+1} + β (y_{k+1} - y_k)          y_0 = x_0
//! ```
//!
//! with `lr = 1`, the default and the references' step; `lr` is there so
//! that a schedule (or `freestep_optimizer_set_lr`) can scale the step.
//!
//! and `f(y_k) - f* ≤ (1 - √(μ/L))^k (f(x_0) - f* + μ/2 ‖x_0 - x*‖²)`.
//! With `μ = L` the method is gradient descent with step `1/L` (`β = 0`).
//!
//! State: `y`, one value per parameter.
//!
//! Choices the references leave open:
//! - A group's lr multiplier `r` scales the gradient step to `r lr g / L`; a
//!   group with `r = 0` is frozen (no momentum move either).
//! - The parameters hold `x`, the sequence the gradient is taken at; `y`,
//!   the sequence with the guarantee above, is the state buffer, and the two
//!   meet at the solution.

use crate::error::Error;
use crate::float::Float;
use crate::math::within;
use crate::optimizer::{PieceMut, UpdateRule};
use crate::reduce::MAX_SUMS;
use crate::rules::Progress;

/// Hyperparameters of [`Accelerated`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AcceleratedConfig {
    /// Multiplier of the gradient step `1 / L`, `>= 0` (default 1, the
    /// method's step).
    pub lr: f64,
    /// `L`, the smoothness constant (Lipschitz constant of the gradient),
    /// `> 0` (default 1).
    pub l: f64,
    /// `μ`, the strong convexity constant, in `(0, L]` (default 0.01).
    pub mu: f64,
}

impl Default for AcceleratedConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            l: 1.0,
            mu: 0.01,
        }
    }
}

/// Nesterov's accelerated gradient method for strongly convex objectives:
/// configuration and step count.
///
/// # Examples
///
/// ```
/// use freestep::{Accelerated, AcceleratedConfig, Optimizer};
///
/// let rule = Accelerated::new(AcceleratedConfig { l: 4.0, mu: 1.0, lr: 1.0 });
/// let mut opt = Optimizer::<f64, _>::new(rule, 1).unwrap();
/// let (mut x, mut y) = ([1.0], [0.0; Accelerated::state_len(1)]);
/// // f(x) = 2 x²: y1 = 1 - 4/4 = 0, the minimum, and β (y1 - y0) = -1/3.
/// opt.step(&mut x, &[4.0], &mut y).unwrap();
/// assert_eq!((x, y), ([-1.0 / 3.0], [0.0]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accelerated {
    /// The hyperparameters; may be changed between steps.
    pub config: AcceleratedConfig,
    k: u64,
}

/// The scalars of one accelerated step.
#[derive(Clone, Copy, Debug, Default)]
pub struct AcceleratedPlan {
    /// `lr / L`.
    step: f64,
    /// `β = (√L - √μ) / (√L + √μ)`.
    beta: f64,
}

impl Accelerated {
    /// A rule with the given hyperparameters; they are checked when the
    /// optimizer is built.
    pub const fn new(config: AcceleratedConfig) -> Self {
        Self { config, k: 0 }
    }

    /// State values for `n` parameters.
    pub const fn state_len(n: usize) -> usize {
        n
    }

    /// Steps taken.
    pub fn k(&self) -> u64 {
        self.k
    }

    /// The momentum `β = (√L - √μ) / (√L + √μ)`.
    pub fn beta(&self) -> f64 {
        let (rl, rm) = (libm::sqrt(self.config.l), libm::sqrt(self.config.mu));
        (rl - rm) / (rl + rm)
    }
}

impl UpdateRule for Accelerated {
    type Plan = AcceleratedPlan;

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        if !within(c.lr, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("lr"));
        }
        if !within(c.l, f64::MIN_POSITIVE, f64::MAX) {
            return Err(Error::InvalidHyperparameter("l"));
        }
        if !within(c.mu, f64::MIN_POSITIVE, c.l) {
            return Err(Error::InvalidHyperparameter("mu"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        1
    }

    fn finish(&mut self, _sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> AcceleratedPlan {
        self.k += 1;
        AcceleratedPlan {
            step: self.config.lr / self.config.l,
            beta: self.beta(),
        }
    }

    fn update_piece<T: Float>(&self, plan: &AcceleratedPlan, fresh: bool, piece: PieceMut<'_, T>) {
        let [ys, ..] = piece.dense;
        if fresh {
            // y_0 = x_0, written whatever the group does.
            ys.iter_mut()
                .zip(piece.params.iter())
                .for_each(|(y, &x)| *y = x);
        }
        if piece.lr_scale == 0.0 {
            return;
        }
        let step = T::from_f64(plan.step * piece.lr_scale);
        let beta = T::from_f64(plan.beta);
        for ((x, &g), y) in piece.params.iter_mut().zip(piece.grads).zip(ys) {
            let y_next = *x - step * g;
            *x = y_next + beta * (y_next - *y);
            *y = y_next;
        }
    }

    fn reset(&mut self) {
        self.k = 0;
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    /// `lr` is the gradient step `lr / L`.
    fn progress(&self) -> Progress {
        Progress::plain(self.k, self.config.lr / self.config.l)
    }
}
