//! Learning-rate schedules from C: a plain struct naming the schedule and
//! its parameters, and one function that evaluates it at a step.
//!
//! A trainer calls `freestep_schedule_multiplier` before each step and sets
//! the optimizer's learning rate to its base rate times the result
//! (`freestep_optimizer_set_lr`).

use freestep_core::Schedule;

use crate::boundary::{boundary, check_ptr, Out};
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
    /// Polynomial: the exponent, > 0.
    pub power: f64,
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
