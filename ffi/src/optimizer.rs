//! The functions that act on an initialised optimizer object: queries, the
//! one-call step, the three phases of a split step, the Schedule-Free
//! weight switches, and the learning-rate and reset controls.
//!
//! Each float function exists as `_f32` and `_f64`; both call one generic
//! body. Array arguments are the caller's full arrays with their lengths in
//! elements; the phased functions take a parameter range on top and touch
//! only that range's part of each array, so threads may run them on
//! disjoint ranges of the same arrays at once.

use core::mem::size_of;
use core::ops::Range;

use freestep_core::rules::schedule_free::ScheduleFree;
use freestep_core::{Error, Float, Optimizer, Partial, UpdateRule};

use crate::boundary::{boundary, disjoint, Buf, Out};
use crate::object::{
    each_rule, freestep_optimizer, freestep_partial, freestep_rule, Any, Element, Object,
    PartialObject,
};
use crate::status::{freestep_status, status_of};

/// What a trainer logs after a step.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_progress {
    /// Steps taken since init or reset (Prodigy counts only the steps that
    /// moved the parameters).
    pub k: u64,
    /// The learning rate of the last step: `lr` for SGD and Adam, the
    /// warmed-up lr for Schedule-Free rules (0 before the first step), and
    /// for Prodigy the step size `d * lr * bias correction` it used, with `d`
    /// as it was before that step (0 before the first step).
    pub lr: f64,
    /// Prodigy's current step-size estimate `d`; NaN for rules without one.
    pub d: f64,
}

/// The Schedule-Free weight switches of one rule's optimizer.
fn switch<T: Float, R: ScheduleFree>(
    o: &mut Optimizer<T, R>,
    to_eval: bool,
    params: &mut [T],
    state: &[T],
) -> Result<(), Error> {
    match to_eval {
        true => o.eval(params, state),
        false => o.train(params, state),
    }
}

impl Object {
    /// The state length: the rule's, plus the tuner's if there is one.
    fn state_len(&self) -> usize {
        let n = self.with_any(Any::len, Any::len);
        let base = self.with_any(Any::state_len, Any::state_len);
        let tuner = self.tuner().map_or(0, |t| t.state_len(n));
        let wrapper = self.wrapper().map_or(0, |_| n);
        base.saturating_add(tuner).saturating_add(wrapper)
    }

    /// True once the rule has taken a step (Mechanic and the wrapper can
    /// only be added before).
    pub(crate) fn has_stepped(&self) -> bool {
        self.with_any(
            |a| each_rule!(a, o => o.has_stepped()),
            |a| each_rule!(a, o => o.has_stepped()),
        )
    }

    /// Refuses a full-array call whose lengths are not the optimizer's
    /// (the state counted with the tuner's or wrapper's part).
    fn check_lengths(&self, n: usize, state_len: usize) -> Result<(), freestep_status> {
        if n != self.with_any(Any::len, Any::len) {
            return Err(freestep_status::BAD_LENGTH);
        }
        if state_len != self.state_len() {
            return Err(freestep_status::BAD_STATE_LENGTH);
        }
        Ok(())
    }

    /// Forgets the progress of the rule, the tuner and the wrapper.
    fn reset(&mut self) {
        self.with_any_mut(Any::reset, Any::reset);
        if let Some(t) = self.tuner_mut() {
            t.reset();
        }
        if let Some(w) = self.wrapper_mut() {
            w.reset();
        }
    }
}

impl<T: Float> Any<T> {
    fn len(&self) -> usize {
        each_rule!(self, o => o.len())
    }

    fn state_len(&self) -> usize {
        each_rule!(self, o => o.state_len())
    }

    fn state_range(&self, start: usize, end: usize) -> Result<Range<usize>, Error> {
        each_rule!(self, o => o.state_range(start, end))
    }

    fn step(
        &mut self,
        params: &mut [T],
        grads: &[T],
        loss: Option<f64>,
        state: &mut [T],
    ) -> Result<(), Error> {
        match loss {
            Some(l) => each_rule!(self, o => o.step_with_loss(params, grads, l, state)),
            None => each_rule!(self, o => o.step(params, grads, state)),
        }
    }

    fn partial(
        &self,
        start: usize,
        params: &[T],
        grads: &[T],
        state: &[T],
    ) -> Result<Partial<T>, Error> {
        each_rule!(self, o => o.partial(start, params, grads, state))
    }

