//! Small element-wise helpers shared by the rules.

use crate::float::Float;

/// `a + w (b - a)`, evaluated as torch's `lerp` does: from `a` for weights
/// below one half and from `b` otherwise, which keeps `lerp(a, b, 1) == b`
/// exact.
#[inline(always)]
pub(crate) fn lerp<T: Float>(a: T, b: T, w: T, from_end: bool) -> T {
    if from_end {
        b - (b - a) * (T::ONE - w)
    } else {
        a + w * (b - a)
    }
}

/// Whether [`lerp`] with weight `w` evaluates from the end point.
#[inline(always)]
pub(crate) fn lerp_from_end(w: f64) -> bool {
    w.abs() >= 0.5
}

/// `base^exp` for the per-step scalars, the same on every target.
#[inline]
pub(crate) fn powf(base: f64, exp: f64) -> f64 {
    libm::pow(base, exp)
}

/// True when `x` is finite and inside `lo..=hi`.
#[inline]
pub(crate) fn within(x: f64, lo: f64, hi: f64) -> bool {
    x.is_finite() && x >= lo && x <= hi
}
