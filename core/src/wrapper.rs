//! The Schedule-Free wrapper: makes any rule of the library Schedule-Free.
//!
//! Reference: `schedulefree.ScheduleFreeWrapper` 1.4.1; Defazio et al.,
//! "The Road Less Scheduled", arXiv 2405.15682.
//!
//! The base rule steps the sequence `z`; the wrapper keeps the average `x`
//! and hands out `y`, the point where gradients are taken, which is what
//! the parameters hold in train mode. With `β` the momentum, `λ` the weight
//! decay at `y` and `lr` the base rule's learning rate (times its `d` for
//! the rules that adapt one), each step is:
//!
//! ```text
//! z ← z - lr λ y,   y ← y - lr λ (1 - β) y      only when λ > 0
//! x = lerp(y, z, 1 - 1/β)                        the average, from y and z
//! z ← base step from z with the gradient at y
//! lr_max ← max(lr_max, lr · d),   w = (k + 1)^r · lr_max^weight_lr_power
//! W ← W + w,   c = w / W
//! x ← lerp(x, z, c),   y ← lerp(x, z, 1 - β)
//! ```
//!
//! `lr` and `d` are read after the base step, as the reference reads
//! `group["lr"] * group["d"]`. The switches are those of the Schedule-Free
//! rules: `x = lerp(y, z, 1 - 1/β)` and back `y = lerp(x, z, 1 - β)`.
//!
//! State: the base rule's, then `z`, one value per parameter.
//!
//! Where the reference is special:
//! - It starts in eval mode and refuses to step until `train()`; here the
//!   wrapper starts in train mode (before the first step `x = y = z`).
//! - While every `lr · d` so far is 0, `W = 0` and the reference raises a
//!   division by zero; here `c = 0`.
//! - It reads each group's own lr; here the base lr, times `d`, serves every
//!   group (the same when the group multipliers are 1).
//! - `β = 0` is refused: `x` cannot be recovered from `y` and `z` then.
//! - Over a base that keeps its own step count in `group["k"]` (Prodigy,
//!   D-Adaptation) the reference's wrapper shares that counter, so both
//!   add one per step; here each keeps its own. The trajectories differ
//!   only where the count enters the math: `r != 0`, or the base's bias
//!   correction.
//! - A wrapped step is one call. Wrapping a Schedule-Free rule is allowed
//!   here but pointless (its parameters are already an interpolation); the
//!   C ABI refuses it.

use crate::error::Error;
use crate::float::Float;
use crate::math::{copy, lerp, lerp_from_end, powf, within};
use crate::optimizer::{Optimizer, UpdateRule};

/// Hyperparameters of the wrapper, with `ScheduleFreeWrapper`'s names and
/// defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleFreeWrapperConfig {
    /// Interpolation `β` between `z` and `x`, in `(0, 1)` (default 0.9).
    pub momentum: f64,
    /// Weight decay at `y`, `>= 0` (default 0).
    pub weight_decay_at_y: f64,
    /// Polynomial weighting of the average, `(k+1)^r` (default 0).
    pub r: f64,
    /// Exponent of `lr_max` in the averaging weight, `>= 0` (default 2).
    pub weight_lr_power: f64,
}

impl Default for ScheduleFreeWrapperConfig {
    fn default() -> Self {
        Self {
            momentum: 0.9,
            weight_decay_at_y: 0.0,
            r: 0.0,
            weight_lr_power: 2.0,
        }
    }
}

/// The wrapper on its own: configuration, averaging scalars and mode. It
/// steps a base [`Optimizer`] given to each call; [`Wrapped`] bundles the
/// two.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleFreeWrapper {
    /// The hyperparameters; may be changed between steps.
    pub config: ScheduleFreeWrapperConfig,
    k: u64,
    lr_max: f64,
    weight_sum: f64,
    train_mode: bool,
}

impl ScheduleFreeWrapper {
    /// A wrapper before its first step, in train mode.
    pub const fn new(config: ScheduleFreeWrapperConfig) -> Self {
        Self {
            config,
            k: 0,
            lr_max: 0.0,
            weight_sum: 0.0,
            train_mode: true,
        }
    }

