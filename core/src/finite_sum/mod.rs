//! Finite-sum methods: optimizers that keep a table of per-sample
//! information for problems of the form
//!
//! ```text
//! f(w) = (1/n) Σ_i loss_i(w) + (l2/2) ||w||² + l1 ||w||₁
//! ```
//!
//! The caller owns the data and evaluates the losses. At each step it
//! passes the index `i` of the sample it drew and that sample's loss
//! gradient at the point the method asks for; the method keeps the running
//! averages and the table in a state buffer the caller owns. The `l2` and
//! `l1` terms are not part of the gradients passed in: each method adds the
//! `l2` gradient exactly and applies the `l1` term through its proximal
//! operator where the method admits one.
//!
//! | method | file | paper | state (values of the element type) |
//! | --- | --- | --- | --- |
//! | SAGA | [`saga`] | Defazio, Bach, Lacoste-Julien, NeurIPS 2014 | `d` + table |
//! | SAG | [`sag`] | Schmidt, Le Roux, Bach 2017; Schmidt et al., AISTATS 2015 | `d` + table |
//! | SVRG | [`svrg`] | Johnson, Zhang 2013; Defazio, Bottou 2019 | `2d`, no table |
//! | Finito | [`finito`] | Defazio, Caetano, Domke, ICML 2014 | `2d + n·d` + table |
//! | Point-SAGA | [`point_saga`] | Defazio, NeurIPS 2016 | `d + n·d` |
//! | SPS | [`polyak`] | Loizou et al., AISTATS 2021 | none |
//!
//! TAPS and MOTAPS (Gower, Defazio, Rabbat 2021), which replace SPS's
//! lower bound by per-sample targets kept in a table, are not implemented:
//! their update equations were not available to this implementation, and
//! a guess at them would not be those methods. A caller who needs SPS
//! without interpolation has no method here yet.
//!
//! # Tables
//!
//! A table holds one loss gradient per sample, in one of two forms
//! ([`TableForm`]): `Dense`, `n·d` values, for any model; or `Linear`, one
//! value per sample, for linear models whose loss gradient is a scalar times
//! the sample's feature row, `∇loss_i(w) = s_i · x_i` (logistic, squared,
//! hinge losses). With a `Linear` table the caller passes the row and the
//! scalar ([`Sample::Linear`]) and the method rebuilds the stored gradient
//! as `s_i · x_i` when it needs it, which costs `n` values instead of
//! `n·d`. Both forms evaluate the same products in the same order, so they
//! give the same iterates bit for bit when the caller's dense gradient is
//! itself `s_i · x_i` element by element.
//!
//! # Refusals
//!
//! Every call checks everything before it writes anything: the lengths of
//! `w` and of the row or gradient ([`Error::Length`]), of the state
//! ([`Error::TableLength`]), the sample index ([`Error::SampleIndex`]), the
//! sample's form ([`Error::TableForm`]), and that every input value is
//! finite ([`Error::NonFiniteGradient`]). On an error the parameters and the
//! state are exactly as they were.
//!
//! Sampling helpers on a deterministic PRNG are in [`sampling`], step sizes
//! from the papers' theory and Lipschitz estimates in [`theory`], proximal
//! operators in [`prox`].

pub mod finito;
pub mod point_saga;
pub mod polyak;
pub mod prox;
pub mod sag;
pub mod saga;
pub mod sampling;
pub mod svrg;
pub mod theory;

use crate::error::Error;
use crate::float::Float;

/// How a table stores each sample's loss gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum TableForm {
    /// `d` values per sample: the gradient itself.
    Dense = 0,
    /// One value per sample: the scalar `s_i` of `∇loss_i = s_i · x_i`.
    Linear = 1,
}

impl TableForm {
    /// The values the table needs for `n` samples of dimension `d`, or
    /// `None` when that overflows `usize`.
    pub const fn table_len(self, n: usize, d: usize) -> Option<usize> {
        match self {
            TableForm::Dense => n.checked_mul(d),
            TableForm::Linear => Some(n),
        }
    }
}

