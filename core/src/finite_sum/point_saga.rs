//! Point-SAGA: Defazio, "A Simple Practical Accelerated Method for Finite
//! Sums", NeurIPS 2016 (arXiv 1602.02442).
//!
//! For `f(w) = (1/n) Σ_i f_i(w)` with `f_i(w) = φ(x_i·w) + (l2/2)||w||²`,
//! each `L`-smooth and `μ`-strongly convex (`μ = l2`), the table holds a
//! gradient `g_i` per sample and `ḡ` their mean. A step on sample `j`
//! (the paper's update) uses the proximal operator of `f_j` instead of
//! its gradient:
//!
//! ```text
//! z    = w + γ (g_j - ḡ)
//! w'   = prox_{γ f_j}(z)
//! g'_j = (z - w') / γ          (a gradient of f_j at w')
//! ḡ   ← ḡ + (g'_j - g_j) / n,   g_j ← g'_j,   w ← w'
//! ```
//!
//! The prox is computed by [`Loss::prox_scalar`] for the squared, logistic
//! (Newton, to full precision) and hinge losses; the caller passes the
//! sample's row and label instead of a gradient. The paper's step is
//! [`theory::point_saga`](super::theory::point_saga).
//!
//! Each `g_i` includes the `l2·w'` part, which is not a multiple of the
//! row, so the table is dense only: a [`TableForm::Linear`] shape is refused.
//! An `l1` term has no per-sample prox in this form and is not offered. The
//! table starts at zero.
//!
//! State: `ḡ` (`d`), then the table (`n·d`).

use crate::error::Error;
use crate::finite_sum::prox::Loss;
use crate::finite_sum::{check_l2, check_step_size, clear, split, Shape, TableForm};
use crate::float::Float;

/// Point-SAGA's hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointSagaConfig {
    /// The step size `γ`.
    pub step_size: f64,
    /// The `l2` weight, part of every `f_i`.
    pub l2: f64,
    /// The loss `φ`.
    pub loss: Loss,
}

/// Point-SAGA bound to a shape.
#[derive(Clone, Debug)]
pub struct PointSaga {
    config: PointSagaConfig,
    shape: Shape,
    state_len: usize,
}

impl PointSaga {
    /// Checks the configuration and the shape (which must be dense).
    pub fn new(config: PointSagaConfig, shape: Shape) -> Result<Self, Error> {
        check_step_size(config.step_size)?;
        check_l2(config.l2)?;
        let state_len = Self::state_len_for(shape)?;
        Ok(PointSaga {
            config,
            shape,
            state_len,
        })
    }

    /// The state length for `shape`: `d + n·d`.
    pub fn state_len_for(shape: Shape) -> Result<usize, Error> {
        if shape.form != TableForm::Dense {
            return Err(Error::TableForm);
        }
        shape.state_len(1, 0)
    }

    /// The state length of this method.
    pub fn state_len(&self) -> usize {
        self.state_len
    }

    /// Zeroes `state`: an empty table and a zero mean, the start of a run.
    pub fn reset<T: Float>(&self, state: &mut [T]) -> Result<(), Error> {
        clear(state, self.state_len)
    }

    /// One step on sample `i`, with feature row `row` and label `label`
    /// (`±1` for the logistic and hinge losses).
    pub fn step<T: Float>(
        &mut self,
        w: &mut [T],
        state: &mut [T],
        i: usize,
        row: &[T],
        label: f64,
    ) -> Result<(), Error> {
        let shape = self.shape;
        shape.check_step(w, state, self.state_len, i)?;
        if row.len() != shape.d {
            return Err(Error::Length);
        }
        if !label.is_finite() || !row.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFiniteGradient);
        }
        if self.config.loss != Loss::Squared && label != 1.0 && label != -1.0 {
            return Err(Error::InvalidHyperparameter("label"));
        }
        let (mean, table) = split(state, shape.d).ok_or(Error::TableLength)?;
        let entry = table.get_mut(shape.entry(i)).ok_or(Error::TableLength)?;

        // The prox's scalar problem, with the l2 term folded in.
        let gamma = self.config.step_size;
        let c = 1.0 / (1.0 + gamma * self.config.l2);
        let gamma_t = T::from_f64(gamma);
        let c_t = T::from_f64(c);
        let mut t0 = 0.0;
        let parts = w.iter().zip(entry.iter()).zip(mean.iter()).zip(row);
        for (((wk, gk), mk), a) in parts {
            let zk = *wk + gamma_t * (*gk - *mk);
            t0 += (c_t * zk).to_f64() * a.to_f64();
        }
        let q = c * gamma * super::theory::norm_squared(row);
        let slope = T::from_f64(c * gamma * self.config.loss.prox_scalar(t0, q, label));

        // w' = c z - cγ φ'(t) a, and the new gradient (z - w') / γ.
        let n = T::from_f64(shape.n as f64);
        let parts = w
            .iter_mut()
            .zip(entry.iter_mut())
            .zip(mean.iter_mut())
            .zip(row);
        for (((wk, gk), mk), a) in parts {
            let zk = *wk + gamma_t * (*gk - *mk);
            let next = c_t * zk - slope * *a;
            let g_new = (zk - next) / gamma_t;
            *mk += (g_new - *gk) / n;
            *gk = g_new;
            *wk = next;
        }
        Ok(())
    }
}