    /// Checks every hyperparameter against its range.
    pub fn validate(&self) -> Result<(), Error> {
        let c = &self.config;
        if !within(c.momentum, 0.0, 1.0) || c.momentum == 0.0 || c.momentum == 1.0 {
            return Err(Error::InvalidHyperparameter("momentum"));
        }
        if !within(c.weight_decay_at_y, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("weight_decay_at_y"));
        }
        if !within(c.r, -f64::MAX, f64::MAX) {
            return Err(Error::InvalidHyperparameter("r"));
        }
        if !within(c.weight_lr_power, 0.0, f64::MAX) {
            return Err(Error::InvalidHyperparameter("weight_lr_power"));
        }
        Ok(())
    }

    /// Steps taken.
    pub fn k(&self) -> u64 {
        self.k
    }
    /// The largest `lr · d` so far (0 before the first step).
    pub fn lr_max(&self) -> f64 {
        self.lr_max
    }
    /// The sum of the averaging weights.
    pub fn weight_sum(&self) -> f64 {
        self.weight_sum
    }
    /// True when the parameters hold the train weights `y`.
    pub fn is_train_mode(&self) -> bool {
        self.train_mode
    }

    /// Forgets all progress: the next step starts `z` at the parameters.
    pub fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    /// One step: `params` hold `y`, `z` is the wrapper's state (one value
    /// per parameter), `base_state` the base rule's. `loss` goes to the
    /// base rule.
    ///
    /// On error nothing has changed; the checks the base step would make
    /// run first. (A base rule with global sums still refuses a step whose
    /// sums overflow; then the parameters are put back from `x` and `z` as
    /// [`train`](Self::train) does, exact only to rounding.)
    pub fn step<T: Float, R: UpdateRule>(
        &mut self,
        base: &mut Optimizer<T, R>,
        params: &mut [T],
        grads: &[T],
        loss: Option<f64>,
        (base_state, z): (&mut [T], &mut [T]),
    ) -> Result<(), Error> {
        self.validate()?;
        if !self.train_mode {
            return Err(Error::EvalMode);
        }
        let n = base.len();
        // What the base step would refuse, checked before anything is
        // written.
        base.check_step((params, grads, loss), base_state)?;
        if z.len() != n {
            return Err(Error::StateLength);
        }
        let c = self.config;
        let beta = c.momentum;
        if self.k == 0 {
            copy(z, params);
        }
        // y → x, and swap: the parameters hold z for the base step, the
        // state holds x.
        let lr = base.rule().lr();
        let decay = lr * c.weight_decay_at_y;
        let (to_x, to_x_end) = (
            T::from_f64(1.0 - 1.0 / beta),
            lerp_from_end(1.0 - 1.0 / beta),
        );
        let (z_decay, y_decay) = (T::from_f64(decay), T::from_f64(decay * (1.0 - beta)));
        for (y, z) in params.iter_mut().zip(z.iter_mut()) {
            if decay != 0.0 {
                *z -= z_decay * *y;
                *y -= y_decay * *y;
            }
            let x = lerp(*y, *z, to_x, to_x_end);
            *y = *z;
            *z = x;
        }
        let stepped = match loss {
            Some(l) => base.step_with_loss(params, grads, l, base_state),
            None => base.step(params, grads, base_state),
        };
        let to_y = (T::from_f64(1.0 - beta), lerp_from_end(1.0 - beta));
        if let Err(e) = stepped {
            for (p, x) in params.iter_mut().zip(z.iter_mut()) {
                let z_old = *p;
                *p = lerp(*x, z_old, to_y.0, to_y.1);
                *x = z_old;
            }
            return Err(e);
        }

        let lr = base.rule().lr() * base.progress().d.unwrap_or(1.0);
        self.lr_max = self.lr_max.max(lr);
        let weight = powf(self.k as f64 + 1.0, c.r) * powf(self.lr_max, c.weight_lr_power);
        self.weight_sum += weight;
        let ckp1 = if self.weight_sum == 0.0 {
            0.0
        } else {
            weight / self.weight_sum
        };
        self.k += 1;
        let (c_t, c_end) = (T::from_f64(ckp1), lerp_from_end(ckp1));
        for (p, x) in params.iter_mut().zip(z.iter_mut()) {
            let z_new = *p;
            let x_new = lerp(*x, z_new, c_t, c_end);
            *p = lerp(x_new, z_new, to_y.0, to_y.1);
            *x = z_new;
        }
        Ok(())
    }

    /// Switches the parameters to the eval weights `x` (nothing to do in
    /// eval mode or before the first step).
    pub fn eval<T: Float>(&mut self, params: &mut [T], z: &[T]) -> Result<(), Error> {
        if params.len() != z.len() {
            return Err(Error::Length);
        }
        if self.train_mode && self.k > 0 {
            self.move_towards(params, z, 1.0 - 1.0 / self.config.momentum);
        }
        self.train_mode = false;
        Ok(())
    }

    /// Switches the parameters back to the train weights `y`.
    pub fn train<T: Float>(&mut self, params: &mut [T], z: &[T]) -> Result<(), Error> {
        if params.len() != z.len() {
            return Err(Error::Length);
        }
        if !self.train_mode && self.k > 0 {
            self.move_towards(params, z, 1.0 - self.config.momentum);
        }
        self.train_mode = true;
        Ok(())
    }

    /// Writes the eval weights `x` into `out` without switching.
    pub fn eval_params<T: Float>(&self, params: &[T], z: &[T], out: &mut [T]) -> Result<(), Error> {
        if params.len() != z.len() || out.len() != z.len() {
            return Err(Error::Length);
        }
        copy(out, params);
        if self.train_mode && self.k > 0 {
            self.move_towards(out, z, 1.0 - 1.0 / self.config.momentum);
        }
        Ok(())
    }

    fn move_towards<T: Float>(&self, params: &mut [T], z: &[T], w: f64) {
        let (w, end) = (T::from_f64(w), lerp_from_end(w));
        for (p, &z) in params.iter_mut().zip(z) {
            *p = lerp(*p, z, w, end);
        }
    }
}

