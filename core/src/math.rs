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

/// -1, 0 or 1 (the sign step of Lion and D-Adaptation Lion).
#[inline(always)]
pub(crate) fn sign<T: Float>(x: T) -> T {
    if x > T::ZERO {
        T::ONE
    } else if x < T::ZERO {
        -T::ONE
    } else {
        T::ZERO
    }
}

/// `x / root`, with 0 where the root is 0: what the MADGRAD family's
/// references reach for an all-zero coordinate with `eps = 0` (they make the
/// root infinite; where they do not, they give NaN).
#[inline(always)]
pub(crate) fn over_root<T: Float>(x: T, root: T) -> T {
    if root == T::ZERO {
        T::ZERO
    } else {
        x / root
    }
}

/// The weights `(1 - c, c)`, `c = 1 - momentum`, of the averaging step
/// `p ← (1 - c) p + c z` of the dual-averaging rules. The references
/// multiply by `1 - c`, which need not round to `momentum` itself, so it is
/// computed the same way here.
#[inline(always)]
pub(crate) fn averaging_weights<T: Float>(momentum: f64) -> (T, T) {
    let c = 1.0 - momentum;
    (T::from_f64(1.0 - c), T::from_f64(c))
}

/// Copies `src` into `dst` element by element, as far as both reach: a
/// `copy_from_slice` that cannot panic (the callers have checked the
/// lengths).
#[inline]
pub(crate) fn copy<T: Copy>(dst: &mut [T], src: &[T]) {
    dst.iter_mut().zip(src).for_each(|(d, &s)| *d = s);
}