    fn finish(&mut self, total: &Partial<T>, loss: Option<f64>) -> Result<(), Error> {
        match loss {
            Some(l) => each_rule!(self, o => o.finish_with_loss(total, l)),
            None => each_rule!(self, o => o.finish(total)),
        }
    }

    fn update(
        &self,
        start: usize,
        params: &mut [T],
        grads: &[T],
        state: &mut [T],
    ) -> Result<(), Error> {
        each_rule!(self, o => o.update(start, params, grads, state))
    }

    fn reset(&mut self) {
        each_rule!(self, o => o.reset())
    }

    /// Sets the learning rate if the rule accepts it; else changes nothing.
    fn set_lr(&mut self, lr: f64) -> Result<(), Error> {
        each_rule!(self, o => {
            let mut rule = *o.rule();
            rule.config.lr = lr;
            rule.validate()?;
            *o.rule_mut() = rule;
            Ok(())
        })
    }

    fn progress(&self) -> freestep_progress {
        let p = each_rule!(self, o => o.progress());
        freestep_progress {
            k: p.k,
            lr: p.lr,
            d: p.d.unwrap_or(f64::NAN),
        }
    }

    fn switch(
        &mut self,
        to_eval: bool,
        params: &mut [T],
        state: &[T],
    ) -> Result<(), freestep_status> {
        match self {
            Any::SgdScheduleFree(o) => switch(o, to_eval, params, state),
            Any::AdamWScheduleFree(o) => switch(o, to_eval, params, state),
            Any::RAdamScheduleFree(o) => switch(o, to_eval, params, state),
            _ => return Err(freestep_status::UNSUPPORTED),
        }
        .map_err(status_of)
    }

    fn eval_params(&self, params: &[T], state: &[T], out: &mut [T]) -> Result<(), freestep_status> {
        match self {
            Any::SgdScheduleFree(o) => o.eval_params(params, state, out),
            Any::AdamWScheduleFree(o) => o.eval_params(params, state, out),
            Any::RAdamScheduleFree(o) => o.eval_params(params, state, out),
            _ => return Err(freestep_status::UNSUPPORTED),
        }
        .map_err(status_of)
    }

    /// Train mode of a Schedule-Free rule; `UNSUPPORTED` for other rules.
    fn is_train_mode(&self) -> Result<bool, freestep_status> {
        match self {
            Any::SgdScheduleFree(o) => Ok(o.is_train_mode()),
            Any::AdamWScheduleFree(o) => Ok(o.is_train_mode()),
            Any::RAdamScheduleFree(o) => Ok(o.is_train_mode()),
            _ => Err(freestep_status::UNSUPPORTED),
        }
    }

    /// Refuses a full-array call whose lengths are not the optimizer's.
    fn check_lengths(&self, n: usize, state_len: usize) -> Result<(), freestep_status> {
        if n != self.len() {
            return Err(freestep_status::BAD_LENGTH);
        }
        if state_len != self.state_len() {
            return Err(freestep_status::BAD_STATE_LENGTH);
        }
        Ok(())
    }
}

/// The first byte of an output, to check it against the other buffers.
fn out_ptr<V>(out: &Out<V>) -> *const u8 {
    out.as_ptr().cast::<u8>()
}

/// The bytes of the optimizer block, to refuse arrays that overlap it.
fn object_bytes(opt: *const freestep_optimizer) -> Result<Buf<u8>, freestep_status> {
    Buf::new(opt.cast::<u8>(), size_of::<Object>())
}

/// Refuses written arrays that overlap the optimizer block.
fn outside<T>(object: &Buf<u8>, written: &[&Buf<T>]) -> Result<(), freestep_status> {
    match written.iter().any(|w| w.overlaps(object)) {
        true => Err(freestep_status::OVERLAPPING_BUFFERS),
        false => Ok(()),
    }
}

/// Writes the result of a query about the object.
///
/// # Safety
///
/// `opt` and `out` must be valid as the query functions document.
pub(crate) unsafe fn query<V>(
    opt: *const freestep_optimizer,
    out: *mut V,
    f: impl FnOnce(&Object) -> Result<V, freestep_status>,
) -> freestep_status {
    boundary(|| {
        let out = Out::new(out)?;
        let out_bytes = Buf::new(out_ptr(&out), size_of::<V>())?;
        outside(&object_bytes(opt)?, &[&out_bytes])?;
        // SAFETY: the caller passes an optimizer block as documented.
        let object = unsafe { Object::get(opt) }?;
        let value = f(object)?;
        // SAFETY: `out` is non-NULL and aligned (checked above) and the
        // caller promises it is writable.
        unsafe { out.write(value) };
        Ok(())
    })
}

