//! Finito: Defazio, Caetano and Domke, "Finito: A Faster, Permutable
//! Incremental Gradient Method for Big Data Problems", ICML 2014
//! (arXiv 1407.2710).
//!
//! With `f_i(w) = loss_i(w) + (l2/2)||w||²`, each `μ`-strongly convex
//! (`μ = l2`), Finito keeps a point `φ_i` per sample and its gradient, and
//! sets (the paper's equation 1)
//!
//! ```text
//! w = (1/n) Σ_i φ_i - s Σ_i ∇f_i(φ_i),        s = 1 / (α μ n)
//! ```
//!
//! A step on sample `j` sets `φ_j ← w` and `∇f_j(φ_j) ← ∇f_j(w)`, then
//! recomputes `w`. Since `∇f_i(φ_i) = g_i + l2·φ_i`, with `g_i` the loss
//! gradient the table holds, the library keeps the means `φ̄` and `ḡ` and
//! computes `w = φ̄ - s n (ḡ + l2·φ̄)`. The paper's analysis takes `α = 2`
//! and needs `n ≥ 2L/μ` ("big data"); it recommends visiting the samples in
//! a fresh permutation each epoch.
//!
//! The method's `w` is a function of its tables, so they must agree from
//! the start: [`Finito::begin`] sets every `φ_i` to the caller's `w`, then
//! [`Finito::fill`] takes each sample's gradient there, in order `0, 1,
//! ..., n-1` (one pass over the data, before the first step); the last
//! one writes the first `w`. Steps are refused with [`Error::NotReady`]
//! until then.
//!
//! State: `φ̄`, `ḡ` (`2d`), the points `φ_i` (`n·d`; a linear model's
//! points are not scalars, so this part has no compact form), then the
//! gradient table (`n·d`, or `n` for
//! [`TableForm::Linear`](super::TableForm::Linear)).

use crate::error::Error;
use crate::finite_sum::{check_l2, check_step_size, copy, split, table_parts, Sample, Shape};
use crate::float::Float;

/// Finito's hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FinitoConfig {
    /// The step `s`; the paper's is `1 / (α μ n)`
    /// ([`theory::finito`](super::theory::finito)).
    pub step_size: f64,
    /// The `l2` weight, part of every `f_i`.
    pub l2: f64,
}

/// Finito bound to a shape, with the progress of its first pass.
#[derive(Clone, Debug)]
pub struct Finito {
    config: FinitoConfig,
    shape: Shape,
    state_len: usize,
    /// Samples whose gradient is in the table; `n` once it is full.
    filled: usize,
    begun: bool,
}

impl Finito {
    /// Checks the configuration and the shape.
    pub fn new(config: FinitoConfig, shape: Shape) -> Result<Self, Error> {
        check_step_size(config.step_size)?;
        check_l2(config.l2)?;
        let state_len = Self::state_len_for(shape)?;
        Ok(Finito {
            config,
            shape,
            state_len,
            filled: 0,
            begun: false,
        })
    }

    /// The state length for `shape`: `2d + n·d` plus the table.
    pub fn state_len_for(shape: Shape) -> Result<usize, Error> {
        shape.state_len(2, 1)
    }

    /// The state length of this method.
    pub fn state_len(&self) -> usize {
        self.state_len
    }

