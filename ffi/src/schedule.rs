//! Learning-rate schedules from C: a plain struct naming the schedule and
//! its parameters, and one function that evaluates it at a step.
//!
//! A trainer calls `freestep_schedule_multiplier` before each step and sets
//! the optimizer's learning rate to its base rate times the result
//! (`freestep_optimizer_set_lr`).
//!
//! The refined schedule is an array, not a formula: a first run records its
//! gradient norms, `freestep_schedule_refine_*` turns them into one
//! multiplier per step, and the second run reads its multipliers from that
//! array. The factorial-power functions give the sequences of
//! `freestep::schedule::factorial` one value at a time.

use freestep_core::schedule::{factorial, refined};
use freestep_core::{Float, Schedule};

use crate::boundary::{boundary, check_ptr, disjoint, Buf, Out};
use crate::status::{freestep_status, status_of};

/// The kinds of `freestep_schedule`. The struct's `kind` field holds one
/// of these numbers; the numbers are stable.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum freestep_schedule_kind {
    /// 1 at every step.
    SCHEDULE_CONSTANT = 1,
    /// Linear warmup over `warmup` steps (>= 1), then 1.
    SCHEDULE_LINEAR_WARMUP = 2,
    /// Linear warmup (none when `warmup` is 0), then linear decay to 0 at
    /// step `total`.
    SCHEDULE_LINEAR_DECAY = 3,
    /// Linear warmup, then half a cosine from 1 to `final_value` at `total`.
    SCHEDULE_COSINE = 4,
    /// Linear warmup, 1, then linear decay to 0 over the last `decay` steps.
    SCHEDULE_WARMUP_STABLE_DECAY = 5,
    /// Linear warmup, then `((total - t) / (total - warmup))^power`.
    SCHEDULE_POLYNOMIAL = 6,
    /// Linear warmup, then the factorial-power decay
    /// `(s + offset)^(-power) / offset^(-power)`, `s = t - warmup`: about
    /// `(offset / (s + offset))^power`, with no end (`total` is ignored).
    SCHEDULE_FACTORIAL_POWER = 7,
}

/// A learning-rate schedule: the multiplier of the base rate at step `t`
/// (from 0). Warmup gives step `t < warmup` the multiplier
/// `(t + 1) / warmup`; decays end just above 0 at step `total - 1` and are
/// 0 (cosine: `final_value`) from `total` on. Fields a kind does not use
/// are ignored.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_schedule {
    /// One of `freestep_schedule_kind`.
    pub kind: u32,
    /// Warmup steps (<= `total`).
    pub warmup: u64,
    /// Total steps of the run (>= 1) for the decays.
    pub total: u64,
    /// Warmup-stable-decay: steps of the final decay (`warmup + decay <=
    /// total`).
    pub decay: u64,
    /// Cosine: the multiplier at the end, in [0, 1].
    pub final_value: f64,
    /// Polynomial: the exponent, > 0. Factorial power: the exponent, in
    /// [0, 2^53].
    pub power: f64,
    /// Factorial power: the offset, in [0, 2^53] (larger starts the decay
    /// more gently).
    pub offset: f64,
}

impl freestep_schedule {
    fn to_core(self) -> Result<Schedule, freestep_status> {
        use freestep_schedule_kind as K;
        let kind = |k: K| k as u32;
        let (warmup, total, decay) = (self.warmup, self.total, self.decay);
        Ok(match self.kind {
            k if k == kind(K::SCHEDULE_CONSTANT) => Schedule::Constant,
            k if k == kind(K::SCHEDULE_LINEAR_WARMUP) => Schedule::LinearWarmup { warmup },
            k if k == kind(K::SCHEDULE_LINEAR_DECAY) => Schedule::LinearDecay { warmup, total },
            k if k == kind(K::SCHEDULE_COSINE) => Schedule::Cosine {
                warmup,
                total,
                final_value: self.final_value,
            },
            k if k == kind(K::SCHEDULE_WARMUP_STABLE_DECAY) => Schedule::WarmupStableDecay {
                warmup,
                decay,
                total,
            },
            k if k == kind(K::SCHEDULE_POLYNOMIAL) => Schedule::Polynomial {
                warmup,
                total,
                power: self.power,
            },
            k if k == kind(K::SCHEDULE_FACTORIAL_POWER) => Schedule::FactorialPower {
                warmup,
                alpha: self.power,
                offset: self.offset,
            },
            _ => return Err(freestep_status::INVALID_HYPERPARAMETER),
        })
    }
}

/// Writes the multiplier of `schedule` at step `step` (from 0) into `*out`:
/// finite, in [0, 1].
///
/// An unknown `kind` or a parameter out of range returns
/// `FREESTEP_INVALID_HYPERPARAMETER`; NULL or misaligned pointers are
/// refused. On error `*out` is not written.
///
/// # Safety
///
/// Non-NULL pointers must be valid: `schedule` for reading a
/// `freestep_schedule`, `out` for writing a `double`.
#[no_mangle]
pub unsafe extern "C" fn freestep_schedule_multiplier(
    schedule: *const freestep_schedule,
    step: u64,
    out: *mut f64,
) -> freestep_status {
    boundary(|| {
        let schedule = check_ptr(schedule)?;
        let out = Out::new(out)?;
        // SAFETY: checked non-NULL and aligned; the caller vouches that it
        // points to a `freestep_schedule`, whose fields accept any bits.
        let schedule = unsafe { schedule.as_ptr().read() }.to_core()?;
        let multiplier = schedule.multiplier(step).map_err(status_of)?;
        // SAFETY: checked non-NULL and aligned; writable by the contract.
        unsafe { out.write(multiplier) };
        Ok(())
    })
}