/// Writes into `*out` the length of the state array this optimizer needs,
/// in elements (0 for SGD without momentum). Allocate it once; its values
/// need not be set, since the first step writes every value before reading
/// it, but it must be initialised memory (zeroing it is enough).
///
/// `opt` and `out` must not be NULL. On error `*out` is not written.
///
/// # Safety
///
/// `opt` points to an initialised optimizer block and `out` to a writable
/// `size_t`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_state_len(
    opt: *const freestep_optimizer,
    out: *mut usize,
) -> freestep_status {
    // SAFETY: the same contract.
    unsafe { query(opt, out, |o| Ok(o.state_len())) }
}

/// Writes the optimizer's rule into `*out` (`FREESTEP_RULE_ADAMW` for Adam
/// with decoupled weight decay).
///
/// `opt` and `out` must not be NULL. On error `*out` is not written.
///
/// # Safety
///
/// `opt` points to an initialised optimizer block and `out` to a writable
/// `freestep_rule`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_rule(
    opt: *const freestep_optimizer,
    out: *mut freestep_rule,
) -> freestep_status {
    // SAFETY: the same contract.
    unsafe { query(opt, out, |o| Ok(o.rule())) }
}

/// Writes the step count, the last step's learning rate and `d` into
/// `*out`, for logging.
///
/// `opt` and `out` must not be NULL. On error `*out` is not written.
///
/// # Safety
///
/// `opt` points to an initialised optimizer block and `out` to a writable
/// `freestep_progress`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_progress(
    opt: *const freestep_optimizer,
    out: *mut freestep_progress,
) -> freestep_status {
    // SAFETY: the same contract.
    unsafe { query(opt, out, |o| Ok(o.with_any(Any::progress, Any::progress))) }
}

/// Writes into `*out` whether a Schedule-Free optimizer's parameters hold
/// the train weights y (true) or the eval weights x (false).
///
/// `opt` and `out` must not be NULL. Other rules give
/// `FREESTEP_UNSUPPORTED`. On error `*out` is not written.
///
/// # Safety
///
/// `opt` points to an initialised optimizer block and `out` to a writable
/// `bool`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_is_train_mode(
    opt: *const freestep_optimizer,
    out: *mut bool,
) -> freestep_status {
    // SAFETY: the same contract.
    unsafe {
        query(opt, out, |o| match o.wrapper() {
            Some(w) => Ok(w.is_train_mode()),
            None => o.with_any(Any::is_train_mode, Any::is_train_mode),
        })
    }
}

/// Forgets all progress: the next step starts over from the current
/// parameters, as the first step after init did, and rewrites the whole
/// state array. A Schedule-Free optimizer returns to train mode without
/// touching the parameters.
///
/// `opt` must not be NULL. On error nothing changes.
///
/// # Safety
///
/// `opt` points to an initialised optimizer block that no other call uses
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_reset(opt: *mut freestep_optimizer) -> freestep_status {
    boundary(|| {
        // SAFETY: the caller passes an optimizer block as documented.
        let object = unsafe { Object::get_mut(opt) }?;
        object.reset();
        Ok(())
    })
}

/// Sets the base learning rate for the following steps (for a schedule).
/// For Prodigy it is the multiplier of the adapted step size.
///
/// `opt` must not be NULL. A value outside the rule's range (negative,
/// NaN, infinite) gives `FREESTEP_INVALID_HYPERPARAMETER` and leaves the
/// optimizer unchanged.
///
/// # Safety
///
/// `opt` points to an initialised optimizer block that no other call uses
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_set_lr(
    opt: *mut freestep_optimizer,
    lr: f64,
) -> freestep_status {
    boundary(|| {
        // SAFETY: the caller passes an optimizer block as documented.
        let object = unsafe { Object::get_mut(opt) }?;
        object
            .with_any_mut(|a| a.set_lr(lr), |a| a.set_lr(lr))
            .map_err(status_of)
    })
}

