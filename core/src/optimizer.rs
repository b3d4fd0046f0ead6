//! The optimizer: an update rule, the shape of its state, and the three
//! phases of a step.
//!
//! Every step runs the same three phases, whether the caller uses
//! [`Optimizer::step`] or drives them itself:
//!
//! 1. [`partial`](Optimizer::partial) reads a tile-aligned range of
//!    parameters, gradients and state and returns a [`Partial`]: the rule's
//!    global sums over that range, and whether any gradient was not finite.
//!    It changes nothing, so ranges can be processed by different threads.
//! 2. [`Partial::combine`] merges partials exactly, in any order;
//!    [`finish`](Optimizer::finish) checks the total and advances the rule's
//!    scalar state (step count, `d`, averaging weight). This is the only
//!    phase that can refuse a step for the gradients' sake, and it refuses it
//!    before anything has changed.
//! 3. [`update`](Optimizer::update) applies the per-element pass to a range.
//!    It only fails when the range itself is malformed.
//!
//! The one-call step is exactly `partial` over everything, `finish`, then
//! `update` over everything, so a phased step over any tile-aligned split
//! gives the same bits.

use core::marker::PhantomData;
use core::ops::Range;

use crate::error::Error;
use crate::float::Float;
use crate::layout::{Group, Layout, PieceSpec, MAX_DENSE, MAX_SAMPLED};
use crate::reduce::{all_finite, Accumulator, Partial, MAX_SUMS};

/// Read-only view of one piece: the part of one tile in one group.
#[derive(Debug)]
pub struct Piece<'a, T> {
    /// The piece's parameters.
    pub params: &'a [T],
    /// The piece's gradients.
    pub grads: &'a [T],
    /// The rule's dense state sections, each as long as `params`; unused
    /// sections are empty.
    pub dense: [&'a [T]; MAX_DENSE],
    /// The sampled state sections, one value per sampled parameter.
    pub sampled: [&'a [T]; MAX_SAMPLED],
    /// Index in `params` of the first sampled parameter.
    pub first_sample: usize,
    /// Distance between sampled parameters.
    pub stride: usize,
    /// The group's learning-rate multiplier.
    pub lr_scale: f64,
    /// The group's weight-decay multiplier.
    pub weight_decay_scale: f64,
}

/// Mutable view of one piece, handed to a rule's per-element pass.
#[derive(Debug)]
pub struct PieceMut<'a, T> {
    /// The piece's parameters.
    pub params: &'a mut [T],
    /// The piece's gradients.
    pub grads: &'a [T],
    /// The rule's dense state sections, each as long as `params`; unused
    /// sections are empty.
    pub dense: [&'a mut [T]; MAX_DENSE],
    /// The sampled state sections, one value per sampled parameter.
    pub sampled: [&'a mut [T]; MAX_SAMPLED],
    /// Index in `params` of the first sampled parameter.
    pub first_sample: usize,
    /// Distance between sampled parameters.
    pub stride: usize,
    /// The group's learning-rate multiplier.
    pub lr_scale: f64,
    /// The group's weight-decay multiplier.
    pub weight_decay_scale: f64,
}

/// Splits `buf` into the given increasing, disjoint ranges. Empty ranges give
/// empty slices wherever they point.
fn split_ranges<'a, T, const K: usize>(
    ranges: &[Range<usize>; K],
    consumed: &mut usize,
    rest: &mut &'a mut [T],
) -> Option<[&'a mut [T]; K]> {
    let mut out: [&'a mut [T]; K] = core::array::from_fn(|_| Default::default());
    for (slot, range) in out.iter_mut().zip(ranges.iter()) {
        if range.is_empty() {
            continue;
        }
        let skip = range.start.checked_sub(*consumed)?;
        let (_, tail) = core::mem::take(rest).split_at_mut_checked(skip)?;
        let (head, tail) = tail.split_at_mut_checked(range.len())?;
        *slot = head;
        *rest = tail;
        *consumed = range.end;
    }
    Some(out)
}

fn view<'a, T: Float>(
    params: &'a [T],
    grads: &'a [T],
    state: &'a [T],
    spec: &PieceSpec,
    stride: usize,
) -> Option<Piece<'a, T>> {
    let section = |r: &Range<usize>| state.get(r.clone());
    let mut dense: [&'a [T]; MAX_DENSE] = [&[]; MAX_DENSE];
    for (d, r) in dense.iter_mut().zip(spec.dense.iter()) {
        *d = section(r)?;
    }
    let mut sampled: [&'a [T]; MAX_SAMPLED] = [&[]; MAX_SAMPLED];
    for (s, r) in sampled.iter_mut().zip(spec.sampled.iter()) {
        *s = section(r)?;
    }
    Some(Piece {
        params: params.get(spec.params.clone())?,
        grads: grads.get(spec.params.clone())?,
        dense,
        sampled,
        first_sample: spec.first_sample,
        stride,
        lr_scale: spec.lr_scale,
        weight_decay_scale: spec.weight_decay_scale,
    })
}

fn view_mut<'a, T: Float>(
    params: &'a mut [T],
    grads: Option<&'a [T]>,
    state: &'a mut [T],
    spec: &PieceSpec,
    stride: usize,
) -> Option<PieceMut<'a, T>> {
    let mut consumed = 0;
    let mut rest: &'a mut [T] = state;
    let dense = split_ranges(&spec.dense, &mut consumed, &mut rest)?;
    let sampled = split_ranges(&spec.sampled, &mut consumed, &mut rest)?;
    // Passes without gradients (the Schedule-Free switches) get none.
    let grads = match grads {
        Some(g) => g.get(spec.params.clone())?,
        None => &[],
    };
    Some(PieceMut {
        params: params.get_mut(spec.params.clone())?,
        grads,
        dense,
        sampled,
        first_sample: spec.first_sample,
        stride,
        lr_scale: spec.lr_scale,
        weight_decay_scale: spec.weight_decay_scale,
    })
}

