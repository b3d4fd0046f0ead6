//! Lion: evolved sign momentum.
//!
//! Reference: Chen et al., "Symbolic Discovery of Optimization Algorithms",
//! arXiv 2302.06675, Algorithm 2 (there is no torch.optim version). With
//! `g` the gradient (negated when `maximize`) and `λ` the weight decay:
//!
//! ```text
//! c ← β1 m + (1 - β1) g
//! p ← p - lr (sign(c) + λ p)
//! m ← β2 m + (1 - β2) g
//! ```
//!
//! `sign(0)` is 0, so a coordinate whose interpolated momentum is exactly 0
//! moves only by its decay. The paper's defaults are `β1 = 0.9`,
//! `β2 = 0.99`; its learning rate is typically 3 to 10 times smaller than
//! AdamW's, hence the default 1e-4.
//!
//! State: one value per parameter (`m`).

use crate::error::Error;
use crate::float::Float;
use crate::math::{sign, within};
use crate::optimizer::{PieceMut, UpdateRule};
use crate::reduce::MAX_SUMS;
use crate::rules::Progress;

/// Hyperparameters of [`Lion`], with the paper's names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LionConfig {
    /// Learning rate, `>= 0` (default 1e-4).
    pub lr: f64,
    /// `β1`, the interpolation that gives the update's sign, in `[0, 1]`
    /// (default 0.9).
    pub beta1: f64,
    /// `β2`, the decay of the momentum, in `[0, 1]` (default 0.99).
    pub beta2: f64,
    /// Decoupled weight decay, `>= 0` (default 0).
    pub weight_decay: f64,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

impl Default for LionConfig {
    fn default() -> Self {
        Self {
            lr: 1e-4,
            beta1: 0.9,
            beta2: 0.99,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

/// Lion: configuration and step count.
///
/// # Examples
///
/// ```
/// use freestep::{Lion, LionConfig, Optimizer};
///
/// let rule = Lion::new(LionConfig { lr: 0.1, ..Default::default() });
/// let mut opt = Optimizer::<f64, _>::new(rule, 3).unwrap();
/// let (mut params, mut state) = ([1.0, 1.0, 1.0], [0.0; Lion::state_len(3)]);
/// opt.step(&mut params, &[5.0, -0.001, 0.0], &mut state).unwrap();
/// // Every coordinate moves by lr against the sign of its gradient.
/// assert_eq!(params, [0.9, 1.1, 1.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lion {
    /// The hyperparameters; may be changed between steps.
    pub config: LionConfig,
    k: u64,
}

impl Lion {
    /// A rule with the given hyperparameters; they are checked when the
    /// optimizer is built.
    pub const fn new(config: LionConfig) -> Self {
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
}

impl UpdateRule for Lion {
    type Plan = ();

    fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        if !within(c.lr, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("lr"));
        }
        if !within(c.beta1, 0.0, 1.0) {
            return Err(Error::InvalidHyperparameter("beta1"));
        }
        if !within(c.beta2, 0.0, 1.0) {
            return Err(Error::InvalidHyperparameter("beta2"));
        }
        if !within(c.weight_decay, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("weight_decay"));
        }
        Ok(())
    }

    fn dense(&self) -> usize {
        1
    }

    fn finish(&mut self, _sums: &[f64; MAX_SUMS], _loss: Option<f64>) {
        self.k += 1;
    }

    fn update_piece<T: Float>(&self, _plan: &(), fresh: bool, piece: PieceMut<'_, T>) {
        let c = &self.config;
        let flip = T::from_f64(if c.maximize { -1.0 } else { 1.0 });
        let lr = c.lr * piece.lr_scale;
        let shrink = T::from_f64(1.0 - lr * c.weight_decay * piece.weight_decay_scale);
        let neg_lr = T::from_f64(-lr);
        let (beta1, w1) = (T::from_f64(c.beta1), T::from_f64(1.0 - c.beta1));
        let (beta2, w2) = (T::from_f64(c.beta2), T::from_f64(1.0 - c.beta2));
        let [ms, ..] = piece.dense;
        for ((p, &g), m) in piece.params.iter_mut().zip(piece.grads).zip(ms) {
            let g = flip * g;
            let prev = if fresh { T::ZERO } else { *m };
            let update = sign(beta1 * prev + w1 * g);
            *p = *p * shrink + neg_lr * update;
            *m = beta2 * prev + w2 * g;
        }
    }

    fn reset(&mut self) {
        self.k = 0;
    }

    fn progress(&self) -> Progress {
        Progress {
            k: self.k,
            lr: self.config.lr,
            d: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Optimizer;

    /// Two steps by hand, β1 = 0.5, β2 = 0.75, lr = 0.25, λ = 0.5:
    /// step 1 from m = 0: c = 0.5 g = (1, -0.5, 0) for g = (2, -1, 0),
    /// p = p (1 - 0.125) - 0.25 sign(c) = (0.875 - 0.25, 0.875 + 0.25, 0.875)
    /// from p = 1, and m = 0.25 g = (0.5, -0.25, 0).
    /// Step 2 with g = (-0.5, -1, 4): c = 0.5 m + 0.5 g = (0, -0.625, 2):
    /// the first coordinate has sign 0 and only decays.
    #[test]
    fn two_steps_by_hand() -> Result<(), Error> {
        let rule = Lion::new(LionConfig {
            lr: 0.25,
            beta1: 0.5,
            beta2: 0.75,
            weight_decay: 0.5,
            maximize: false,
        });
        let mut opt = Optimizer::<f64, _>::new(rule, 3)?;
        let mut p = [1.0, 1.0, 1.0];
        let mut m = [f64::NAN; 3];
        opt.step(&mut p, &[2.0, -1.0, 0.0], &mut m)?;
        assert_eq!(p, [0.625, 1.125, 0.875]);
        assert_eq!(m, [0.5, -0.25, 0.0]);
        opt.step(&mut p, &[-0.5, -1.0, 4.0], &mut m)?;
        let shrink = 0.875;
        assert_eq!(
            p,
            [0.625 * shrink, 1.125 * shrink + 0.25, 0.875 * shrink - 0.25]
        );
        assert_eq!(m, [0.75 * 0.5 + 0.25 * -0.5, 0.75 * -0.25 - 0.25, 1.0]);
        Ok(())
    }

    /// Maximizing flips every move.
    #[test]
    fn maximize_ascends() -> Result<(), Error> {
        let rule = Lion::new(LionConfig {
            lr: 0.5,
            maximize: true,
            ..Default::default()
        });
        let mut opt = Optimizer::<f32, _>::new(rule, 2)?;
        let (mut p, mut m) = ([0.0f32, 0.0], [0.0f32; 2]);
        opt.step(&mut p, &[3.0, -3.0], &mut m)?;
        assert_eq!(p, [0.5, -0.5]);
        Ok(())
    }
}