/// The body of `freestep_optimizer_step_*`.
///
/// # Safety
///
/// The contract of `freestep_optimizer_step_f32`.
unsafe fn step<T: Element>(
    opt: *mut freestep_optimizer,
    params: *mut T,
    grads: *const T,
    n: usize,
    loss: Option<f64>,
    state: *mut T,
    state_len: usize,
) -> Result<(), freestep_status> {
    let params = Buf::new_mut(params, n)?;
    let grads = Buf::new(grads, n)?;
    let state = Buf::new_mut(state, state_len)?;
    let object = object_bytes(opt)?;
    disjoint(&params, &[&grads, &state])?;
    disjoint(&state, &[&grads])?;
    // The gradients too: the step rewrites the block while it reads them.
    outside(&object, &[&params, &grads, &state])?;

    // SAFETY: the caller passes an optimizer block as documented, and the
    // arrays of the call do not overlap it (checked above).
    let object = unsafe { Object::get_mut(opt) }?;
    object.check_lengths(n, state_len)?;
    let (any, tuner, wrapper) = object.parts_mut::<T>()?;
    // SAFETY: each array was checked for NULL, alignment and size, the
    // written ones overlap nothing else, and the lengths are the
    // optimizer's; the caller promises the elements are valid.
    let (p, g, s) = unsafe { (params.slice_mut(), grads.slice(), state.slice_mut()) };
    let (base, own) = s
        .split_at_mut_checked(any.state_len())
        .ok_or(freestep_status::BAD_STATE_LENGTH)?;
    match (tuner, wrapper) {
        (Some(tuner), _) => each_rule!(any, o => tuner.step(o, p, g, loss, (base, own))),
        (None, Some(w)) => each_rule!(any, o => w.step(o, p, g, loss, (base, own))),
        (None, None) => any.step(p, g, loss, s),
    }
    .map_err(status_of)
}

/// Takes one optimizer step: reads the gradients, updates `params` and
/// `state` in place.
///
/// `params` and `grads` hold `n` floats, `n` being the optimizer's
/// parameter count; `state` holds `state_len` floats, the count
/// `freestep_optimizer_state_len` gives. An array may be NULL only when its
/// length is 0. Arrays must not overlap each other or the optimizer block.
/// The caller keeps ownership of everything.
///
/// On error (NULL, misaligned or overlapping pointers, wrong lengths or
/// precision, a NaN or infinite gradient, Schedule-Free eval mode) the
/// parameters, the state and the optimizer are unchanged.
///
/// # Safety
///
/// Non-NULL pointers must be valid for their lengths, and no other call may
/// use the optimizer meanwhile.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_step_f32(
    opt: *mut freestep_optimizer,
    params: *mut f32,
    grads: *const f32,
    n: usize,
    state: *mut f32,
    state_len: usize,
) -> freestep_status {
    // SAFETY: the same contract as `step`.
    boundary(|| unsafe { step(opt, params, grads, n, None, state, state_len) })
}

/// `freestep_optimizer_step_f32` for an optimizer of `FREESTEP_F64`.
///
/// # Safety
///
/// As for `freestep_optimizer_step_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_step_f64(
    opt: *mut freestep_optimizer,
    params: *mut f64,
    grads: *const f64,
    n: usize,
    state: *mut f64,
    state_len: usize,
) -> freestep_status {
    // SAFETY: the same contract as `step`.
    boundary(|| unsafe { step(opt, params, grads, n, None, state, state_len) })
}

/// `freestep_optimizer_step_f32` with the loss at `params`, where `grads`
/// was taken. Rules that read the loss (MoMo, MoMo-Adam) need this call:
/// the plain step refuses them with `FREESTEP_MISSING_LOSS`. Other rules
/// ignore the loss. A NaN or infinite loss is refused with
/// `FREESTEP_NON_FINITE_LOSS`; on every error nothing changes.
///
/// # Safety
///
/// As for `freestep_optimizer_step_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_step_loss_f32(
    opt: *mut freestep_optimizer,
    params: *mut f32,
    grads: *const f32,
    n: usize,
    loss: f64,
    state: *mut f32,
    state_len: usize,
) -> freestep_status {
    // SAFETY: the same contract as `step`.
    boundary(|| unsafe { step(opt, params, grads, n, Some(loss), state, state_len) })
}

/// `freestep_optimizer_step_loss_f32` for an optimizer of `FREESTEP_F64`.
///
/// # Safety
///
/// As for `freestep_optimizer_step_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_step_loss_f64(
    opt: *mut freestep_optimizer,
    params: *mut f64,
    grads: *const f64,
    n: usize,
    loss: f64,
    state: *mut f64,
    state_len: usize,
) -> freestep_status {
    // SAFETY: the same contract as `step`.
    boundary(|| unsafe { step(opt, params, grads, n, Some(loss), state, state_len) })
}

/// The checked parts of the full arrays that a phased call touches.
struct Ranged<T> {
    params: Buf<T>,
    grads: Buf<T>,
    state: Buf<T>,
}