/// An update rule: its hyperparameters, its scalar state, and its math.
///
/// Implementors hold the configuration and the scalar state; the
/// [`Optimizer`] around them owns the layout and runs the phases. The two
/// per-piece methods are the rule's reference scalar pass: faster versions
/// must give the same bits.
pub trait UpdateRule: Clone + core::fmt::Debug {
    /// The per-step scalars that `finish` computes and every `update` reads.
    type Plan: Copy + core::fmt::Debug;

    /// How many global sums the rule's step needs (0 for most rules).
    const SUMS: usize = 0;

    /// True when every step needs the loss at the current parameters
    /// (MoMo, the Polyak step). The optimizer then refuses a step without
    /// one ([`Error::MissingLoss`]); other rules ignore a loss they are given.
    const NEEDS_LOSS: bool = false;

    /// Checks every hyperparameter against its range.
    fn validate(&self) -> Result<(), Error>;

    /// Dense state sections: values of state per parameter.
    fn dense(&self) -> usize;

    /// Sampled state sections and the sampling stride (`(0, 1)` for none).
    fn sampled(&self) -> (usize, usize) {
        (0, 1)
    }

    /// Refuses a step the rule cannot take now (Schedule-Free in eval mode).
    fn ready(&self) -> Result<(), Error> {
        Ok(())
    }

    /// The rule's global sums over one piece. `fresh` means the state buffer
    /// has not been written yet and must not be read.
    fn partial_piece<T: Float>(&self, fresh: bool, piece: &Piece<'_, T>) -> [f64; MAX_SUMS] {
        let _ = (fresh, piece);
        [0.0; MAX_SUMS]
    }

    /// Advances the scalar state given the global sums and the step's loss,
    /// and returns the step's plan. The loss is finite, and present whenever
    /// [`NEEDS_LOSS`](Self::NEEDS_LOSS) is true.
    fn finish(&mut self, sums: &[f64; MAX_SUMS], loss: Option<f64>) -> Self::Plan;

