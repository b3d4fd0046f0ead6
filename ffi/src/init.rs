//! Weight initialisation from C: the geometric-mean fan-in/fan-out rule of
//! `freestep::init`, filling a caller's array from a generator state the
//! caller keeps.

use freestep_core::init::{geometric_uniform, SplitMix64};
use freestep_core::Float;

use crate::boundary::{boundary, Buf};
use crate::status::{freestep_status, status_of};

/// The body of `freestep_init_geometric_*`.
///
/// # Safety
///
/// The contract of `freestep_init_geometric_f32`.
unsafe fn fill<T: Float>(
    weights: *mut T,
    len: usize,
    fan_in: usize,
    fan_out: usize,
    gain: f64,
    rng_state: *mut u64,
) -> Result<(), freestep_status> {
    let weights = Buf::new_mut(weights, len)?;
    let state = Buf::new_mut(rng_state, 1)?;
    if weights.overlaps(&state) {
        return Err(freestep_status::OVERLAPPING_BUFFERS);
    }
    // SAFETY: both arrays were checked for NULL, alignment and size and do
    // not overlap; the caller promises that they are valid for writing.
    let (weights, state) = unsafe { (weights.slice_mut(), state.slice_mut()) };
    let Some(state) = state.first_mut() else {
        return Err(freestep_status::NULL_POINTER);
    };
    let mut rng = SplitMix64::new(*state);
    geometric_uniform(weights, fan_in, fan_out, gain, &mut rng).map_err(status_of)?;
    *state = rng.state();
    Ok(())
}

/// Fills `weights` (`len` floats) for a layer with `fan_in` inputs and
/// `fan_out` outputs by the rule of Defazio and Bottou (arXiv 1906.04267):
/// variance `gain / sqrt(fan_in * fan_out)`, the geometric mean of the
/// fan-in and fan-out rules, drawn uniformly from `[-a, a)` with
/// `a = sqrt(3 * gain / sqrt(fan_in * fan_out))`. Use `gain = 2` for a ReLU
/// network. For a convolution, both fans include the kernel's area.
///
/// `*rng_state` is the state of a SplitMix64 generator: any value seeds it
/// (0 included), one number is drawn per weight, and the state after the
/// last is written back, so successive layers can share one stream. The
/// values are the same bits on every target.
///
/// A zero fan, or a gain that is not finite and positive or so extreme that
/// `a` overflows or rounds to 0, returns
/// `FREESTEP_INVALID_HYPERPARAMETER`; a `rng_state` inside `weights`
/// `FREESTEP_OVERLAPPING_BUFFERS`; NULL or misaligned pointers are refused
/// (`weights` may be NULL when `len` is 0). On error nothing is written.
///
/// # Safety
///
/// Non-NULL pointers must be valid: `weights` for writing `len` floats,
/// `rng_state` for reading and writing a `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn freestep_init_geometric_f32(
    weights: *mut f32,
    len: usize,
    fan_in: usize,
    fan_out: usize,
    gain: f64,
    rng_state: *mut u64,
) -> freestep_status {
    // SAFETY: the same contract as `fill`.
    boundary(|| unsafe { fill(weights, len, fan_in, fan_out, gain, rng_state) })
}

/// `freestep_init_geometric_f32` for `double` weights.
///
/// # Safety
///
/// As for `freestep_init_geometric_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_init_geometric_f64(
    weights: *mut f64,
    len: usize,
    fan_in: usize,
    fan_out: usize,
    gain: f64,
    rng_state: *mut u64,
) -> freestep_status {
    // SAFETY: the same contract as `fill`.
    boundary(|| unsafe { fill(weights, len, fan_in, fan_out, gain, rng_state) })
}
