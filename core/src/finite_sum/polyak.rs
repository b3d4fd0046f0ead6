//! SPS, the stochastic Polyak step: Loizou, Vaswani, Laradji and
//! Lacoste-Julien, "Stochastic Polyak Step-size for SGD: An Adaptive
//! Learning Rate for Fast Convergence", AISTATS 2021 (arXiv 2002.10542); the
//! `c = 1`, uncapped form is the SP method that Gower, Defazio and Rabbat
//! study in "Stochastic Polyak Stepsize with a Moving Target" (arXiv
//! 2106.11851).
//!
//! A step on sample `i`, with its loss `f_i(w)`, gradient `g = ∇f_i(w)` and
//! a lower bound `f_i*` of `f_i` (0 for non-negative losses):
//!
//! ```text
//! γ = min( (f_i(w) - f_i*) / (c ||g||²),  γ_max )
//! w ← w - γ g
//! ```
//!
//! With `c = 1` and no cap the step moves `w` to where the linearisation of
//! `f_i` reaches `f_i*`: a Newton-Raphson step on the equation
//! `f_i(w) = f_i*`. When the model interpolates the data (every `f_i` reaches
//! `f_i*` at one common `w*`) this converges to `w*`; when it does not, the
//! equations have no common solution and SPS keeps moving between them, so
//! it stalls at a distance from the optimum. That is the shortcoming
//! TAPS and MOTAPS of Gower, Defazio and Rabbat address with per-sample
//! targets in place of `f_i*`; they are not implemented here (see the
//! module [`finite_sum`](super)).
//!
//! Where a loss is below its stated bound the step is 0 (the numerator is
//! clamped at 0), and a zero gradient gives a zero step. SPS keeps no
//! state; the loss and gradient passed in are the whole sample's, any
//! regulariser included.

use crate::error::Error;
use crate::finite_sum::Sample;
use crate::float::Float;

/// SPS's hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpsConfig {
    /// The scaling `c` of the denominator (1 is SP; Loizou et al. analyse
    /// `c = 1/2`).
    pub c: f64,
    /// The cap `γ_max` (infinity for none).
    pub max_step: f64,
    /// The lower bound `f_i*` of every sample's loss.
    pub lower_bound: f64,
}

impl Default for SpsConfig {
    /// SP: `c = 1`, no cap, `f_i* = 0`.
    fn default() -> Self {
        SpsConfig {
            c: 1.0,
            max_step: f64::INFINITY,
            lower_bound: 0.0,
        }
    }
}

/// SPS for parameters of dimension `d`.
#[derive(Clone, Debug)]
pub struct Sps {
    config: SpsConfig,
    d: usize,
}

impl Sps {
    /// Checks the configuration: `c` positive and finite, `max_step`
    /// positive (infinity allowed), `lower_bound` finite.
    pub fn new(config: SpsConfig, d: usize) -> Result<Self, Error> {
        if !(config.c.is_finite() && config.c > 0.0) {
            return Err(Error::InvalidHyperparameter("c"));
        }
        if config.max_step.is_nan() || config.max_step <= 0.0 {
            return Err(Error::InvalidHyperparameter("max_step"));
        }
        if !config.lower_bound.is_finite() {
            return Err(Error::InvalidHyperparameter("lower_bound"));
        }
        if d == 0 {
            return Err(Error::Length);
        }
        Ok(Sps { config, d })
    }

    /// One step with the sample's `loss` at `w` and its gradient `sample`
    /// (dense or linear); returns the step size `γ` taken.
    pub fn step<T: Float>(
        &self,
        w: &mut [T],
        loss: f64,
        sample: Sample<'_, T>,
    ) -> Result<f64, Error> {
        if w.len() != self.d {
            return Err(Error::Length);
        }
        let form = match sample {
            Sample::Dense(_) => super::TableForm::Dense,
            Sample::Linear { .. } => super::TableForm::Linear,
        };
        sample.check(form, self.d)?;
        if !loss.is_finite() {
            return Err(Error::NonFiniteLoss);
        }
        let norm2: f64 = (0..self.d)
            .map(|k| sample.at(k).to_f64())
            .map(|g| g * g)
            .sum();
        let gap = (loss - self.config.lower_bound).max(0.0);
        let gamma = if norm2 > 0.0 {
            (gap / (self.config.c * norm2)).min(self.config.max_step)
        } else {
            0.0
        };
        if !gamma.is_finite() {
            return Err(Error::NonFiniteGradient);
        }
        let g = T::from_f64(gamma);
        for (k, wk) in w.iter_mut().enumerate() {
            *wk -= g * sample.at(k);
        }
        Ok(gamma)
    }
}
