//! Mechanic: a learning-rate tuner that wraps any rule of the library.
//!
//! Reference: `mechanic-pytorch` 0.0.1 (`mechanize(Base)`); Cutkosky,
//! Defazio, Mehta, "Mechanic: A Learning Rate Tuner", arXiv 2306.00144.
//!
//! The base rule steps as usual; Mechanic then rescales how far the
//! parameters have moved from where they started. With `x_ref` the
//! parameters before the first step, `S = Σ_j s_j` the scale (the sum over
//! the `betas`), `u = x_base - x` the base rule's update, `g` the gradient
//! and `λ = s_decay`:
//!
//! ```text
//! Δ  = (x - x_ref) / (S + ε)        (or the stored Δ with store_delta)
//! h  = <Δ, g + λ S (|g| / (|x_base| + ε)) x_base>
//! m_j ← max(β_j m_j, |h|)
//! v_j ← β_j² v_j + h²
//! r_j ← max(β_j r_j - s_j h, 0)
//! s_j ← (m_j s_init / J + r_j) / (sqrt(v_j) + ε)   for each of the J betas
//! x  ← x_ref + (Δ + u) max(S', 0)                  with S' = Σ_j s_j, new
//! ```
//!
//! `|g|` and `|x_base|` are Euclidean norms over all parameters; `m`
//! starts at 1e-6, `v`, `r` and `s` at 0, so the first step moves the
//! parameters by `u · S'` only.
//!
//! State: the base rule's, then the reference point `x_ref` and one
//! working value per parameter (the parameters before the base step); with
//! `store_delta` one more, `Δ`, kept across steps instead of recomputed.
//! The working values hold nothing between steps.
//!
//! In `f32`, prefer `store_delta`: while the scale is small the parameters
//! sit within about `S · |u|` of `x_ref`, so recomputing `Δ` from
//! `x - x_ref` cancels most of an `f32`'s digits (the conformance runner
//! sees the reference itself move by 10% under `f32` storage within a few
//! steps, and skips those `f32` comparisons).
//!
//! A Mechanic step is one call: its sums need the base rule's new
//! parameters, so it cannot be split into the base rule's three phases.
//! Schedule-Free base rules are not supported: their parameters are not the
//! weights that Mechanic would scale.

use crate::error::Error;
use crate::float::Float;
use crate::math::{copy, within};
use crate::optimizer::{Optimizer, UpdateRule};
use crate::reduce::{fold_lanes, Accumulator, Exact, LANES};

/// The most betas a Mechanic tuner takes.
pub const MAX_BETAS: usize = 8;

/// Hyperparameters of Mechanic, with `mechanize`'s names and defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MechanicConfig {
    /// `λ`, the scale's own weight decay, `>= 0` (default 0.01).
    pub s_decay: f64,
    /// The betas of the parallel tuners, each in `[0, 1]`; only the first
    /// `n_betas` are used (default the six values 0.9, 0.99, ..., 0.999999).
    pub betas: [f64; MAX_BETAS],
    /// How many of `betas` are used, `1..=MAX_BETAS` (default 6).
    pub n_betas: usize,
    /// The initial scale, `>= 0` (default 1e-8).
    pub s_init: f64,
    /// Added to divisors, `> 0` (default 1e-8).
    pub eps: f64,
    /// Keep `Δ` in the state instead of recomputing it from the
    /// parameters (default false).
    pub store_delta: bool,
}

impl Default for MechanicConfig {
    fn default() -> Self {
        Self {
            s_decay: 0.01,
            betas: [0.9, 0.99, 0.999, 0.9999, 0.99999, 0.999999, 0.0, 0.0],
            n_betas: 6,
            s_init: 1e-8,
            eps: 1e-8,
            store_delta: false,
        }
    }
}

/// The tuner's scalars, one per beta.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Tuner {
    s: [f64; MAX_BETAS],
    max_product: [f64; MAX_BETAS],
    sum_squared_products: [f64; MAX_BETAS],
    reward: [f64; MAX_BETAS],
    iter_count: u64,
}

impl Tuner {
    const fn new() -> Self {
        Self {
            s: [0.0; MAX_BETAS],
            max_product: [1e-6; MAX_BETAS],
            sum_squared_products: [0.0; MAX_BETAS],
            reward: [0.0; MAX_BETAS],
            iter_count: 0,
        }
    }
}

/// The Mechanic tuner on its own: its configuration and scalars. It steps a
/// base [`Optimizer`] given to each call, so that one tuner type serves
/// every rule; [`Mechanized`] bundles the two.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mechanic {
    /// The hyperparameters; may be changed between steps (but
    /// `store_delta` changes the state length).
    pub config: MechanicConfig,
    tuner: Tuner,
}

/// Exact sums over chunks of [`crate::TILE`] elements, eight lanes inside a
/// chunk: the same bits on every target and for every thread count.
struct Sums<const K: usize> {
    total: [Exact; K],
    lanes: [[f64; LANES]; K],
    filled: usize,
}

