//! Mechanic from C: a tuner put over an initialised optimizer of any rule
//! but the Schedule-Free ones.

use core::ptr::addr_of;

use freestep_core::mechanic::{Mechanic, MechanicConfig, MAX_BETAS};

use crate::boundary::{boundary, check_ptr, Out};
use crate::object::{freestep_optimizer, Object};
use crate::optimizer::query;
use crate::status::{freestep_status, status_of};
use crate::wrapper::is_schedule_free;

/// The most betas of a Mechanic tuner.
pub const FREESTEP_MECHANIC_MAX_BETAS: usize = 8;

const _: () = assert!(FREESTEP_MECHANIC_MAX_BETAS == MAX_BETAS);

/// Hyperparameters of the Mechanic tuner, as `mechanic_pytorch.mechanize`'s
/// arguments (`betas` as an array and a count; `log_every` and `log_func`
/// only log there: read the scale with `freestep_optimizer_mechanic_scale`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_mechanic_config {
    /// The scale's own weight decay (lambda), >= 0 (default 0.01).
    pub s_decay: f64,
    /// The betas of the parallel tuners, each in [0, 1] (default 0.9, 0.99,
    /// 0.999, 0.9999, 0.99999, 0.999999).
    pub betas: [f64; FREESTEP_MECHANIC_MAX_BETAS],
    /// How many of `betas` are used, 1..=FREESTEP_MECHANIC_MAX_BETAS
    /// (default 6).
    pub n_betas: usize,
    /// The initial scale, >= 0 (default 1e-8).
    pub s_init: f64,
    /// Added to divisors, > 0 (default 1e-8).
    pub eps: f64,
    /// Keep the offset from the start in the state instead of recomputing
    /// it (one more value per parameter; default false).
    pub store_delta: bool,
}

impl freestep_mechanic_config {
    fn from_core(c: MechanicConfig) -> Self {
        Self {
            s_decay: c.s_decay,
            betas: c.betas,
            n_betas: c.n_betas,
            s_init: c.s_init,
            eps: c.eps,
            store_delta: c.store_delta,
        }
    }

    /// Reads the struct at `p` field by field, the flag as a byte.
    ///
    /// # Safety
    ///
    /// `p` is non-NULL, aligned and points to a readable struct.
    unsafe fn read(p: *const Self) -> MechanicConfig {
        // SAFETY: the contract; every field but the flag accepts any bits,
        // and the flag is read as a byte.
        unsafe {
            MechanicConfig {
                s_decay: addr_of!((*p).s_decay).read(),
                betas: addr_of!((*p).betas).read(),
                n_betas: addr_of!((*p).n_betas).read(),
                s_init: addr_of!((*p).s_init).read(),
                eps: addr_of!((*p).eps).read(),
                store_delta: addr_of!((*p).store_delta).cast::<u8>().read() != 0,
            }
        }
    }
}

/// Writes `mechanize`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_mechanic_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_mechanic_default_config(
    out: *mut freestep_mechanic_config,
) -> freestep_status {
    boundary(|| {
        let out = Out::new(out)?;
        let value = freestep_mechanic_config::from_core(MechanicConfig::default());
        // SAFETY: `out` is non-NULL and aligned (checked above) and the
        // caller promises it is writable.
        unsafe { out.write(value) };
        Ok(())
    })
}

/// Puts a Mechanic tuner over the optimizer `opt`, which must not have
/// stepped yet: from now on each `freestep_optimizer_step_*` (or
/// `_step_loss_*`) takes the rule's step and then rescales the distance
/// from the starting point. The state grows by 2 values per parameter (3
/// with `store_delta`): ask `freestep_optimizer_state_len` again. Calling
/// it again replaces the tuner.
///
/// A tuned optimizer steps in one call only: the split-step functions and
/// the Schedule-Free ones give `FREESTEP_UNSUPPORTED`. Schedule-Free rules
/// cannot be tuned (`FREESTEP_UNSUPPORTED`), nor can an optimizer that has
/// stepped or has a Schedule-Free wrapper. A hyperparameter out of range gives
/// `FREESTEP_INVALID_HYPERPARAMETER`. On error nothing changes.
///
/// # Safety
///
/// `opt` points to an initialised optimizer block that no other call uses
/// meanwhile; `config` to a readable `freestep_mechanic_config`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_mechanize(
    opt: *mut freestep_optimizer,
    config: *const freestep_mechanic_config,
) -> freestep_status {
    boundary(|| {
        let config = check_ptr(config)?;
        // SAFETY: `config` is non-NULL and aligned (checked above) and the
        // caller promises it is readable.
        let config = unsafe { freestep_mechanic_config::read(config.as_ptr()) };
        let tuner = Mechanic::new(config);
        tuner.validate().map_err(status_of)?;
        // SAFETY: the caller passes an optimizer block as documented.
        let object = unsafe { Object::get_mut(opt) }?;
        if is_schedule_free(object.rule()) || object.wrapper().is_some() || object.has_stepped() {
            return Err(freestep_status::UNSUPPORTED);
        }
        object.set_tuner(tuner);
        Ok(())
    })
}

/// Writes the Mechanic scale S (the sum of the per-beta scales; 0 before
/// the first step) into `*out`. An optimizer without a tuner gives
/// `FREESTEP_UNSUPPORTED`. On error `*out` is not written.
///
/// # Safety
///
/// `opt` points to an initialised optimizer block and `out` to a writable
/// `double`.
#[no_mangle]
pub unsafe extern "C" fn freestep_optimizer_mechanic_scale(
    opt: *const freestep_optimizer,
    out: *mut f64,
) -> freestep_status {
    // SAFETY: the same contract as `query`'s.
    unsafe {
        query(opt, out, |object| {
            object
                .tuner()
                .map(Mechanic::s_sum)
                .ok_or(freestep_status::UNSUPPORTED)
        })
    }
}
