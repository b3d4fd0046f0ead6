//! SVRG, stochastic variance-reduced gradient: Johnson and Zhang,
//! "Accelerating Stochastic Gradient Descent using Predictive Variance
//! Reduction", NeurIPS 2013; the form studied by Defazio and Bottou, "On the
//! Ineffectiveness of Variance Reduced Optimization for Deep Learning",
//! NeurIPS 2019 (arXiv 1812.04529).
//!
//! Each epoch takes a snapshot `w̃ = w`, a full pass for its mean gradient
//! `μ̃ = (1/n) Σ_i ∇loss_i(w̃)`, then `m` inner steps on sampled `j`:
//!
//! ```text
//! w ← prox_{γh}( w - γ (∇loss_j(w) - ∇loss_j(w̃) + μ̃) )
//! ```
//!
//! with `h` the elastic net (Prox-SVRG, Xiao and Zhang 2014, when
//! `l1 > 0`). The caller passes both gradients of the inner step; the
//! library keeps `w̃` and `μ̃`.
//!
//! The snapshot is taken in three calls: [`Svrg::begin_snapshot`] copies
//! `w`, clears the mean and forgets the previous snapshot;
//! [`Svrg::add_snapshot_gradient`] takes the samples in order `0, 1, ...,
//! n-1` (another index is refused, so each sample counts exactly once), and
//! the last one turns the sum into the mean. Inner steps are refused with
//! [`Error::NotReady`] until then, so nothing of an old snapshot can leak
//! into a new mean.
//!
//! State: `w̃`, then `μ̃` (`2d` values); no table. The form of the samples
//! (dense or linear) is chosen by the shape; the table form's length is
//! not used.

use crate::error::Error;
use crate::finite_sum::prox;
use crate::finite_sum::{check_step_size, copy, split, Regularizer, Sample, Shape};
use crate::float::Float;

/// SVRG's hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SvrgConfig {
    /// The step size `γ`.
    pub step_size: f64,
    /// The regulariser, applied through its prox.
    pub regularizer: Regularizer,
}

/// SVRG bound to a shape, with the progress of its snapshot.
#[derive(Clone, Debug)]
pub struct Svrg {
    config: SvrgConfig,
    shape: Shape,
    /// Samples added to the snapshot being taken; `n` when it is complete.
    added: usize,
    /// Whether a snapshot has been begun since construction.
    begun: bool,
}

impl Svrg {
    /// Checks the configuration and the shape.
    pub fn new(config: SvrgConfig, shape: Shape) -> Result<Self, Error> {
        check_step_size(config.step_size)?;
        config.regularizer.check()?;
        Self::state_len_for(shape)?;
        Ok(Svrg {
            config,
            shape,
            added: 0,
            begun: false,
        })
    }

    /// The state length for `shape`: `2d`.
    pub fn state_len_for(shape: Shape) -> Result<usize, Error> {
        shape.state_len(1, 0)?;
        shape.d.checked_mul(2).ok_or(Error::Length)
    }

    /// The state length of this method.
    pub fn state_len(&self) -> usize {
        2 * self.shape.d
    }

    /// The configuration.
    pub fn config(&self) -> &SvrgConfig {
        &self.config
    }

    /// How far the snapshot or fill has come: 0 before the first begin,
    /// else 1 plus the samples added since. A caller that rebuilds the
    /// method for each call (the C ABI) keeps this number and passes it to
    /// [`with_progress`](Self::with_progress).
    pub fn progress(&self) -> usize {
        if self.begun {
            self.added + 1
        } else {
            0
        }
    }

    /// The method with the progress of [`progress`](Self::progress);
    /// a number above `n + 1` is refused.
    pub fn with_progress(mut self, progress: usize) -> Result<Self, Error> {
        if progress > self.shape.n + 1 {
            return Err(Error::SampleIndex);
        }
        self.begun = progress > 0;
        self.added = progress.saturating_sub(1);
        Ok(self)
    }

    /// True once the snapshot's mean is complete.
    pub fn ready(&self) -> bool {
        self.begun && self.added == self.shape.n
    }

    fn check_lengths<T>(&self, w: &[T], state: &[T]) -> Result<(), Error> {
        if w.len() != self.shape.d {
            return Err(Error::Length);
        }
        if state.len() != self.state_len() {
            return Err(Error::TableLength);
        }
        Ok(())
    }

    /// Takes `w` as the new snapshot and clears the mean gradient.
    pub fn begin_snapshot<T: Float>(&mut self, w: &[T], state: &mut [T]) -> Result<(), Error> {
        self.check_lengths(w, state)?;
        let (snapshot, mean) = split(state, self.shape.d).ok_or(Error::TableLength)?;
        copy(snapshot, w);
        mean.fill(T::ZERO);
        self.added = 0;
        self.begun = true;
        Ok(())
    }

    /// Adds sample `i`'s gradient at the snapshot; `i` must be the number
    /// of samples added so far.
    pub fn add_snapshot_gradient<T: Float>(
        &mut self,
        state: &mut [T],
        i: usize,
        sample: Sample<'_, T>,
    ) -> Result<(), Error> {
        if state.len() != self.state_len() {
            return Err(Error::TableLength);
        }
        if !self.begun || i >= self.shape.n || i != self.added {
            return Err(Error::SampleIndex);
        }
        sample.check(self.shape.form, self.shape.d)?;
        let (_, mean) = split(state, self.shape.d).ok_or(Error::TableLength)?;
        let last = i + 1 == self.shape.n;
        let n = T::from_f64(self.shape.n as f64);
        // The sum is kept until the last sample, then divided once.
        for (k, m) in mean.iter_mut().enumerate() {
            *m += sample.at(k);
            if last {
                *m = *m / n;
            }
        }
        self.added = i + 1;
        Ok(())
    }

    /// One inner step on sample `i`: `at_w` is its loss gradient at `w`,
    /// `at_snapshot` at the snapshot.
    pub fn step<T: Float>(
        &mut self,
        w: &mut [T],
        state: &mut [T],
        i: usize,
        at_w: Sample<'_, T>,
        at_snapshot: Sample<'_, T>,
    ) -> Result<(), Error> {
        self.check_lengths(w, state)?;
        if i >= self.shape.n {
            return Err(Error::SampleIndex);
        }
        at_w.check(self.shape.form, self.shape.d)?;
        at_snapshot.check(self.shape.form, self.shape.d)?;
        if !self.ready() {
            return Err(Error::NotReady);
        }
        let (_, mean) = split(state, self.shape.d).ok_or(Error::TableLength)?;
        let gamma = self.config.step_size;
        let reg = self.config.regularizer;
        let (threshold, shrink) = prox::elastic_net_constants::<T>(gamma, reg.l1, reg.l2);
        let gamma = T::from_f64(gamma);

        for (k, (wk, mk)) in w.iter_mut().zip(mean.iter()).enumerate() {
            let v = *wk - gamma * (at_w.at(k) - at_snapshot.at(k) + *mk);
            *wk = prox::elastic_net(v, threshold, shrink);
        }
        Ok(())
    }

    /// The snapshot `w̃` held in `state` (for the caller's gradients at it).
    pub fn snapshot<'a, T>(&self, state: &'a [T]) -> Option<&'a [T]> {
        state.get(..self.shape.d)
    }
}