/// Checks the full arrays of a phased call against the optimizer and cuts
/// out the parts of parameters `start..end`.
fn ranged<T: Float>(
    any: &Any<T>,
    (params, grads, state): (Buf<T>, Buf<T>, Buf<T>),
    start: usize,
    end: usize,
) -> Result<Ranged<T>, freestep_status> {
    any.check_lengths(params.len(), state.len())?;
    let range = any.state_range(start, end).map_err(status_of)?;
    Ok(Ranged {
        params: params.sub(start..end)?,
        grads: grads.sub(start..end)?,
        state: state.sub(range)?,
    })
}

/// The body of `freestep_optimizer_partial_*`.
///
/// # Safety
///
/// The contract of `freestep_optimizer_partial_f32`.
#[allow(clippy::too_many_arguments)]
unsafe fn partial<T: Element>(
    opt: *const freestep_optimizer,
    params: *const T,
    grads: *const T,
    n: usize,
    state: *const T,
    state_len: usize,
    (start, end): (usize, usize),
    out: *mut freestep_partial,
) -> Result<(), freestep_status> {
    let out = Out::new(out.cast::<PartialObject>())?;
    let full = (
        Buf::new(params, n)?,
        Buf::new(grads, n)?,
        Buf::new(state, state_len)?,
    );
    // The partial is written last, but must not land on anything the call
    // reads: the block or the arrays.
    let out_bytes = Buf::new(out_ptr(&out), size_of::<PartialObject>())?;
    outside(&object_bytes(opt)?, &[&out_bytes])?;
    if [&full.0, &full.1, &full.2]
        .iter()
        .any(|b| out_bytes.overlaps(*b))
    {
        return Err(freestep_status::OVERLAPPING_BUFFERS);
    }

    // SAFETY: the caller passes an optimizer block as documented.
    let any = unsafe { Object::get(opt) }?.any::<T>()?;
    let r = ranged(any, full, start, end)?;
    // SAFETY: the parts were checked for NULL, alignment and size and lie
    // inside the caller's arrays; the call only reads them.
    let (p, g, s) = unsafe { (r.params.slice(), r.grads.slice(), r.state.slice()) };
    let partial = any.partial(start, p, g, s).map_err(status_of)?;
    // SAFETY: `out` is non-NULL and aligned (checked above), the caller
    // promises `freestep_partial_size()` writable bytes, and no reference
    // into the arrays or the optimizer is used after this point.
    unsafe { out.write(PartialObject::new(partial)) };
    Ok(())
}

/// Phase 1 of a split step: the partial sums of parameters `start..end`,
/// written into `*out`. Changes nothing else, so threads may run it on
/// disjoint ranges at once.
///
/// `params`, `grads` and `state` are the FULL arrays (`n` and `state_len`
/// floats, as for `freestep_optimizer_step_f32`); only the range's part of
/// each is read. `start` must be a multiple of `FREESTEP_TILE` and
/// `start <= end <= n`. `out` points to `freestep_partial_size()` writable
/// bytes aligned to `freestep_partial_align()`; it must not be NULL.
///
/// A NaN or infinite gradient is not an error here: it is recorded in the
/// partial and `freestep_optimizer_finish` refuses the step. On error
/// `*out` is not written.
///
/// # Safety
///
/// Non-NULL pointers must be valid for their lengths and sizes.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_partial_f32(
    opt: *const freestep_optimizer,
    params: *const f32,
    grads: *const f32,
    n: usize,
    state: *const f32,
    state_len: usize,
    start: usize,
    end: usize,
    out: *mut freestep_partial,
) -> freestep_status {
    let range = (start, end);
    // SAFETY: the same contract as `partial`.
    boundary(|| unsafe { partial(opt, params, grads, n, state, state_len, range, out) })
}

/// `freestep_optimizer_partial_f32` for an optimizer of `FREESTEP_F64`.
///
/// # Safety
///
/// As for `freestep_optimizer_partial_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_partial_f64(
    opt: *const freestep_optimizer,
    params: *const f64,
    grads: *const f64,
    n: usize,
    state: *const f64,
    state_len: usize,
    start: usize,
    end: usize,
    out: *mut freestep_partial,
) -> freestep_status {
    let range = (start, end);
    // SAFETY: the same contract as `partial`.
    boundary(|| unsafe { partial(opt, params, grads, n, state, state_len, range, out) })
}