/// A base optimizer made Schedule-Free: one state buffer (the base rule's,
/// then `z`), one call per step.
///
/// # Examples
///
/// ```
/// use freestep::wrapper::{ScheduleFreeWrapperConfig, Wrapped};
/// use freestep::{Rmsprop, RmspropConfig};
///
/// let base = Rmsprop::new(RmspropConfig { lr: 0.01, ..Default::default() });
/// let config = ScheduleFreeWrapperConfig::default();
/// let mut opt = Wrapped::<f64, _>::new(base, 2, &[], config).unwrap();
/// let mut y = [3.0, -1.0];
/// let mut state = vec![0.0; opt.state_len()];
/// for _ in 0..1000 {
///     let grads = y; // gradient of ||p||^2 / 2 at y
///     opt.step(&mut y, &grads, &mut state).unwrap();
/// }
/// let mut x = [0.0; 2];
/// opt.eval_params(&y, &state, &mut x).unwrap();
/// assert!(x.iter().all(|p| p.abs() < 0.05));
/// ```
#[derive(Clone, Debug)]
pub struct Wrapped<T: Float, R: UpdateRule> {
    base: Optimizer<T, R>,
    wrapper: ScheduleFreeWrapper,
}

impl<T: Float, R: UpdateRule> Wrapped<T, R> {
    /// The base rule over `n` parameters in `groups`, made Schedule-Free.
    pub fn new(
        rule: R,
        n: usize,
        groups: &[crate::Group],
        config: ScheduleFreeWrapperConfig,
    ) -> Result<Self, Error> {
        let wrapper = ScheduleFreeWrapper::new(config);
        wrapper.validate()?;
        Ok(Self {
            base: Optimizer::with_groups(rule, n, groups)?,
            wrapper,
        })
    }

    /// The state length: the base rule's, then `n` for `z`.
    pub fn state_len(&self) -> usize {
        self.base.state_len().saturating_add(self.base.len())
    }

    /// The base optimizer.
    pub fn base(&self) -> &Optimizer<T, R> {
        &self.base
    }

    /// The base optimizer, for example to change its learning rate.
    pub fn base_mut(&mut self) -> &mut Optimizer<T, R> {
        &mut self.base
    }

    /// The wrapper, with its averaging scalars.
    pub fn wrapper(&self) -> &ScheduleFreeWrapper {
        &self.wrapper
    }

    /// Forgets all progress of both.
    pub fn reset(&mut self) {
        self.base.reset();
        self.wrapper.reset();
    }

    /// Splits the state buffer into the base rule's part and `z`.
    fn split<'a>(&self, state: &'a mut [T]) -> Result<(&'a mut [T], &'a mut [T]), Error> {
        if state.len() != self.state_len() {
            return Err(Error::StateLength);
        }
        state
            .split_at_mut_checked(self.base.state_len())
            .ok_or(Error::StateLength)
    }

    /// One step; see [`ScheduleFreeWrapper::step`].
    pub fn step(&mut self, params: &mut [T], grads: &[T], state: &mut [T]) -> Result<(), Error> {
        let parts = self.split(state)?;
        self.wrapper
            .step(&mut self.base, params, grads, None, parts)
    }

    /// One step of a base rule that reads the loss.
    pub fn step_with_loss(
        &mut self,
        params: &mut [T],
        grads: &[T],
        loss: f64,
        state: &mut [T],
    ) -> Result<(), Error> {
        let parts = self.split(state)?;
        self.wrapper
            .step(&mut self.base, params, grads, Some(loss), parts)
    }

    /// Switches the parameters to the eval weights `x`.
    pub fn eval(&mut self, params: &mut [T], state: &mut [T]) -> Result<(), Error> {
        let (_, z) = self.split(state)?;
        self.wrapper.eval(params, z)
    }

    /// Switches the parameters back to the train weights `y`.
    pub fn train(&mut self, params: &mut [T], state: &mut [T]) -> Result<(), Error> {
        let (_, z) = self.split(state)?;
        self.wrapper.train(params, z)
    }

    /// Writes the eval weights `x` into `out` without switching.
    pub fn eval_params(&self, params: &[T], state: &[T], out: &mut [T]) -> Result<(), Error> {
        if state.len() != self.state_len() {
            return Err(Error::StateLength);
        }
        let z = state.get(self.base.state_len()..).unwrap_or(&[]);
        self.wrapper.eval_params(params, z, out)
    }
}