    /// The per-element pass over one piece.
    fn update_piece<T: Float>(&self, plan: &Self::Plan, fresh: bool, piece: PieceMut<'_, T>);

    /// Returns the scalar state to its value before the first step.
    fn reset(&mut self);

    /// The configured learning rate (`lr` of the configuration; for the
    /// rules that adapt a step size, the multiplier of `d`). Wrappers such
    /// as the Schedule-Free wrapper read it, with `progress().d`.
    fn lr(&self) -> f64;

    /// Step count, last learning rate and `d`, for logging.
    fn progress(&self) -> crate::rules::Progress;
}

/// Refuses a missing loss for a rule that needs one, and any non-finite loss.
fn check_loss<R: UpdateRule>(loss: Option<f64>) -> Result<(), Error> {
    match loss {
        None if R::NEEDS_LOSS => Err(Error::MissingLoss),
        Some(l) if !l.is_finite() => Err(Error::NonFiniteLoss),
        _ => Ok(()),
    }
}

/// A plan waiting to be applied by `update`.
#[derive(Clone, Copy, Debug)]
struct Pending<P> {
    plan: P,
    fresh: bool,
}

/// An update rule bound to a parameter count, its groups and its state
/// layout. Parameters, gradients and state stay in the caller's memory.
///
/// # Examples
///
/// ```
/// use freestep::{Adam, AdamConfig, Optimizer};
///
/// let mut params = [1.0f32, -2.0, 0.5];
/// let mut state = [0.0f32; Adam::state_len(3, false)];
/// let config = AdamConfig { lr: 0.05, ..AdamConfig::adamw() };
/// let mut opt = Optimizer::<f32, _>::new(Adam::new(config), 3).unwrap();
/// for _ in 0..300 {
///     // The gradient of ||p||^2 / 2.
///     let grads = params;
///     opt.step(&mut params, &grads, &mut state).unwrap();
/// }
/// assert!(params.iter().all(|p| p.abs() < 0.2));
/// ```
#[derive(Clone, Debug)]
pub struct Optimizer<T: Float, R: UpdateRule> {
    rule: R,
    layout: Layout,
    initialized: bool,
    pending: Option<Pending<R::Plan>>,
    _element: PhantomData<fn() -> T>,
}

impl<T: Float, R: UpdateRule> Optimizer<T, R> {
    /// An optimizer for `n` parameters in one group.
    pub fn new(rule: R, n: usize) -> Result<Self, Error> {
        Self::with_groups(rule, n, &[])
    }

    /// An optimizer for `n` parameters split into `groups`, which must cover
    /// `0..n` in order (an empty slice means one group).
    pub fn with_groups(rule: R, n: usize, groups: &[Group]) -> Result<Self, Error> {
        rule.validate()?;
        let (sampled, stride) = rule.sampled();
        let layout = Layout::new(n, groups, rule.dense(), sampled, stride)?;
        Ok(Self {
            rule,
            layout,
            initialized: false,
            pending: None,
            _element: PhantomData,
        })
    }

    /// The rule, with its configuration and scalar state.
    pub fn rule(&self) -> &R {
        &self.rule
    }

    /// Mutable access to the rule, for example to change the learning rate
    /// between steps. Hyperparameters are checked again at the next step;
    /// a change that alters the state layout (such as turning `amsgrad` on)
    /// makes the next step fail with [`Error::StateLength`].
    pub fn rule_mut(&mut self) -> &mut R {
        &mut self.rule
    }

    /// The number of parameters.
    pub fn len(&self) -> usize {
        self.layout.n
    }

    /// True when the optimizer has no parameters.
    pub fn is_empty(&self) -> bool {
        self.layout.n == 0
    }

    /// The number of groups.
    pub fn group_count(&self) -> usize {
        self.layout.spans.len()
    }

    /// The length of the state buffer, in elements.
    pub fn state_len(&self) -> usize {
        self.layout.state_len()
    }

    /// The part of the state buffer that belongs to parameters `start..end`,
    /// where `start` is a multiple of [`TILE`](crate::TILE).
    pub fn state_range(&self, start: usize, end: usize) -> Result<Range<usize>, Error> {
        self.layout.state_range(start, end)
    }

