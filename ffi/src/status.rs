//! The status every fallible function returns, its messages, and the one
//! place where core errors become statuses.

use core::ffi::{c_char, CStr};

use freestep_core::Error;

/// The result of a call. `FREESTEP_OK` is 0; every other value names one
/// cause. The numbers are stable: a retired number is never reused.
///
/// The type is 32 bits wide on every target, whatever the C compiler's enum
/// size.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum freestep_status {
    /// Success.
    OK = 0,
    /// A pointer that must not be NULL was NULL.
    NULL_POINTER = 1,
    /// A pointer is not aligned for the type it points to.
    MISALIGNED_POINTER = 2,
    /// The parameter, gradient or output length is not the optimizer's
    /// parameter count.
    BAD_LENGTH = 3,
    /// The state length is not what `freestep_optimizer_state_len` reports.
    BAD_STATE_LENGTH = 4,
    /// A gradient is NaN or infinite; the step was refused.
    NON_FINITE_GRADIENT = 5,
    /// A hyperparameter (or a new learning rate) is out of its range.
    INVALID_HYPERPARAMETER = 6,
    /// More groups than `FREESTEP_MAX_GROUPS`.
    TOO_MANY_GROUPS = 7,
    /// The group lengths do not add up to the parameter count.
    GROUPS_DO_NOT_COVER = 8,
    /// A group multiplier is negative or not finite.
    INVALID_GROUP = 9,
    /// A Schedule-Free optimizer holds the eval weights; call
    /// `freestep_optimizer_train_*` before stepping.
    EVAL_MODE = 10,
    /// A phased-step range is out of bounds or does not start on a multiple
    /// of `FREESTEP_TILE`.
    BAD_RANGE = 11,
    /// The combined partial does not cover every parameter exactly once.
    INCOMPLETE_PARTIAL = 12,
    /// `freestep_optimizer_update_*` was called before any
    /// `freestep_optimizer_finish`.
    NO_PENDING_STEP = 13,
    /// The call's element type (or a partial's) is not the optimizer's.
    WRONG_PRECISION = 14,
    /// The memory does not hold an initialised optimizer of this library
    /// version.
    NOT_AN_OPTIMIZER = 15,
    /// The memory does not hold a partial written by this library version.
    NOT_A_PARTIAL = 16,
    /// The caller's block is smaller than `freestep_optimizer_size()`.
    BUFFER_TOO_SMALL = 17,
    /// The optimizer's rule does not have this operation (for example eval
    /// weights on a rule that is not Schedule-Free).
    UNSUPPORTED = 18,
    /// A buffer the call writes overlaps another buffer of the same call.
    OVERLAPPING_BUFFERS = 19,
    /// The precision argument is neither `FREESTEP_F32` nor `FREESTEP_F64`.
    INVALID_PRECISION = 20,
    /// The core library reported an error this version of the C ABI does
    /// not know.
    UNKNOWN_ERROR = 21,
    /// The rule reads the loss (MoMo, MoMo-Adam); step with
    /// `freestep_optimizer_step_loss_*` or `freestep_optimizer_finish_loss`.
    MISSING_LOSS = 22,
    /// The loss given to the step is NaN or infinite; the step was refused.
    NON_FINITE_LOSS = 23,
    /// A finite-sum sample index is not below the sample count, or, while a
    /// snapshot or table is filled in order, not the next index.
    SAMPLE_INDEX = 24,
    /// A finite-sum state array (the table) does not have the length
    /// `freestep_finite_sum_state_len` gives.
    BAD_TABLE_LENGTH = 25,
    /// The table form does not fit: a linear table for Point-SAGA, or an
    /// unknown form.
    WRONG_TABLE_FORM = 26,
    /// A finite-sum method cannot step yet: SVRG's snapshot or Finito's
    /// table is not complete.
    NOT_READY = 27,
    /// A recorded gradient norm given to `freestep_schedule_refine_*` is
    /// NaN, infinite, zero or negative.
    INVALID_NORM = 28,
}