/// Combines the partials of two disjoint ranges into `*out`. Exact, so the
/// order and grouping of combinations do not change the result. `out` may
/// be `a` or `b`, to accumulate in place.
///
/// None of the pointers may be NULL. Partials of different precisions give
/// `FREESTEP_WRONG_PRECISION`; on any error `*out` is not written.
///
/// # Safety
///
/// `a` and `b` point to partials, `out` to `freestep_partial_size()`
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn freestep_partial_combine(
    a: *const freestep_partial,
    b: *const freestep_partial,
    out: *mut freestep_partial,
) -> freestep_status {
    boundary(|| {
        let out = Out::new(out.cast::<PartialObject>())?;
        // SAFETY: the caller passes partial blocks as documented; `read`
        // copies them out, so `out` may alias either.
        let (a, b) = unsafe { (PartialObject::read(a)?, PartialObject::read(b)?) };
        let total = a.combine(&b)?;
        // SAFETY: `out` is non-NULL and aligned (checked above) and the
        // caller promises it is writable; nothing borrows it.
        unsafe { out.write(total) };
        Ok(())
    })
}

/// Phase 2 of a split step: checks the combined partial of ALL parameters
/// and advances the optimizer's scalar state (step count, d, averaging).
/// Run it once, between the partials and the updates.
///
/// `opt` and `total` must not be NULL. A partial that saw a NaN or infinite
/// gradient gives `FREESTEP_NON_FINITE_GRADIENT`, one that does not cover
/// every parameter exactly once `FREESTEP_INCOMPLETE_PARTIAL`; on any error
/// the optimizer is unchanged and no update is pending.
///
/// # Safety
///
/// `opt` points to an initialised optimizer block that no other call uses
/// meanwhile; `total` points to a partial.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_finish(
    opt: *mut freestep_optimizer,
    total: *const freestep_partial,
) -> freestep_status {
    // SAFETY: the same contract as `finish`.
    unsafe { finish(opt, total, None) }
}

/// `freestep_optimizer_finish` with the loss at the parameters where the
/// gradients were taken, for rules that read it (MoMo, MoMo-Adam; see
/// `freestep_optimizer_step_loss_f32`).
///
/// # Safety
///
/// As for `freestep_optimizer_finish`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_finish_loss(
    opt: *mut freestep_optimizer,
    total: *const freestep_partial,
    loss: f64,
) -> freestep_status {
    // SAFETY: the same contract as `finish`.
    unsafe { finish(opt, total, Some(loss)) }
}

/// The body of `freestep_optimizer_finish` and `_finish_loss`.
///
/// # Safety
///
/// The contract of `freestep_optimizer_finish`.
unsafe fn finish(
    opt: *mut freestep_optimizer,
    total: *const freestep_partial,
    loss: Option<f64>,
) -> freestep_status {
    boundary(|| {
        // SAFETY: the caller passes a partial block; it is copied out
        // before the optimizer is borrowed.
        let total = unsafe { PartialObject::read(total) }?;
        // SAFETY: the caller passes an optimizer block as documented.
        let object = unsafe { Object::get_mut(opt) }?;
        object.with_any_mut(
            |a| a.finish(&total.get()?, loss).map_err(status_of),
            |a| a.finish(&total.get()?, loss).map_err(status_of),
        )
    })
}

/// The body of `freestep_optimizer_update_*`.
///
/// # Safety
///
/// The contract of `freestep_optimizer_update_f32`.
#[allow(clippy::too_many_arguments)]
unsafe fn update<T: Element>(
    opt: *const freestep_optimizer,
    params: *mut T,
    grads: *const T,
    n: usize,
    state: *mut T,
    state_len: usize,
    (start, end): (usize, usize),
) -> Result<(), freestep_status> {
    let full = (
        Buf::new_mut(params, n)?,
        Buf::new(grads, n)?,
        Buf::new_mut(state, state_len)?,
    );
    let object = object_bytes(opt)?;

    // SAFETY: the caller passes an optimizer block as documented.
    let any = unsafe { Object::get(opt) }?.any::<T>()?;
    let r = ranged(any, full, start, end)?;
    disjoint(&r.params, &[&r.grads, &r.state])?;
    disjoint(&r.state, &[&r.grads])?;
    outside(&object, &[&r.params, &r.state])?;
    // SAFETY: the parts were checked for NULL, alignment and size, lie
    // inside the caller's arrays, and the written ones overlap neither each
    // other, the gradients nor the optimizer block. Other threads may hold
    // other ranges of the same arrays: only this range's part is borrowed.
    let (p, g, s) = unsafe { (r.params.slice_mut(), r.grads.slice(), r.state.slice_mut()) };
    any.update(start, p, g, s).map_err(status_of)
}