/// One sample's loss gradient, as the caller passes it.
#[derive(Clone, Copy, Debug)]
pub enum Sample<'a, T> {
    /// The gradient, `d` values (for a [`TableForm::Dense`] table).
    Dense(&'a [T]),
    /// The gradient is `scalar · row` (for a [`TableForm::Linear`] table).
    Linear {
        /// The sample's feature row, `d` values.
        row: &'a [T],
        /// The derivative of the loss with respect to `row · w`.
        scalar: T,
    },
}

impl<T: Float> Sample<'_, T> {
    /// Checks the sample's form, length and values.
    pub(crate) fn check(&self, form: TableForm, d: usize) -> Result<(), Error> {
        let (values, extra, this_form) = match *self {
            Sample::Dense(g) => (g, T::ZERO, TableForm::Dense),
            Sample::Linear { row, scalar } => (row, scalar, TableForm::Linear),
        };
        if this_form != form {
            return Err(Error::TableForm);
        }
        if values.len() != d {
            return Err(Error::Length);
        }
        if !extra.is_finite() || !values.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFiniteGradient);
        }
        Ok(())
    }

    /// Element `k` of the gradient (`scalar · row[k]` for a linear sample);
    /// zero past the end, which a checked sample never reaches.
    #[inline(always)]
    pub(crate) fn at(&self, k: usize) -> T {
        match *self {
            Sample::Dense(g) => g.get(k).copied().unwrap_or(T::ZERO),
            Sample::Linear { row, scalar } => scalar * row.get(k).copied().unwrap_or(T::ZERO),
        }
    }
}

/// The shape every finite-sum method is built for: `n` samples of
/// dimension `d`, and the form of its table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// The number of samples.
    pub n: usize,
    /// The number of parameters.
    pub d: usize,
    /// The form of the gradient table.
    pub form: TableForm,
}

impl Shape {
    /// Checks that `n` and `d` are positive and that `extra_d` vectors of
    /// `d`, `extra_nd` blocks of `n·d` and the table fit in `usize`; returns
    /// the total state length.
    pub(crate) fn state_len(&self, extra_d: usize, extra_nd: usize) -> Result<usize, Error> {
        if self.n == 0 || self.d == 0 {
            return Err(Error::Length);
        }
        let nd = self.n.checked_mul(self.d).ok_or(Error::Length)?;
        let table = self.form.table_len(self.n, self.d).ok_or(Error::Length)?;
        extra_d
            .checked_mul(self.d)
            .and_then(|a| extra_nd.checked_mul(nd).and_then(|b| a.checked_add(b)))
            .and_then(|a| a.checked_add(table))
            .ok_or(Error::Length)
    }

    /// Checks `w`, the state length and the sample index of a step.
    pub(crate) fn check_step<T>(
        &self,
        w: &[T],
        state: &[T],
        state_len: usize,
        i: usize,
    ) -> Result<(), Error> {
        if w.len() != self.d {
            return Err(Error::Length);
        }
        if state.len() != state_len {
            return Err(Error::TableLength);
        }
        if i >= self.n {
            return Err(Error::SampleIndex);
        }
        Ok(())
    }

    /// The range of sample `i`'s entry in a table of this shape.
    pub(crate) fn entry(&self, i: usize) -> core::ops::Range<usize> {
        match self.form {
            TableForm::Dense => i * self.d..(i + 1) * self.d,
            TableForm::Linear => i..i + 1,
        }
    }
}

/// The stored gradient of one sample: a dense entry, or a scalar with the
/// row the caller passed for this step.
pub(crate) struct Stored<'a, T> {
    entry: &'a mut [T],
    row: &'a [T],
}

impl<'a, T: Float> Stored<'a, T> {
    /// The entry of a checked `sample` in `table`.
    pub(crate) fn new(
        table: &'a mut [T],
        shape: &Shape,
        i: usize,
        sample: &Sample<'a, T>,
    ) -> Option<Self> {
        let entry = table.get_mut(shape.entry(i))?;
        let row = match *sample {
            Sample::Dense(_) => &[],
            Sample::Linear { row, .. } => row,
        };
        Some(Stored { entry, row })
    }