/// A `freestep_status` as C passes it to `freestep_status_message`: any
/// 32-bit number. The header shows it as `freestep_status` (see
/// `ffi/cbindgen.toml`).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawStatus(pub u32);

/// The status of a core error. Every conversion from a core error to a
/// status goes through here.
pub(crate) fn status_of(error: Error) -> freestep_status {
    use freestep_status as S;
    match error {
        Error::Length => S::BAD_LENGTH,
        Error::StateLength => S::BAD_STATE_LENGTH,
        Error::NonFiniteGradient => S::NON_FINITE_GRADIENT,
        Error::InvalidHyperparameter(_) => S::INVALID_HYPERPARAMETER,
        Error::TooManyGroups => S::TOO_MANY_GROUPS,
        Error::GroupsDoNotCover => S::GROUPS_DO_NOT_COVER,
        Error::InvalidGroup => S::INVALID_GROUP,
        Error::EvalMode => S::EVAL_MODE,
        Error::BadRange => S::BAD_RANGE,
        Error::IncompletePartial => S::INCOMPLETE_PARTIAL,
        Error::NoPendingStep => S::NO_PENDING_STEP,
        Error::MissingLoss => S::MISSING_LOSS,
        Error::NonFiniteLoss => S::NON_FINITE_LOSS,
        Error::SampleIndex => S::SAMPLE_INDEX,
        Error::TableLength => S::BAD_TABLE_LENGTH,
        Error::TableForm => S::WRONG_TABLE_FORM,
        Error::NotReady => S::NOT_READY,
        Error::InvalidNorm => S::INVALID_NORM,
        _ => S::UNKNOWN_ERROR,
    }
}

/// Copies `s` into a NUL-terminated array at compile time.
// Only ever evaluated in constants, where a bad index fails the build.
#[allow(clippy::indexing_slicing)]
const fn nul_terminated<const N: usize>(s: &str) -> [u8; N] {
    let bytes = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < bytes.len() && i + 1 < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// The text of a core error as a C string, built at compile time from
/// [`Error::message`] so the two can never drift apart.
macro_rules! core_message {
    ($error:expr) => {{
        const TEXT: &str = $error.message();
        const BYTES: [u8; TEXT.len() + 1] = nul_terminated(TEXT);
        const C: &CStr = match CStr::from_bytes_with_nul(&BYTES) {
            Ok(c) => c,
            Err(_) => c"freestep: message contains a NUL byte",
        };
        C
    }};
}

/// The message of a status number, including numbers no status has.
fn message(status: u32) -> &'static CStr {
    use freestep_status as S;
    const ALL: [freestep_status; 29] = [
        S::OK,
        S::NULL_POINTER,
        S::MISALIGNED_POINTER,
        S::BAD_LENGTH,
        S::BAD_STATE_LENGTH,
        S::NON_FINITE_GRADIENT,
        S::INVALID_HYPERPARAMETER,
        S::TOO_MANY_GROUPS,
        S::GROUPS_DO_NOT_COVER,
        S::INVALID_GROUP,
        S::EVAL_MODE,
        S::BAD_RANGE,
        S::INCOMPLETE_PARTIAL,
        S::NO_PENDING_STEP,
        S::WRONG_PRECISION,
        S::NOT_AN_OPTIMIZER,
        S::NOT_A_PARTIAL,
        S::BUFFER_TOO_SMALL,
        S::UNSUPPORTED,
        S::OVERLAPPING_BUFFERS,
        S::INVALID_PRECISION,
        S::UNKNOWN_ERROR,
        S::MISSING_LOSS,
        S::NON_FINITE_LOSS,
        S::SAMPLE_INDEX,
        S::BAD_TABLE_LENGTH,
        S::WRONG_TABLE_FORM,
        S::NOT_READY,
        S::INVALID_NORM,
    ];
    let Some(&status) = ALL.iter().find(|s| **s as u32 == status) else {
        return c"unknown freestep status";
    };
    match status {
        S::OK => c"success",
        S::NULL_POINTER => c"a required pointer is NULL",
        S::MISALIGNED_POINTER => c"a pointer is not aligned for its type",
        S::BAD_LENGTH => core_message!(Error::Length),
        S::BAD_STATE_LENGTH => core_message!(Error::StateLength),
        S::NON_FINITE_GRADIENT => core_message!(Error::NonFiniteGradient),
        S::INVALID_HYPERPARAMETER => core_message!(Error::InvalidHyperparameter("")),
        S::TOO_MANY_GROUPS => core_message!(Error::TooManyGroups),
        S::GROUPS_DO_NOT_COVER => core_message!(Error::GroupsDoNotCover),
        S::INVALID_GROUP => core_message!(Error::InvalidGroup),
        S::EVAL_MODE => core_message!(Error::EvalMode),
        S::BAD_RANGE => core_message!(Error::BadRange),
        S::INCOMPLETE_PARTIAL => core_message!(Error::IncompletePartial),
        S::NO_PENDING_STEP => core_message!(Error::NoPendingStep),
        S::WRONG_PRECISION => c"element type does not match the optimizer's precision",
        S::NOT_AN_OPTIMIZER => c"memory does not hold an initialised freestep optimizer",
        S::NOT_A_PARTIAL => c"memory does not hold a freestep partial",
        S::BUFFER_TOO_SMALL => c"optimizer memory is smaller than freestep_optimizer_size()",
        S::UNSUPPORTED => c"operation not supported by this optimizer's rule",
        S::OVERLAPPING_BUFFERS => c"a written buffer overlaps another buffer of the call",
        S::INVALID_PRECISION => c"precision is neither FREESTEP_F32 nor FREESTEP_F64",
        S::UNKNOWN_ERROR => c"error unknown to this version of the C ABI",
        S::MISSING_LOSS => core_message!(Error::MissingLoss),
        S::NON_FINITE_LOSS => core_message!(Error::NonFiniteLoss),
        S::SAMPLE_INDEX => core_message!(Error::SampleIndex),
        S::BAD_TABLE_LENGTH => core_message!(Error::TableLength),
        S::WRONG_TABLE_FORM => core_message!(Error::TableForm),
        S::NOT_READY => core_message!(Error::NotReady),
        S::INVALID_NORM => core_message!(Error::InvalidNorm),
    }
}