impl<const K: usize> Sums<K> {
    fn new() -> Self {
        Self {
            total: [Exact::ZERO; K],
            lanes: [[0.0; LANES]; K],
            filled: 0,
        }
    }

    fn add(&mut self, i: usize, terms: [f64; K]) {
        let lane = i % LANES;
        for (l, t) in self.lanes.iter_mut().zip(terms) {
            if let Some(x) = l.get_mut(lane) {
                *x += t;
            }
        }
        self.filled += 1;
        if self.filled == crate::TILE {
            self.flush();
        }
    }

    fn flush(&mut self) {
        for (acc, l) in self.total.iter_mut().zip(self.lanes.iter_mut()) {
            acc.add(fold_lanes(*l));
            *l = [0.0; LANES];
        }
        self.filled = 0;
    }

    fn values(mut self) -> [f64; K] {
        self.flush();
        core::array::from_fn(|k| self.total.get(k).map_or(0.0, Accumulator::value))
    }
}

impl Mechanic {
    /// A tuner with the given hyperparameters, before its first step.
    pub const fn new(config: MechanicConfig) -> Self {
        Self {
            config,
            tuner: Tuner::new(),
        }
    }

    /// Values per parameter the tuner adds to the base rule's state.
    pub const fn extra_state_per_param(store_delta: bool) -> usize {
        if store_delta {
            3
        } else {
            2
        }
    }

    /// Checks every hyperparameter against its range.
    pub fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        if !within(c.s_decay, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("s_decay"));
        }
        if c.n_betas == 0 || c.n_betas > MAX_BETAS {
            return Err(Error::InvalidHyperparameter("betas"));
        }
        if self.betas().iter().any(|&b| !within(b, 0.0, 1.0)) {
            return Err(Error::InvalidHyperparameter("betas"));
        }
        if !within(c.s_init, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("s_init"));
        }
        if !within(c.eps, f64::MIN_POSITIVE, f64::MAX) {
            return Err(Error::InvalidHyperparameter("eps"));
        }
        Ok(())
    }

    fn betas(&self) -> &[f64] {
        let n = self.config.n_betas.min(MAX_BETAS);
        self.config.betas.get(..n).unwrap_or(&[])
    }

    /// The scale `S = Σ s_j` the last step applied (0 before the first).
    pub fn s_sum(&self) -> f64 {
        self.s().iter().sum()
    }

    /// The per-beta scales `s_j`.
    pub fn s(&self) -> &[f64] {
        let n = self.config.n_betas.min(MAX_BETAS);
        self.tuner.s.get(..n).unwrap_or(&[])
    }

    /// Steps taken.
    pub fn iter_count(&self) -> u64 {
        self.tuner.iter_count
    }

    /// Forgets all progress: the next step takes the parameters as its new
    /// reference point.
    pub fn reset(&mut self) {
        self.tuner = Tuner::new();
    }

    /// The length of the tuner's own state for `n` parameters.
    pub fn state_len(&self, n: usize) -> usize {
        Self::extra_state_per_param(self.config.store_delta).saturating_mul(n)
    }

    /// One step: the base rule's step on `params`, then the tuner's
    /// rescaling. `base_state` is the base optimizer's state, `own` the
    /// tuner's ([`state_len`](Self::state_len) values). `loss` goes to the
    /// base rule (for rules that read it).
    ///
    /// On error nothing has changed, except that a base step whose result
    /// is not finite is applied like any other (as every rule does).
    pub fn step<T: Float, R: UpdateRule>(
        &mut self,
        base: &mut Optimizer<T, R>,
        params: &mut [T],
        grads: &[T],
        loss: Option<f64>,
        (base_state, own): (&mut [T], &mut [T]),
    ) -> Result<(), Error> {
        self.validate()?;
        let n = base.len();
        // What the base step would refuse, checked before anything is
        // written.
        base.check_step((params, grads, loss), base_state)?;
        if own.len() != self.state_len(n) {
            return Err(Error::StateLength);
        }
        let first = self.tuner.iter_count == 0;
        let (reference, rest) = own.split_at_mut_checked(n).ok_or(Error::StateLength)?;
        let (before, delta) = rest.split_at_mut_checked(n).ok_or(Error::StateLength)?;
        copy(before, params);
        match loss {
            Some(l) => base.step_with_loss(params, grads, l, base_state)?,
            None => base.step(params, grads, base_state)?,
        }
        if first {
            copy(reference, before);
            delta.iter_mut().for_each(|d| *d = T::ZERO);
        }

        let c = self.config;
        let s_old = self.s_sum();
        // Δ of element i before this step's update: stored, or recomputed
        // from the parameters before the base step.
        let inv = 1.0 / (s_old + c.eps);
        let delta_at = |stored: Option<&T>, x: T, r: T| match stored {
            Some(d) => d.to_f64(),
            None => (x.to_f64() - r.to_f64()) * inv,
        };
        let mut sums = Sums::<4>::new();
        let items = params
            .iter()
            .zip(grads)
            .zip(before.iter().zip(reference.iter()));
        for (i, ((&p, &g), (&x, &r))) in items.enumerate() {
            let (p, g, d) = (p.to_f64(), g.to_f64(), delta_at(delta.get(i), x, r));
            sums.add(i, [p * p, g * g, d * g, d * p]);
        }
        let [pp, gg, dg, dp] = sums.values();
        let decay = c.s_decay * s_old * libm::sqrt(gg) / (libm::sqrt(pp) + c.eps);
        let h = dg + decay * dp;

        self.tune(h);
        let scale = self.s_sum().max(0.0);
        let items = params.iter_mut().zip(before.iter().zip(reference.iter()));
        for (i, (p, (&x, &r))) in items.enumerate() {
            let u = p.to_f64() - x.to_f64();
            let d_new = delta_at(delta.get(i), x, r) + u;
            if let Some(d) = delta.get_mut(i) {
                *d = T::from_f64(d_new);
            }
            *p = T::from_f64(r.to_f64() + d_new * scale);
        }
        Ok(())
    }

    /// The tuner step of every beta, given the step's `h`.
    fn tune(&mut self, h: f64) {
        let c = self.config;
        let n = c.n_betas.min(MAX_BETAS);
        let t = &mut self.tuner;
        t.iter_count += 1;
        let slots =
            t.s.iter_mut()
                .zip(t.max_product.iter_mut())
                .zip(t.sum_squared_products.iter_mut().zip(t.reward.iter_mut()))
                .zip(c.betas.iter())
                .take(n);
        for (((s, m), (v, r)), &beta) in slots {
            *m = (beta * *m).max(h.abs());
            *v = beta * beta * *v + h * h;
            *r = (beta * *r - *s * h).max(0.0);
            let wealth = *m * c.s_init / n as f64 + *r;
            *s = wealth / (libm::sqrt(*v) + c.eps);
        }
    }
}

