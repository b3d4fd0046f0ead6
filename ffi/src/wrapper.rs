//! The Schedule-Free wrapper from C: makes an initialised optimizer of any
//! rule but the Schedule-Free ones Schedule-Free.

use core::ptr::addr_of;

use freestep_core::wrapper::{ScheduleFreeWrapper, ScheduleFreeWrapperConfig};

use crate::boundary::{boundary, check_ptr, Out};
use crate::object::{freestep_optimizer, freestep_rule, Object};
use crate::status::{freestep_status, status_of};

/// Hyperparameters of the Schedule-Free wrapper, as
/// `schedulefree.ScheduleFreeWrapper`'s arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_schedulefree_wrapper_config {
    /// Interpolation between z and x, in (0, 1) (default 0.9).
    pub momentum: f64,
    /// Weight decay at y, >= 0 (default 0).
    pub weight_decay_at_y: f64,
    /// Polynomial weighting of the average (default 0).
    pub r: f64,
    /// Exponent of the largest lr in the averaging weight, >= 0 (default 2).
    pub weight_lr_power: f64,
}

impl freestep_schedulefree_wrapper_config {
    fn from_core(c: ScheduleFreeWrapperConfig) -> Self {
        Self {
            momentum: c.momentum,
            weight_decay_at_y: c.weight_decay_at_y,
            r: c.r,
            weight_lr_power: c.weight_lr_power,
        }
    }

    /// Reads the struct at `p` field by field.
    ///
    /// # Safety
    ///
    /// `p` is non-NULL, aligned and points to a readable struct.
    unsafe fn read(p: *const Self) -> ScheduleFreeWrapperConfig {
        // SAFETY: the contract; every field accepts any bits.
        unsafe {
            ScheduleFreeWrapperConfig {
                momentum: addr_of!((*p).momentum).read(),
                weight_decay_at_y: addr_of!((*p).weight_decay_at_y).read(),
                r: addr_of!((*p).r).read(),
                weight_lr_power: addr_of!((*p).weight_lr_power).read(),
            }
        }
    }
}

/// Writes `ScheduleFreeWrapper`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_schedulefree_wrapper_config`;
/// NULL or a misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_schedulefree_wrapper_default_config(
    out: *mut freestep_schedulefree_wrapper_config,
) -> freestep_status {
    boundary(|| {
        let out = Out::new(out)?;
        let value = freestep_schedulefree_wrapper_config::from_core(Default::default());
        // SAFETY: `out` is non-NULL and aligned (checked above) and the
        // caller promises it is writable.
        unsafe { out.write(value) };
        Ok(())
    })
}

/// Makes the optimizer `opt` Schedule-Free, before its first step: the
/// rule then steps the sequence z, the parameters hold y (where gradients
/// are taken) in train mode, and `freestep_optimizer_eval_*`,
/// `_train_*`, `_eval_params_*` and `_is_train_mode` switch between y and
/// the average x as for the Schedule-Free rules. The state grows by one
/// value per parameter (z): ask `freestep_optimizer_state_len` again.
/// Calling it again replaces the wrapper.
///
/// A wrapped optimizer steps in one call only: the split-step functions
/// give `FREESTEP_UNSUPPORTED`. Schedule-Free rules, optimizers with a
/// Mechanic tuner and optimizers that have stepped cannot be wrapped
/// (`FREESTEP_UNSUPPORTED`). A hyperparameter out of range gives
/// `FREESTEP_INVALID_HYPERPARAMETER`. On error nothing changes.
///
/// # Safety
///
/// `opt` points to an initialised optimizer block that no other call uses
/// meanwhile; `config` to a readable `freestep_schedulefree_wrapper_config`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_schedulefree_wrap(
    opt: *mut freestep_optimizer,
    config: *const freestep_schedulefree_wrapper_config,
) -> freestep_status {
    boundary(|| {
        let config = check_ptr(config)?;
        // SAFETY: `config` is non-NULL and aligned (checked above) and the
        // caller promises it is readable.
        let config = unsafe { freestep_schedulefree_wrapper_config::read(config.as_ptr()) };
        let wrapper = ScheduleFreeWrapper::new(config);
        wrapper.validate().map_err(status_of)?;
        // SAFETY: the caller passes an optimizer block as documented.
        let object = unsafe { Object::get_mut(opt) }?;
        if is_schedule_free(object.rule()) || object.tuner().is_some() || object.has_stepped() {
            return Err(freestep_status::UNSUPPORTED);
        }
        object.set_wrapper(wrapper);
        Ok(())
    })
}

/// True for the rules that are Schedule-Free themselves.
pub(crate) fn is_schedule_free(rule: freestep_rule) -> bool {
    matches!(
        rule,
        freestep_rule::RULE_SGD_SCHEDULEFREE
            | freestep_rule::RULE_ADAMW_SCHEDULEFREE
            | freestep_rule::RULE_RADAM_SCHEDULEFREE
    )
}