    /// Element `k` of the stored gradient.
    #[inline(always)]
    pub(crate) fn at(&self, k: usize) -> T {
        if self.row.is_empty() {
            self.entry.get(k).copied().unwrap_or(T::ZERO)
        } else {
            let s = self.entry.first().copied().unwrap_or(T::ZERO);
            s * self.row.get(k).copied().unwrap_or(T::ZERO)
        }
    }

    /// Replaces the stored gradient with `sample` (after its elements have
    /// been read).
    pub(crate) fn store(self, sample: &Sample<'_, T>) {
        match *sample {
            Sample::Dense(g) => {
                for (e, &v) in self.entry.iter_mut().zip(g) {
                    *e = v;
                }
            }
            Sample::Linear { scalar, .. } => {
                if let Some(e) = self.entry.first_mut() {
                    *e = scalar;
                }
            }
        }
    }
}

/// The `l2` and `l1` weights of the regulariser `(l2/2)||w||² + l1||w||₁`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Regularizer {
    /// The weight of `(1/2)||w||²`.
    pub l2: f64,
    /// The weight of `||w||₁`.
    pub l1: f64,
}

impl Regularizer {
    /// Refuses negative or non-finite weights.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(Error::InvalidHyperparameter("l2"));
        }
        if !(self.l1.is_finite() && self.l1 >= 0.0) {
            return Err(Error::InvalidHyperparameter("l1"));
        }
        Ok(())
    }
}

/// Refuses a step size that is not positive and finite.
pub(crate) fn check_step_size(step_size: f64) -> Result<(), Error> {
    if step_size.is_finite() && step_size > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidHyperparameter("step_size"))
    }
}

/// Copies `src` into `dst` element by element (no length assertion).
pub(crate) fn copy<T: Copy>(dst: &mut [T], src: &[T]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// Zeroes a state of length `len`: the start of SAGA, SAG and Point-SAGA,
/// whose tables and means may start at zero.
pub(crate) fn clear<T: Float>(state: &mut [T], len: usize) -> Result<(), Error> {
    if state.len() != len {
        return Err(Error::TableLength);
    }
    state.fill(T::ZERO);
    Ok(())
}

/// Splits `state` into a head of `len` values and the rest.
pub(crate) fn split<T>(state: &mut [T], len: usize) -> Option<(&mut [T], &mut [T])> {
    state.split_at_mut_checked(len)
}

/// Checks a table step (`w`, state length, index, sample) and splits the
/// state into the `head` values before the table and sample `i`'s entry.
pub(crate) fn table_parts<'a, T: Float>(
    shape: &Shape,
    w: &[T],
    state: &'a mut [T],
    state_len: usize,
    head: usize,
    i: usize,
    sample: &Sample<'a, T>,
) -> Result<(&'a mut [T], Stored<'a, T>), Error> {
    shape.check_step(w, state, state_len, i)?;
    sample.check(shape.form, shape.d)?;
    let (head, table) = split(state, head).ok_or(Error::TableLength)?;
    let stored = Stored::new(table, shape, i, sample).ok_or(Error::TableLength)?;
    Ok((head, stored))
}

/// Refuses an `l2` weight that is negative or not finite.
pub(crate) fn check_l2(l2: f64) -> Result<(), Error> {
    Regularizer { l2, l1: 0.0 }.check()
}

/// The shared step of the methods that keep a table and its mean (SAGA,
/// SAG): checks everything, then calls `update(w_k, ḡ_k, g'_k - g_k)` for
/// each coordinate and finally stores the new gradient.
#[allow(clippy::too_many_arguments)]
pub(crate) fn mean_table_step<T: Float>(
    shape: &Shape,
    state_len: usize,
    w: &mut [T],
    state: &mut [T],
    i: usize,
    sample: Sample<'_, T>,
    mut update: impl FnMut(&mut T, &mut T, T),
) -> Result<(), Error> {
    let (mean, stored) = table_parts(shape, w, state, state_len, shape.d, i, &sample)?;
    for (k, (wk, gk)) in w.iter_mut().zip(mean.iter_mut()).enumerate() {
        update(wk, gk, sample.at(k) - stored.at(k));
    }
    stored.store(&sample);
    Ok(())
}
