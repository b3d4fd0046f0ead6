//! SAG, the stochastic average gradient: Schmidt, Le Roux and Bach,
//! "Minimizing Finite Sums with the Stochastic Average Gradient",
//! Mathematical Programming 162, 2017 (arXiv 1309.2388); with the
//! non-uniform sampling of Schmidt, Babanezhad, Ahmed, Defazio, Clifton and
//! Sarkar, "Non-Uniform Stochastic Average Gradient Method for Training
//! Conditional Random Fields", AISTATS 2015.
//!
//! The table holds `y_i`, the last gradient seen of each sample, and
//! `ȳ = (1/n) Σ_i y_i`. A step on sample `j`, with `g'_j = ∇loss_j(w)`
//! (the 2017 paper's update, with the mean kept instead of the sum):
//!
//! ```text
//! ȳ  ← ȳ + (g'_j - y_j) / n
//! y_j ← g'_j
//! w  ← w - γ (ȳ + l2·w)
//! ```
//!
//! Unlike SAGA, the new gradient enters only through the mean, so the step
//! is biased; unlike SAGA, it has no proximal form. The `l2` gradient is
//! exact at `w` rather than stored. Non-uniform sampling changes only which
//! entry is refreshed: the mean stays unweighted, as in Schmidt et al.
//! 2015 (use [`Weighted`](super::sampling::Weighted) with weights `L_i`).
//! The table starts at zero, as in the 2017 paper's analysis.
//!
//! State: `ȳ` (`d` values), then the table (`n·d`, or `n` for
//! [`TableForm::Linear`](super::TableForm::Linear)). The default step is
//! the practical `1/L` ([`theory::sag`](super::theory::sag)).

use crate::error::Error;
use crate::finite_sum::{check_l2, check_step_size, clear, mean_table_step, Sample, Shape};
use crate::float::Float;

/// SAGA's hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SagConfig {
    /// The step size `γ`.
    pub step_size: f64,
    /// The `l2` weight, whose gradient `l2·w` is added exactly at each
    /// step. SAG has no proximal form, so there is no `l1`.
    pub l2: f64,
}

/// SAGA bound to a shape.
#[derive(Clone, Debug)]
pub struct Sag {
    config: SagConfig,
    shape: Shape,
    state_len: usize,
}

impl Sag {
    /// Checks the configuration and the shape.
    pub fn new(config: SagConfig, shape: Shape) -> Result<Self, Error> {
        check_step_size(config.step_size)?;
        check_l2(config.l2)?;
        let state_len = Self::state_len_for(shape)?;
        Ok(Sag {
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
    pub fn config(&self) -> &SagConfig {
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
    /// A compact table: least squares on rows `x_i` with loss
    /// `(x_i·w - y_i)²/2`, whose gradient is `(x_i·w - y_i) x_i`.
    ///
    /// ```
    /// use freestep::finite_sum::sag::{Sag, SagConfig};
    /// use freestep::finite_sum::{Sample, Shape, TableForm};
    ///
    /// let x = [[1.0f64, 0.0], [0.0, 2.0], [1.0, 1.0]];
    /// let y = [1.0, 4.0, 3.0]; // solved exactly by w = (1, 2)
    /// let shape = Shape { n: 3, d: 2, form: TableForm::Linear };
    /// let mut sag = Sag::new(SagConfig { step_size: 0.2, l2: 0.0 }, shape).unwrap();
    /// let mut state = vec![0.0; sag.state_len()]; // 2 + 3 values
    /// let mut w = [0.0; 2];
    /// for k in 0..600 {
    ///     let i = k % 3;
    ///     let scalar = x[i][0] * w[0] + x[i][1] * w[1] - y[i];
    ///     sag.step(&mut w, &mut state, i, Sample::Linear { row: &x[i], scalar }).unwrap();
    /// }
    /// assert!((w[0] - 1.0).abs() < 1e-10 && (w[1] - 2.0).abs() < 1e-10);
    /// ```
    pub fn step<T: Float>(
        &mut self,
        w: &mut [T],
        state: &mut [T],
        i: usize,
        sample: Sample<'_, T>,
    ) -> Result<(), Error> {
        let gamma = T::from_f64(self.config.step_size);
        let l2 = T::from_f64(self.config.l2);
        let n = T::from_f64(self.shape.n as f64);

        // The table and the mean take the new gradient first, then the step
        // follows the new mean.
        mean_table_step(
            &self.shape,
            self.state_len,
            w,
            state,
            i,
            sample,
            |wk, gk, diff| {
                *gk += diff / n;
                *wk -= gamma * (*gk + l2 * *wk);
            },
        )
    }
}