    /// How far the snapshot or fill has come: 0 before the first begin,
    /// else 1 plus the samples added since. A caller that rebuilds the
    /// method for each call (the C ABI) keeps this number and passes it to
    /// [`with_progress`](Self::with_progress).
    pub fn progress(&self) -> usize {
        if self.begun {
            self.filled + 1
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
        self.filled = progress.saturating_sub(1);
        Ok(self)
    }

    /// True once the table is full and steps may be taken.
    pub fn ready(&self) -> bool {
        self.begun && self.filled == self.shape.n
    }

    /// The values before the gradient table: `φ̄`, `ḡ` and the points.
    fn head(&self) -> usize {
        self.state_len
            - self
                .shape
                .form
                .table_len(self.shape.n, self.shape.d)
                .unwrap_or(0)
    }

    /// Sets every point `φ_i` to `w` and empties the gradient table.
    pub fn begin<T: Float>(&mut self, w: &[T], state: &mut [T]) -> Result<(), Error> {
        if w.len() != self.shape.d {
            return Err(Error::Length);
        }
        if state.len() != self.state_len {
            return Err(Error::TableLength);
        }
        let d = self.shape.d;
        let (means, rest) = split(state, 2 * d).ok_or(Error::TableLength)?;
        let (points, table) = split(rest, self.head() - 2 * d).ok_or(Error::TableLength)?;
        let (phi_mean, g_mean) = split(means, d).ok_or(Error::TableLength)?;
        copy(phi_mean, w);
        g_mean.fill(T::ZERO);
        // Every point is w: copy w over the whole block, d values at a time.
        for (k, p) in points.iter_mut().enumerate() {
            *p = w.get(k % d.max(1)).copied().unwrap_or(T::ZERO);
        }
        table.fill(T::ZERO);
        self.filled = 0;
        self.begun = true;
        Ok(())
    }

    /// Stores sample `i`'s loss gradient at the starting point; `i` must be
    /// the number of samples filled so far. The last one writes the first
    /// iterate into `w`.
    pub fn fill<T: Float>(
        &mut self,
        w: &mut [T],
        state: &mut [T],
        i: usize,
        sample: Sample<'_, T>,
    ) -> Result<(), Error> {
        let head = self.head();
        let (head, stored) = table_parts(&self.shape, w, state, self.state_len, head, i, &sample)?;
        if !self.begun || i != self.filled {
            return Err(Error::SampleIndex);
        }
        let d = self.shape.d;
        let (phi_mean, rest) = split(head, d).ok_or(Error::TableLength)?;
        let g_mean = rest.get_mut(..d).ok_or(Error::TableLength)?;
        let last = i + 1 == self.shape.n;
        let n = T::from_f64(self.shape.n as f64);
        let c = T::from_f64(self.config.step_size * self.shape.n as f64);
        let l2 = T::from_f64(self.config.l2);
        // The sum is kept until the last sample, then divided once.
        for (k, ((gk, pk), wk)) in g_mean.iter_mut().zip(phi_mean.iter()).zip(w).enumerate() {
            *gk += sample.at(k);
            if last {
                *gk = *gk / n;
                *wk = *pk - c * (*gk + l2 * *pk);
            }
        }
        stored.store(&sample);
        self.filled = i + 1;
        Ok(())
    }

    /// One step on sample `i`, whose loss gradient at `w` is `sample`.
    pub fn step<T: Float>(
        &mut self,
        w: &mut [T],
        state: &mut [T],
        i: usize,
        sample: Sample<'_, T>,
    ) -> Result<(), Error> {
        let head = self.head();
        let (head, stored) = table_parts(&self.shape, w, state, self.state_len, head, i, &sample)?;
        if !self.ready() {
            return Err(Error::NotReady);
        }
        let d = self.shape.d;
        let (means, points) = split(head, 2 * d).ok_or(Error::TableLength)?;
        let (phi_mean, g_mean) = split(means, d).ok_or(Error::TableLength)?;
        let point = points
            .get_mut(i * d..(i + 1) * d)
            .ok_or(Error::TableLength)?;
        let n = T::from_f64(self.shape.n as f64);
        let c = T::from_f64(self.config.step_size * self.shape.n as f64);
        let l2 = T::from_f64(self.config.l2);

        // φ_j and its gradient move to the current w, then w follows the
        // new means.
        let means = phi_mean.iter_mut().zip(g_mean.iter_mut());
        for (k, ((pk, gk), (wk, phi))) in means.zip(w.iter_mut().zip(point)).enumerate() {
            *pk += (*wk - *phi) / n;
            *phi = *wk;
            *gk += (sample.at(k) - stored.at(k)) / n;
            *wk = *pk - c * (*gk + l2 * *pk);
        }
        stored.store(&sample);
        Ok(())
    }
}