    /// Step count, last learning rate and `d` of the rule, for logging.
    pub fn progress(&self) -> crate::rules::Progress {
        self.rule.progress()
    }

    /// True once a step has written the state buffer.
    pub fn has_stepped(&self) -> bool {
        self.initialized
    }

    /// Forgets all progress: the next step starts from the current parameters
    /// as the first step did, and overwrites the whole state buffer.
    pub fn reset(&mut self) {
        self.rule.reset();
        self.initialized = false;
        self.pending = None;
    }

    /// Takes one step: `partial` over everything, `finish`, `update`.
    ///
    /// On error nothing has changed. A rule that needs the loss
    /// ([`UpdateRule::NEEDS_LOSS`]) refuses with [`Error::MissingLoss`]; use
    /// [`step_with_loss`](Self::step_with_loss).
    pub fn step(&mut self, params: &mut [T], grads: &[T], state: &mut [T]) -> Result<(), Error> {
        self.step_inner(params, grads, None, state)
    }

    /// Takes one step of a rule that reads the loss (MoMo, the Polyak step):
    /// `loss` is the (mini-batch) loss at `params`, where `grads` was taken.
    /// Rules that do not read it ignore it.
    ///
    /// On error (including [`Error::NonFiniteLoss`]) nothing has changed.
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
        if R::SUMS == 0 {
            // The phases without their partial sums, which such a rule does
            // not read: the same checks in the same order, the same plan,
            // and a kilobyte less stack on a microcontroller.
            self.check_step((params, grads, loss), state)?;
            self.commit_plan(&[0.0; MAX_SUMS], loss);
        } else {
            if params.len() != self.layout.n {
                return Err(Error::Length);
            }
            let partial = self.partial(0, params, grads, state)?;
            self.finish_inner(&partial, loss)?;
        }
        self.update(0, params, grads, state)?;
        // The step is applied whole: leave no plan for a stray `update`.
        self.pending = None;
        Ok(())
    }

    /// Everything a one-call step refuses before it changes anything, in
    /// the order the step checks it. The wrappers (Mechanic, the
    /// Schedule-Free wrapper) call it too, since they write their own state
    /// before the base rule steps.
    pub(crate) fn check_step(
        &self,
        (params, grads, loss): (&[T], &[T], Option<f64>),
        state: &[T],
    ) -> Result<(), Error> {
        if params.len() != self.layout.n {
            return Err(Error::Length);
        }
        self.check_rule()?;
        self.check_range(0, params.len(), grads.len(), state.len())?;
        if !all_finite(grads) {
            return Err(Error::NonFiniteGradient);
        }
        check_loss::<R>(loss)
    }

    /// Checks a range of the phased step and returns its end.
    fn check_range(
        &self,
        start: usize,
        params: usize,
        grads: usize,
        state: usize,
    ) -> Result<usize, Error> {
        if params != grads {
            return Err(Error::Length);
        }
        let end = start.checked_add(params).ok_or(Error::BadRange)?;
        let range = self.layout.state_range(start, end)?;
        if range.len() != state {
            return Err(Error::StateLength);
        }
        Ok(end)
    }

    /// Checks that the rule can step now and still fits the layout.
    fn check_rule(&self) -> Result<(), Error> {
        self.rule.validate()?;
        self.rule.ready()?;
        let (sampled, stride) = self.rule.sampled();
        let l = &self.layout;
        if self.rule.dense() != l.dense || sampled != l.sampled || stride != l.stride.get() {
            return Err(Error::StateLength);
        }
        Ok(())
    }