/// A one-line, NUL-terminated English description of `status` (a
/// `freestep_status` value). Any other number gives a message saying it is
/// unknown, so the result is never NULL. The string is static: do not free
/// or modify it.
#[no_mangle]
pub extern "C" fn freestep_status_message(status: RawStatus) -> *const c_char {
    message(status.0).as_ptr()
}

/// The library version as a static, NUL-terminated string such as "0.1.0";
/// the header's `FREESTEP_VERSION_MAJOR`, `_MINOR` and `_PATCH` give the
/// version it was generated for. Never NULL; do not free it.
#[no_mangle]
pub extern "C" fn freestep_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(c) => c,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn core_messages_are_the_c_messages() {
        let errors = [
            Error::Length,
            Error::StateLength,
            Error::NonFiniteGradient,
            Error::InvalidHyperparameter("lr"),
            Error::TooManyGroups,
            Error::GroupsDoNotCover,
            Error::InvalidGroup,
            Error::EvalMode,
            Error::BadRange,
            Error::IncompletePartial,
            Error::NoPendingStep,
            Error::MissingLoss,
            Error::NonFiniteLoss,
            Error::SampleIndex,
            Error::TableLength,
            Error::TableForm,
            Error::NotReady,
            Error::InvalidNorm,
        ];
        for e in errors {
            let text = message(status_of(e) as u32).to_str().unwrap();
            assert_eq!(text, e.message());
        }
    }

    #[test]
    fn every_number_has_a_message() {
        assert_eq!(message(0), c"success");
        assert_eq!(message(29), c"unknown freestep status");
        assert_eq!(message(u32::MAX), c"unknown freestep status");
        for n in 1..29 {
            assert_ne!(message(n), c"unknown freestep status", "status {n}");
        }
    }

    #[test]
    fn version_is_the_crate_version() {
        // SAFETY: freestep_version returns a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(freestep_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
