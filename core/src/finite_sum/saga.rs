//! SAGA: Defazio, Bach and Lacoste-Julien, "SAGA: A Fast Incremental
//! Gradient Method With Support for Non-Strongly Convex Composite
//! Objectives", NeurIPS 2014 (arXiv 1407.0202).
//!
//! For `f(w) = (1/n) Σ_i loss_i(w) + h(w)`, with `h` the elastic net
//! `(l2/2)||w||² + l1||w||₁`, the table holds `g_i`, the last gradient seen
//! of each sample, and `ḡ = (1/n) Σ_i g_i`. A step on sample `j`, with
//! `g'_j = ∇loss_j(w)` (the paper's update):
//!
//! ```text
//! w  ← prox_{γh}( w - γ (g'_j - g_j + ḡ) )
//! ḡ  ← ḡ + (g'_j - g_j) / n
//! g_j ← g'_j
//! ```
//!
//! The regulariser goes through its prox ([`prox::elastic_net`]), as the
//! paper treats `h`. The table starts at zero (a zeroed state), which the
//! paper's analysis allows; then `ḡ = 0` agrees with it.
//!
//! State: `ḡ` (`d` values), then the table (`n·d`, or `n` for
//! [`TableForm::Linear`](super::TableForm::Linear)). The default step is `1/(3L)`
//! ([`theory::saga`](super::theory::saga)).

use crate::error::Error;
use crate::finite_sum::prox;
use crate::finite_sum::{check_step_size, clear, mean_table_step, Regularizer, Sample, Shape};
use crate::float::Float;

/// SAGA's hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SagaConfig {
    /// The step size `γ`.
    pub step_size: f64,
    /// The regulariser, applied through its prox.
    pub regularizer: Regularizer,
}

/// SAGA bound to a shape.
#[derive(Clone, Debug)]
pub struct Saga {
    config: SagaConfig,
    shape: Shape,
    state_len: usize,
}

impl Saga {
    /// Checks the configuration and the shape.
    pub fn new(config: SagaConfig, shape: Shape) -> Result<Self, Error> {
        check_step_size(config.step_size)?;
        config.regularizer.check()?;
        let state_len = Self::state_len_for(shape)?;
        Ok(Saga {
            config,
            shape,
            state_len,
        })
    }

    /// The state length for `shape`: `d` plus the table.
    pub fn state_len_for(shape: Shape) -> Result<usize, Error> {
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

    /// The configuration.
    pub fn config(&self) -> &SagaConfig {
        &self.config
    }

    /// The shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// One step on sample `i`, whose loss gradient at `w` is `sample`.
    ///
    /// # Examples
    ///
    /// ```
    /// use freestep::finite_sum::saga::{Saga, SagaConfig};
    /// use freestep::finite_sum::{Regularizer, Sample, Shape, TableForm};
    ///
    /// // Two samples, loss_i(w) = (w - c_i)²/2: the optimum is the mean c.
    /// let c = [1.0f64, 3.0];
    /// let shape = Shape { n: 2, d: 1, form: TableForm::Dense };
    /// let config = SagaConfig { step_size: 0.3, regularizer: Regularizer::default() };
    /// let mut saga = Saga::new(config, shape).unwrap();
    /// let mut state = vec![0.0; saga.state_len()];
    /// let mut w = [0.0];
    /// for k in 0..200 {
    ///     let i = k % 2;
    ///     let g = [w[0] - c[i]];
    ///     saga.step(&mut w, &mut state, i, Sample::Dense(&g)).unwrap();
    /// }
    /// assert!((w[0] - 2.0).abs() < 1e-12);
    /// ```
    pub fn step<T: Float>(
        &mut self,
        w: &mut [T],
        state: &mut [T],
        i: usize,
        sample: Sample<'_, T>,
    ) -> Result<(), Error> {
        let gamma = self.config.step_size;
        let reg = self.config.regularizer;
        let (threshold, shrink) = prox::elastic_net_constants::<T>(gamma, reg.l1, reg.l2);
        let (gamma, n) = (T::from_f64(gamma), T::from_f64(self.shape.n as f64));

        // The step uses the mean from before this sample's update.
        mean_table_step(
            &self.shape,
            self.state_len,
            w,
            state,
            i,
            sample,
            |wk, gk, diff| {
                let v = *wk - gamma * (diff + *gk);
                *wk = prox::elastic_net(v, threshold, shrink);
                *gk += diff / n;
            },
        )
    }
}
