//! Gradient descent with the Polyak step size.
//!
//! Reference: Mishkin, Khaled, Wang, Defazio and Gower, "Directional
//! Smoothness and Gradient Methods: Convergence and Adaptivity", arXiv
//! 2403.04081 (NeurIPS 2024), which proves that this step, using no
//! knowledge of any smoothness constant, converges at a rate set by the
//! directional smoothness along the path; Polyak (1987) for the step itself.
//! There is no official package; the tests derive steps by hand.
//!
//! With `f(x_k)` the loss at the current parameters (given to each step, see
//! [`Optimizer::step_with_loss`](crate::Optimizer::step_with_loss)), `f*` the
//! optimal value or a lower bound on it, and `g = ∇f(x_k)`:
//!
//! ```text
//! γ_k     = (f(x_k) - f*) / ‖g‖²
//! x_{k+1} = x_k - lr γ_k g
//! ```
//!
//! `lr = 1`, the default, is the paper's step; `lr` is there so that a
//! schedule (or `freestep_optimizer_set_lr`) can scale the step.
//!
//! `‖g‖²` is a global sum over all groups, so a step split across threads
//! gives the bits of the one-call step. A group's lr multiplier scales its
//! `γ_k`.
//!
//! State: none per parameter.
//!
//! Choices the paper leaves open:
//! - `‖g‖ = 0` (a stationary point) takes no step: the quotient is 0/0 or
//!   infinite there.
//! - A loss below `f*` means the bound was wrong; the step is 0 rather than
//!   an ascent step.
//! - A `γ_k` that overflows `f64` (a norm below about 1e-154 and no cap)
//!   takes no step.
//! - `max_lr` caps `lr γ_k` (infinity, the default, is the paper's step). The
//!   cap is the safeguard of Loizou et al.'s SPS_max (arXiv 2002.10542) and
//!   is not part of the directional-smoothness analysis.
//! - The paper's strongly adapted step sizes `1 / M(x_{k+1}, x_k)` solve an
//!   implicit equation that needs gradients at the next iterate (on
//!   quadratics, Hessian products), and its exponential search needs
//!   several gradients per step. A step here receives one gradient, at
//!   `x_k`, so neither is offered. The Polyak step (and [`Ngd`](crate::Ngd))
//!   are the paper's ways of adapting to directional smoothness without
//!   them.

use crate::error::Error;
use crate::float::Float;
use crate::math::within;
use crate::optimizer::{Piece, PieceMut, UpdateRule};
use crate::reduce::MAX_SUMS;
use crate::rules::grad_norm::{descend, squared_norm};
use crate::rules::Progress;

/// Hyperparameters of [`Polyak`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolyakConfig {
    /// Multiplier of the Polyak step, `>= 0` (default 1, the paper's step).
    pub lr: f64,
    /// `f*`, the optimal value of the loss or a lower bound on it, finite
    /// (default 0, right for non-negative losses that can be driven to 0).
    pub f_star: f64,
    /// Largest step size `lr γ_k`, `> 0`; infinity means no cap (default
    /// infinity).
    pub max_lr: f64,
}

impl Default for PolyakConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            f_star: 0.0,
            max_lr: f64::INFINITY,
        }
    }
}

/// Gradient descent with the Polyak step size: configuration, step count and
/// the last step size.
///
/// # Examples
///
/// ```
/// use freestep::{Optimizer, Polyak, PolyakConfig};
///
/// // f(x) = ½‖x‖², minimum 0: the Polyak step is γ = ½ and halves x.
/// let mut opt = Optimizer::<f64, _>::new(Polyak::new(PolyakConfig::default()), 2).unwrap();
/// let mut params = [2.0, -4.0];
/// let loss = 0.5 * (4.0 + 16.0);
/// let grads = params;
/// opt.step_with_loss(&mut params, &grads, loss, &mut []).unwrap();
/// assert_eq!(params, [1.0, -2.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Polyak {
    /// The hyperparameters; may be changed between steps.
    pub config: PolyakConfig,
    k: u64,
    last_lr: f64,
}

/// The scalars of one Polyak step.
#[derive(Clone, Copy, Debug, Default)]
pub struct PolyakPlan {
    /// `lr γ_k`, before the group multiplier.
    lr: f64,
}

impl Polyak {
    /// A rule with the given hyperparameters; they are checked when the
    /// optimizer is built.
    pub const fn new(config: PolyakConfig) -> Self {
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

/// `lr (f - f*) / ‖g‖²` with the choices of the module doc, capped at
/// `max_lr`.
fn polyak_step(c: &PolyakConfig, loss: f64, sq_norm: f64) -> f64 {
    let gap = loss - c.f_star;
    if sq_norm <= 0.0 || gap <= 0.0 {
        return 0.0;
    }
    let step = (c.lr * (gap / sq_norm)).min(c.max_lr);
    // A quotient that overflows (a norm below about 1e-154) cannot be
    // applied; without a cap that step is not taken.
    if step.is_finite() {
        step
    } else {
        0.0
    }
}

impl UpdateRule for Polyak {
    type Plan = PolyakPlan;
    const SUMS: usize = 1;
    const NEEDS_LOSS: bool = true;

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        if !within(c.lr, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("lr"));
        }
        if !c.f_star.is_finite() {
            return Err(Error::InvalidHyperparameter("f_star"));
        }
        if c.max_lr.is_nan() || c.max_lr <= 0.0 {
            return Err(Error::InvalidHyperparameter("max_lr"));
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

    fn finish(&mut self, sums: &[f64; MAX_SUMS], loss: Option<f64>) -> PolyakPlan {
        let c = &self.config;
        // The optimizer always passes a loss to a rule that needs one.
        let loss = loss.unwrap_or(c.f_star);
        let lr = polyak_step(c, loss, sums[0]);
        self.k += 1;
        self.last_lr = lr;
        PolyakPlan { lr }
    }

    fn update_piece<T: Float>(&self, plan: &PolyakPlan, _fresh: bool, piece: PieceMut<'_, T>) {
        descend(piece, plan.lr, 1.0);
    }

    fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    /// `lr` is the last step's `lr γ_k`.
    fn progress(&self) -> Progress {
        Progress::plain(self.k, self.last_lr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_is_zero_where_the_paper_leaves_it_undefined() {
        let c = |lr, f_star, max_lr| PolyakConfig { lr, f_star, max_lr };
        let free = f64::INFINITY;
        assert_eq!(polyak_step(&c(1.0, 0.0, free), 1.0, 0.0), 0.0);
        assert_eq!(polyak_step(&c(1.0, 0.0, free), -1.0, 4.0), 0.0);
        assert_eq!(polyak_step(&c(1.0, 0.0, 3.0), 1.0, 1e-320), 3.0);
        assert_eq!(polyak_step(&c(1.0, 0.0, free), 1.0, 1e-320), 0.0);
        assert_eq!(polyak_step(&c(1.0, 1.0, free), 3.0, 4.0), 0.5);
        assert_eq!(polyak_step(&c(0.5, 1.0, free), 3.0, 4.0), 0.25);
        assert_eq!(polyak_step(&c(1.0, 1.0, 0.25), 3.0, 4.0), 0.25);
    }
}
