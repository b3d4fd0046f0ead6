//! The element type of parameters, gradients and state: `f32` or `f64`.
//!
//! Every rule is written once against [`Float`]. Hyperparameters and the
//! scalar state of a rule (step count, `d`, averaging weights) are always
//! `f64`, as they are Python floats in the reference implementations; only the
//! per-parameter buffers use the element type. Each step converts the few
//! per-step scalars to the element type once, outside the per-element loop.

use core::fmt::Debug;
use core::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type: implemented for `f32` and `f64` only.
///
/// The square root is the correctly rounded one on every target, so a
/// trajectory has the same bits wherever it is computed.
pub trait Float:
    sealed::Sealed
    + Copy
    + Default
    + Debug
    + PartialEq
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;

    /// Rounds an `f64` to this type (exact for `f64`).
    fn from_f64(x: f64) -> Self;
    /// Widens to `f64` (always exact).
    fn to_f64(self) -> f64;
    /// The correctly rounded square root.
    fn sqrt(self) -> Self;
    /// The absolute value.
    fn abs(self) -> Self;
    /// True unless the value is NaN or infinite.
    fn is_finite(self) -> bool;
    /// The larger of two values; NaN loses, as in IEEE `maxNum`.
    fn max(self, other: Self) -> Self;
    /// The real cube root (libm's, the same bits on every target).
    fn cbrt(self) -> Self;
}

impl Float for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        #[cfg(feature = "std")]
        return std::primitive::f32::sqrt(self);
        #[cfg(all(not(feature = "std"), fpu_sqrtf))]
        return fpu::sqrtf(self);
        #[cfg(all(not(feature = "std"), not(fpu_sqrtf)))]
        return libm::sqrtf(self);
    }
    #[inline(always)]
    fn abs(self) -> Self {
        libm::fabsf(self)
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        f32::max(self, other)
    }
    #[inline(always)]
    fn cbrt(self) -> Self {
        libm::cbrtf(self)
    }
}

impl Float for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        #[cfg(feature = "std")]
        return std::primitive::f64::sqrt(self);
        #[cfg(not(feature = "std"))]
        return libm::sqrt(self);
    }
    #[inline(always)]
    fn abs(self) -> Self {
        libm::fabs(self)
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        f64::max(self, other)
    }
    #[inline(always)]
    fn cbrt(self) -> Self {
        libm::cbrt(self)
    }
}

/// The FPU's square root on bare-metal Arm cores with a single-precision FPU
/// (Cortex-M4F, M7, M33: thumbv7em and thumbv8m.main, `eabihf`).
///
/// Without std, Rust has no stable way to reach the `vsqrt.f32` instruction:
/// `f32::sqrt` lives in std, and `libm::sqrtf` is an integer routine of some
/// hundred instructions on Arm. IEEE 754 requires square root to be correctly
/// rounded, so the instruction and libm give the same bits; this module only
/// makes it cheaper. The instruction sits in a two-instruction assembly
/// function, and calling a foreign function is the one `unsafe` of this crate.
#[cfg(all(not(feature = "std"), fpu_sqrtf))]
#[allow(unsafe_code)]
mod fpu {
    core::arch::global_asm!(
        ".pushsection .text.__freestep_fpu_sqrtf,\"ax\",%progbits",
        // Weak: two copies of freestep in one firmware (the crate and
        // libfreestep.a) bring two identical definitions, and that is fine.
        ".weak __freestep_fpu_sqrtf",
        ".type __freestep_fpu_sqrtf,%function",
        ".thumb_func",
        "__freestep_fpu_sqrtf:",
        // The module assembler does not see the target's FPU features.
        ".fpu fpv4-sp-d16",
        "vsqrt.f32 s0, s0",
        "bx lr",
        ".size __freestep_fpu_sqrtf, . - __freestep_fpu_sqrtf",
        ".popsection",
    );

    extern "C" {
        /// Takes and returns its value in `s0`, as the hard-float ABI of
        /// these targets passes an `f32`.
        fn __freestep_fpu_sqrtf(x: f32) -> f32;
    }

    #[inline(always)]
    pub(super) fn sqrtf(x: f32) -> f32 {
        // SAFETY: the function above reads only s0 and writes only s0, which
        // the C ABI lets a callee clobber; it touches no memory.
        unsafe { __freestep_fpu_sqrtf(x) }
    }
}