/// Phase 3 of a split step: applies the step planned by the last
/// `freestep_optimizer_finish` to parameters `start..end` and their state.
/// Call it once for each range; threads may update disjoint ranges at once.
///
/// The arrays and the range are as for `freestep_optimizer_partial_f32`;
/// only the range's part of `params` and `state` is written. On error
/// (including `FREESTEP_NO_PENDING_STEP` before any finish) nothing
/// changes.
///
/// # Safety
///
/// Non-NULL pointers must be valid for their lengths; no call that changes
/// the optimizer may run meanwhile.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_update_f32(
    opt: *const freestep_optimizer,
    params: *mut f32,
    grads: *const f32,
    n: usize,
    state: *mut f32,
    state_len: usize,
    start: usize,
    end: usize,
) -> freestep_status {
    let range = (start, end);
    // SAFETY: the same contract as `update`.
    boundary(|| unsafe { update(opt, params, grads, n, state, state_len, range) })
}

/// `freestep_optimizer_update_f32` for an optimizer of `FREESTEP_F64`.
///
/// # Safety
///
/// As for `freestep_optimizer_update_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_update_f64(
    opt: *const freestep_optimizer,
    params: *mut f64,
    grads: *const f64,
    n: usize,
    state: *mut f64,
    state_len: usize,
    start: usize,
    end: usize,
) -> freestep_status {
    let range = (start, end);
    // SAFETY: the same contract as `update`.
    boundary(|| unsafe { update(opt, params, grads, n, state, state_len, range) })
}

/// The body of `freestep_optimizer_eval_*` and `_train_*`.
///
/// # Safety
///
/// The contract of `freestep_optimizer_eval_f32`.
unsafe fn switch_mode<T: Element>(
    opt: *mut freestep_optimizer,
    to_eval: bool,
    params: *mut T,
    n: usize,
    state: *const T,
    state_len: usize,
) -> Result<(), freestep_status> {
    let params = Buf::new_mut(params, n)?;
    let state = Buf::new(state, state_len)?;
    let object = object_bytes(opt)?;
    disjoint(&params, &[&state])?;
    outside(&object, &[&params, &state])?;

    // SAFETY: the caller passes an optimizer block as documented, and the
    // parameters do not overlap it (checked above).
    let object = unsafe { Object::get_mut(opt) }?;
    if object.wrapper().is_some() {
        object.check_lengths(n, state_len)?;
        let (any, _, wrapper) = object.parts_mut::<T>()?;
        let base = any.state_len();
        // SAFETY: both arrays were checked for NULL, alignment, size,
        // overlap and length; the caller promises the elements are valid.
        let (p, s) = unsafe { (params.slice_mut(), state.slice()) };
        let z = s.get(base..).unwrap_or(&[]);
        let w = wrapper.as_mut().ok_or(freestep_status::UNSUPPORTED)?;
        let switched = if to_eval { w.eval(p, z) } else { w.train(p, z) };
        return switched.map_err(status_of);
    }
    let any = object.any_mut::<T>()?;
    any.is_train_mode()?;
    any.check_lengths(n, state_len)?;
    // SAFETY: both arrays were checked for NULL, alignment, size, overlap
    // and length; the caller promises the elements are valid.
    let (p, s) = unsafe { (params.slice_mut(), state.slice()) };
    any.switch(to_eval, p, s)
}

/// Switches a Schedule-Free optimizer's parameters, in place, to the eval
/// weights x (the average), and the optimizer to eval mode, where steps are
/// refused. Does nothing in eval mode already, or before the first step.
///
/// `params` holds `n` floats and `state` `state_len` floats, as for
/// `freestep_optimizer_step_f32`; the state is only read. Other rules give
/// `FREESTEP_UNSUPPORTED`. On error nothing changes.
///
/// # Safety
///
/// Non-NULL pointers must be valid for their lengths, and no other call may
/// use the optimizer meanwhile.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_eval_f32(
    opt: *mut freestep_optimizer,
    params: *mut f32,
    n: usize,
    state: *const f32,
    state_len: usize,
) -> freestep_status {
    // SAFETY: the same contract as `switch_mode`.
    boundary(|| unsafe { switch_mode(opt, true, params, n, state, state_len) })
}

/// `freestep_optimizer_eval_f32` for an optimizer of `FREESTEP_F64`.
///
/// # Safety
///
/// As for `freestep_optimizer_eval_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_eval_f64(
    opt: *mut freestep_optimizer,
    params: *mut f64,
    n: usize,
    state: *const f64,
    state_len: usize,
) -> freestep_status {
    // SAFETY: the same contract as `switch_mode`.
    boundary(|| unsafe { switch_mode(opt, true, params, n, state, state_len) })
}

