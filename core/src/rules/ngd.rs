//! Normalized gradient descent.
//!
//! Reference: Mishkin, Khaled, Wang, Defazio and Gower, "Directional
//! Smoothness and Gradient Methods: Convergence and Adaptivity", arXiv
//! 2403.04081 (NeurIPS 2024), which shows that normalized GD with a constant
//! `η` reaches fast, path-dependent rates without knowing any smoothness
//! constant. There is no official package; the tests derive steps by hand.
//!
//! With `g = ∇f(x_k)` and `η` the learning rate:
//!
//! ```text
//! x_{k+1} = x_k - η g / ‖g‖
//! ```
//!
//! so every step has length `η` (the step size of plain GD is `η / ‖g‖`).
//! `‖g‖²` is a global sum over all groups, so a step split across threads
//! gives the bits of the one-call step. A group's lr multiplier scales its
//! `η`.
//!
//! State: none per parameter.
//!
//! Choices the paper leaves open:
//! - `‖g‖ = 0` (a stationary point) takes no step.
//! - `η` is constant, as in the paper's analysis; a schedule can change
//!   `config.lr` between steps.

use crate::error::Error;
use crate::float::Float;
use crate::math::within;
use crate::optimizer::{Piece, PieceMut, UpdateRule};
use crate::reduce::MAX_SUMS;
use crate::rules::grad_norm::{descend, squared_norm};
use crate::rules::Progress;

/// Hyperparameters of [`Ngd`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NgdConfig {
    /// `η`, the length of every step, `>= 0` (default 1e-2).
    pub lr: f64,
}

impl Default for NgdConfig {
    fn default() -> Self {
        Self { lr: 1e-2 }
    }
}

/// Normalized gradient descent: configuration, step count and the last
/// step size `η / ‖g‖`.
///
/// # Examples
///
/// ```
/// use freestep::{Ngd, NgdConfig, Optimizer};
///
/// let mut opt = Optimizer::<f64, _>::new(Ngd::new(NgdConfig { lr: 0.5 }), 2).unwrap();
/// let mut params = [1.0, 1.0];
/// // ‖g‖ = 5: the step is 0.5 · (3, 4) / 5.
/// opt.step(&mut params, &[3.0, 4.0], &mut []).unwrap();
/// assert_eq!(params, [1.0 - 0.3, 1.0 - 0.4]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ngd {
    /// The hyperparameters; may be changed between steps.
    pub config: NgdConfig,
    k: u64,
    last_lr: f64,
}

/// The scalars of one normalized step.
#[derive(Clone, Copy, Debug, Default)]
pub struct NgdPlan {
    /// `η`, before the group multiplier; 0 for a zero gradient.
    lr: f64,
    /// `1 / ‖g‖`, finite: `‖g‖²` is at least the smallest subnormal.
    inv_norm: f64,
}

impl Ngd {
    /// A rule with the given hyperparameters; they are checked when the
    /// optimizer is built.
    pub const fn new(config: NgdConfig) -> Self {
        Self {
            config,
            k: 0,
            last_lr: 0.0,
        }
    }

    /// State values for `n` parameters: none.
    pub const fn state_len(n: usize) -> usize {
        let _ = n;
        0
    }

    /// Steps taken.
    pub fn k(&self) -> u64 {
        self.k
    }
}

impl UpdateRule for Ngd {
    type Plan = NgdPlan;
    const SUMS: usize = 1;

    fn validate(&self) -> Result<(), Error> {
        if !within(self.config.lr, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("lr"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        0
    }

    /// `[‖g‖², 0, 0, 0]` over the piece.
    fn partial_piece<T: Float>(&self, _fresh: bool, piece: &Piece<'_, T>) -> [f64; MAX_SUMS] {
        squared_norm(piece.grads)
    }

    fn finish(&mut self, sums: &[f64; MAX_SUMS], _loss: Option<f64>) -> NgdPlan {
        let norm = libm::sqrt(sums[0]);
        let (lr, inv_norm) = match norm > 0.0 {
            true => (self.config.lr, 1.0 / norm),
            false => (0.0, 0.0),
        };
        self.k += 1;
        self.last_lr = lr * inv_norm;
        NgdPlan { lr, inv_norm }
    }

    fn update_piece<T: Float>(&self, plan: &NgdPlan, _fresh: bool, piece: PieceMut<'_, T>) {
        descend(piece, plan.lr, plan.inv_norm);
    }

    fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    /// `lr` is the last step's `η / ‖g‖`.
    fn progress(&self) -> Progress {
        Progress::plain(self.k, self.last_lr)
    }
}