    /// Phase 1: the partial sums of parameters `start..start + params.len()`.
    ///
    /// `start` must be a multiple of [`TILE`](crate::TILE); `state` is
    /// `state_buffer[self.state_range(start, end)]`. Changes nothing.
    pub fn partial(
        &self,
        start: usize,
        params: &[T],
        grads: &[T],
        state: &[T],
    ) -> Result<Partial<T>, Error> {
        self.check_rule()?;
        let end = self.check_range(start, params.len(), grads.len(), state.len())?;
        let mut out = Partial::EMPTY;
        out.covered = end - start;
        if !all_finite(grads) {
            out.non_finite = true;
            return Ok(out);
        }
        if R::SUMS == 0 {
            return Ok(out);
        }
        let fresh = !self.initialized;
        let stride = self.layout.stride.get();
        self.layout.for_each_piece(start, end, |spec| {
            if let Some(piece) = view(params, grads, state, spec, stride) {
                let sums = self.rule.partial_piece(fresh, &piece);
                for (acc, s) in out.sums.iter_mut().zip(sums) {
                    acc.add(s);
                }
            }
        });
        Ok(out)
    }

    /// Phase 2: checks the combined partial of all parameters and advances the
    /// scalar state.
    ///
    /// Refuses with [`Error::NonFiniteGradient`] if any gradient (or global
    /// sum) was not finite and with [`Error::IncompletePartial`] if the
    /// partial does not cover every parameter; then nothing changes.
    pub fn finish(&mut self, total: &Partial<T>) -> Result<(), Error> {
        self.finish_inner(total, None)
    }

    /// Phase 2 for a rule that reads the loss: [`finish`](Self::finish) with
    /// the loss at the parameters where the gradients were taken.
    pub fn finish_with_loss(&mut self, total: &Partial<T>, loss: f64) -> Result<(), Error> {
        self.finish_inner(total, Some(loss))
    }

    fn finish_inner(&mut self, total: &Partial<T>, loss: Option<f64>) -> Result<(), Error> {
        self.check_rule()?;
        if total.non_finite {
            return Err(Error::NonFiniteGradient);
        }
        if total.covered != self.layout.n {
            return Err(Error::IncompletePartial);
        }
        let sums: [f64; MAX_SUMS] = core::array::from_fn(|i| total.sum(i));
        if sums.iter().take(R::SUMS).any(|s| !s.is_finite()) {
            return Err(Error::NonFiniteGradient);
        }
        check_loss::<R>(loss)?;
        self.commit_plan(&sums, loss);
        Ok(())
    }

    /// Advances the rule with the step's global sums and keeps its plan for
    /// `update`.
    fn commit_plan(&mut self, sums: &[f64; MAX_SUMS], loss: Option<f64>) {
        let plan = self.rule.finish(sums, loss);
        self.pending = Some(Pending {
            plan,
            fresh: !self.initialized,
        });
        self.initialized = true;
    }

    /// Phase 3: applies the step planned by the last `finish` to parameters
    /// `start..start + params.len()`. Call it once for each range, for every
    /// range, before anything else touches the optimizer. A refused `finish`
    /// changes nothing, so the previous phased plan stays pending; nothing records
    /// which ranges were updated, so a range updated twice takes the step
    /// twice, and a second `finish` (or a Schedule-Free switch) before every
    /// range was updated reads state that was never written.
    pub fn update(
        &self,
        start: usize,
        params: &mut [T],
        grads: &[T],
        state: &mut [T],
    ) -> Result<(), Error> {
        let pending = self.pending.ok_or(Error::NoPendingStep)?;
        self.rule.ready()?;
        let end = self.check_range(start, params.len(), grads.len(), state.len())?;
        let stride = self.layout.stride.get();
        self.layout.for_each_piece(start, end, |spec| {
            if let Some(piece) = view_mut(&mut *params, Some(grads), &mut *state, spec, stride) {
                self.rule.update_piece(&pending.plan, pending.fresh, piece);
            }
        });
        Ok(())
    }

    /// Calls `f` with the parameter range and the range of dense state
    /// section `section` of every piece of the whole vector.
    pub(crate) fn for_each_section<F>(&self, section: usize, mut f: F)
    where
        F: FnMut(Range<usize>, Range<usize>),
    {
        let n = self.layout.n;
        self.layout.for_each_piece(0, n, |spec| {
            if let Some(r) = spec.dense.get(section) {
                f(spec.params.clone(), r.clone());
            }
        });
    }
}