/// Switches a Schedule-Free optimizer's parameters back from the eval
/// weights to the train weights y, and the optimizer to train mode. Does
/// nothing in train mode already.
///
/// Arguments, errors and ownership are as for `freestep_optimizer_eval_f32`.
///
/// # Safety
///
/// As for `freestep_optimizer_eval_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_train_f32(
    opt: *mut freestep_optimizer,
    params: *mut f32,
    n: usize,
    state: *const f32,
    state_len: usize,
) -> freestep_status {
    // SAFETY: the same contract as `switch_mode`.
    boundary(|| unsafe { switch_mode(opt, false, params, n, state, state_len) })
}

/// `freestep_optimizer_train_f32` for an optimizer of `FREESTEP_F64`.
///
/// # Safety
///
/// As for `freestep_optimizer_eval_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_train_f64(
    opt: *mut freestep_optimizer,
    params: *mut f64,
    n: usize,
    state: *const f64,
    state_len: usize,
) -> freestep_status {
    // SAFETY: the same contract as `switch_mode`.
    boundary(|| unsafe { switch_mode(opt, false, params, n, state, state_len) })
}

/// The body of `freestep_optimizer_eval_params_*`.
///
/// # Safety
///
/// The contract of `freestep_optimizer_eval_params_f32`.
unsafe fn eval_params<T: Element>(
    opt: *const freestep_optimizer,
    params: *const T,
    n: usize,
    state: *const T,
    state_len: usize,
    out: *mut T,
    out_len: usize,
) -> Result<(), freestep_status> {
    let params = Buf::new(params, n)?;
    let state = Buf::new(state, state_len)?;
    let out = Buf::new_mut(out, out_len)?;
    let object = object_bytes(opt)?;
    disjoint(&out, &[&params, &state])?;
    outside(&object, &[&out])?;

    // SAFETY: the caller passes an optimizer block as documented.
    let object = unsafe { Object::get(opt) }?;
    if let (any, Some(w)) = object.wrapped::<T>()? {
        object.check_lengths(n, state_len)?;
        if out_len != n {
            return Err(freestep_status::BAD_LENGTH);
        }
        // SAFETY: the arrays were checked for NULL, alignment, size,
        // overlap and length; the caller promises the elements are valid.
        let (p, s, o) = unsafe { (params.slice(), state.slice(), out.slice_mut()) };
        let z = s.get(any.state_len()..).unwrap_or(&[]);
        return w.eval_params(p, z, o).map_err(status_of);
    }
    let any = object.any::<T>()?;
    any.is_train_mode()?;
    any.check_lengths(n, state_len)?;
    if out_len != n {
        return Err(freestep_status::BAD_LENGTH);
    }
    // SAFETY: the arrays were checked for NULL, alignment, size, overlap
    // and length; the caller promises the elements are valid.
    let (p, s, o) = unsafe { (params.slice(), state.slice(), out.slice_mut()) };
    any.eval_params(p, s, o)
}

/// Writes a Schedule-Free optimizer's eval weights x into `out` without
/// switching modes (in eval mode this copies `params`).
///
/// `params` holds `n` floats and `state` `state_len` floats, as for
/// `freestep_optimizer_step_f32`; both are only read. `out` holds `out_len`
/// floats, which must be `n`, and must not overlap them. Other rules give
/// `FREESTEP_UNSUPPORTED`. On error `out` is not written.
///
/// # Safety
///
/// Non-NULL pointers must be valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_eval_params_f32(
    opt: *const freestep_optimizer,
    params: *const f32,
    n: usize,
    state: *const f32,
    state_len: usize,
    out: *mut f32,
    out_len: usize,
) -> freestep_status {
    // SAFETY: the same contract as `eval_params`.
    boundary(|| unsafe { eval_params(opt, params, n, state, state_len, out, out_len) })
}

/// `freestep_optimizer_eval_params_f32` for an optimizer of `FREESTEP_F64`.
///
/// # Safety
///
/// As for `freestep_optimizer_eval_params_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_eval_params_f64(
    opt: *const freestep_optimizer,
    params: *const f64,
    n: usize,
    state: *const f64,
    state_len: usize,
    out: *mut f64,
    out_len: usize,
) -> freestep_status {
    // SAFETY: the same contract as `eval_params`.
    boundary(|| unsafe { eval_params(opt, params, n, state, state_len, out, out_len) })
}