/// A base optimizer with a Mechanic tuner: one state buffer, one call.
///
/// # Examples
///
/// ```
/// use freestep::mechanic::{Mechanized, MechanicConfig};
/// use freestep::{Sgd, SgdConfig};
///
/// let base = Sgd::new(SgdConfig { lr: 0.01, ..Default::default() });
/// let mut opt = Mechanized::<f64, _>::new(base, 2, &[], MechanicConfig::default()).unwrap();
/// let mut params = [3.0, -1.0];
/// let mut state = vec![0.0; opt.state_len()];
/// for _ in 0..500 {
///     let grads = params; // gradient of ||p||^2 / 2
///     opt.step(&mut params, &grads, &mut state).unwrap();
/// }
/// // The tuner has grown the scale far beyond its start of 1e-8.
/// assert!(opt.tuner().s_sum() > 1.0);
/// assert!(params.iter().all(|p| p.abs() < 0.1));
/// ```
#[derive(Clone, Debug)]
pub struct Mechanized<T: Float, R: UpdateRule> {
    base: Optimizer<T, R>,
    tuner: Mechanic,
}

impl<T: Float, R: UpdateRule> Mechanized<T, R> {
    /// The base rule over `n` parameters in `groups`, tuned by Mechanic.
    pub fn new(
        rule: R,
        n: usize,
        groups: &[crate::Group],
        config: MechanicConfig,
    ) -> Result<Self, Error> {
        let tuner = Mechanic::new(config);
        tuner.validate()?;
        Ok(Self {
            base: Optimizer::with_groups(rule, n, groups)?,
            tuner,
        })
    }

    /// The state length: the base rule's, then the tuner's.
    pub fn state_len(&self) -> usize {
        let n = self.base.len();
        self.base
            .state_len()
            .saturating_add(self.tuner.state_len(n))
    }

    /// The base optimizer.
    pub fn base(&self) -> &Optimizer<T, R> {
        &self.base
    }

    /// The base optimizer, for example to change its learning rate.
    pub fn base_mut(&mut self) -> &mut Optimizer<T, R> {
        &mut self.base
    }

    /// The tuner, with its scale.
    pub fn tuner(&self) -> &Mechanic {
        &self.tuner
    }

    /// Forgets all progress of both the base rule and the tuner.
    pub fn reset(&mut self) {
        self.base.reset();
        self.tuner.reset();
    }

    /// One step; see [`Mechanic::step`]. On error nothing has changed.
    pub fn step(&mut self, params: &mut [T], grads: &[T], state: &mut [T]) -> Result<(), Error> {
        self.step_inner(params, grads, None, state)
    }

    /// One step of a base rule that reads the loss.
    pub fn step_with_loss(
        &mut self,
        params: &mut [T],
        grads: &[T],
        loss: f64,
        state: &mut [T],
    ) -> Result<(), Error> {
        self.step_inner(params, grads, Some(loss), state)
    }

    fn step_inner(
        &mut self,
        params: &mut [T],
        grads: &[T],
        loss: Option<f64>,
        state: &mut [T],
    ) -> Result<(), Error> {
        if state.len() != self.state_len() {
            return Err(Error::StateLength);
        }
        let (base_state, own) = state
            .split_at_mut_checked(self.base.state_len())
            .ok_or(Error::StateLength)?;
        self.tuner
            .step(&mut self.base, params, grads, loss, (base_state, own))
    }
}