/// The body of `freestep_schedule_refine_*`.
///
/// # Safety
///
/// The contract of `freestep_schedule_refine_f32`.
unsafe fn refine_into<T: Float>(
    norms: *const T,
    len: usize,
    tau: f64,
    out: *mut T,
    out_len: usize,
) -> Result<(), freestep_status> {
    let norms = Buf::new(norms, len)?;
    let out = Buf::new_mut(out, out_len)?;
    disjoint(&out, &[&norms])?;
    // SAFETY: both arrays were checked for NULL, alignment, size and
    // overlap; the caller promises that their elements are valid.
    let (norms, out) = unsafe { (norms.slice(), out.slice_mut()) };
    refined::refine(norms, tau, out).map_err(status_of)
}

/// Computes the refined schedule of Defazio, Cutkosky, Mehta and
/// Mishchenko (arXiv 2310.07831) from `norms`, the `len` gradient norms an
/// earlier run recorded at its steps, and writes the multiplier of the base
/// learning rate of step `t` (from 0) into `out[t]`: finite, in (0, 1], the
/// largest exactly 1. `tau`, in [0, 1], is the width of the median filter
/// that smooths the norms, as a fraction of the run (0.1 is moderate; 0
/// filters nothing). See `freestep::schedule::refined` for the formula.
///
/// `out` holds `out_len` floats and must not overlap `norms`. Returns
/// `FREESTEP_BAD_LENGTH` when `len` is 0 or differs from `out_len`,
/// `FREESTEP_INVALID_HYPERPARAMETER` for `tau`, `FREESTEP_INVALID_NORM`
/// for a norm that is NaN, infinite, zero or negative,
/// `FREESTEP_OVERLAPPING_BUFFERS`, or a pointer status; on error `out` is
/// not written.
///
/// # Safety
///
/// Non-NULL pointers must be valid for their lengths: `norms` for reading,
/// `out` for writing.
#[no_mangle]
pub unsafe extern "C" fn freestep_schedule_refine_f32(
    norms: *const f32,
    len: usize,
    tau: f64,
    out: *mut f32,
    out_len: usize,
) -> freestep_status {
    // SAFETY: the same contract as `refine_into`.
    boundary(|| unsafe { refine_into(norms, len, tau, out, out_len) })
}

/// `freestep_schedule_refine_f32` with `double` norms and multipliers.
///
/// # Safety
///
/// As for `freestep_schedule_refine_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_schedule_refine_f64(
    norms: *const f64,
    len: usize,
    tau: f64,
    out: *mut f64,
    out_len: usize,
) -> freestep_status {
    // SAFETY: the same contract as `refine_into`.
    boundary(|| unsafe { refine_into(norms, len, tau, out, out_len) })
}

/// Writes the factorial power `x^(alpha) = Γ(x + 1) / Γ(x + 1 - alpha)`
/// into `*out` (the falling factorial `x (x - 1) … (x - alpha + 1)` for a
/// whole `alpha`), after Defazio and Gower, "The Power of Factorial
/// Powers" (ACML 2021).
///
/// Needs finite `x > -1` and `x + 1 - alpha > 0`; otherwise
/// `FREESTEP_INVALID_HYPERPARAMETER`. A NULL or misaligned `out` is
/// refused. On error `*out` is not written.
///
/// # Safety
///
/// A non-NULL `out` must be valid for writing a `double`.
#[no_mangle]
pub unsafe extern "C" fn freestep_schedule_factorial_power(
    x: f64,
    alpha: f64,
    out: *mut f64,
) -> freestep_status {
    boundary(|| {
        let out = Out::new(out)?;
        let value = factorial::factorial_power(x, alpha).map_err(status_of)?;
        // SAFETY: checked non-NULL and aligned; writable by the contract.
        unsafe { out.write(value) };
        Ok(())
    })
}

/// Writes the constants of step `step` (from 0) of the momentum method
/// whose average weights iterate `s` by the factorial power `(s + r)^(r)`:
/// the heavy-ball momentum `t / (t + r + 2)` into `*momentum` and the
/// primal-averaging weight `(r + 1) / (t + r + 1)` into `*averaging`.
/// `r = 0` is the running average; `r = 1` gives momentum `t / (t + 3)`.
///
/// Needs finite `r > -1`; otherwise `FREESTEP_INVALID_HYPERPARAMETER`.
/// NULL, misaligned or coinciding out-pointers are refused. On error
/// neither is written.
///
/// # Safety
///
/// Non-NULL pointers must be valid for writing a `double`.
#[no_mangle]
pub unsafe extern "C" fn freestep_schedule_factorial_momentum(
    step: u64,
    r: f64,
    momentum: *mut f64,
    averaging: *mut f64,
) -> freestep_status {
    boundary(|| {
        let momentum = Out::new(momentum)?;
        let averaging = Out::new(averaging)?;
        if momentum.as_ptr() == averaging.as_ptr() {
            return Err(freestep_status::OVERLAPPING_BUFFERS);
        }
        let beta = factorial::momentum(step, r).map_err(status_of)?;
        let c = factorial::averaging_weight(step, r).map_err(status_of)?;
        // SAFETY: both checked non-NULL, aligned and distinct; writable by
        // the contract.
        unsafe {
            momentum.write(beta);
            averaging.write(c);
        }
        Ok(())
    })
}
