//! Proximal operators: of the regulariser `h(w) = (l2/2)||w||² + l1||w||₁`,
//! and of one sample's loss for Point-SAGA.
//!
//! `prox_{γh}(v) = argmin_u h(u) + ||u - v||² / (2γ)`. For the elastic net
//! it separates by coordinate: soft-threshold by `γ·l1`, then shrink by
//! `1 / (1 + γ·l2)`; with `l2 = 0` it is the L1 soft threshold alone.
//!
//! # Per-sample prox of a linear model's loss
//!
//! Point-SAGA needs `prox_{γ f_j}(z)` for `f_j(x) = φ(a·x) + (μ/2)||x||²`,
//! with `a` the sample's row and `φ` the loss of its label. Completing the
//! square folds the `μ` term into the prox's quadratic: with
//! `c = 1 / (1 + γμ)` it is `prox_{cγ φ(a·)}(c z)`. For any `φ`, the
//! minimiser of `φ(a·x) + ||x - z'||² / (2γ')` is `x = z' - γ' φ'(t) a`,
//! where `t = a·x` solves the scalar equation
//!
//! ```text
//! t = a·z' - γ' ||a||² φ'(t)
//! ```
//!
//! Squared loss `φ(t) = (t - y)²/2` solves it in closed form; logistic loss
//! `φ(t) = log(1 + exp(-y t))` (y = ±1) by a bracketed Newton iteration run
//! until the iterate stops moving; hinge loss `φ(t) = max(0, 1 - y t)` by
//! its three cases (right of the kink, left of it, on it). All scalar work
//! is in `f64`.

use crate::float::Float;

/// `sign(v) · max(|v| - t, 0)`: the prox of `t·|·|`.
#[inline(always)]
pub fn soft_threshold<T: Float>(v: T, t: T) -> T {
    if v > t {
        v - t
    } else if v < -t {
        v + t
    } else {
        T::ZERO
    }
}

/// The prox of `γ·h` at one coordinate `v`, for `h` the elastic net with
/// weights `l1`, `l2`: given `t = γ·l1` and `shrink = 1 / (1 + γ·l2)`.
#[inline(always)]
pub fn elastic_net<T: Float>(v: T, t: T, shrink: T) -> T {
    soft_threshold(v, t) * shrink
}

/// The per-element constants of [`elastic_net`] for step `gamma`.
pub(crate) fn elastic_net_constants<T: Float>(gamma: f64, l1: f64, l2: f64) -> (T, T) {
    (
        T::from_f64(gamma * l1),
        T::from_f64(1.0 / (1.0 + gamma * l2)),
    )
}

/// A loss of a linear model, with labels `y` (`±1` for logistic and hinge,
/// any real for squared).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Loss {
    /// `(t - y)² / 2`.
    Squared = 0,
    /// `log(1 + exp(-y t))`.
    Logistic = 1,
    /// `max(0, 1 - y t)` (not smooth: no Lipschitz constant of its
    /// gradient exists).
    Hinge = 2,
}

/// `1 / (1 + exp(-u))`, without overflow.
pub fn sigmoid(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + libm::exp(-u))
    } else {
        let e = libm::exp(u);
        e / (1.0 + e)
    }
}

impl Loss {
    /// The loss at margin `t = a·w` for label `y`.
    pub fn value(self, t: f64, y: f64) -> f64 {
        match self {
            Loss::Squared => 0.5 * (t - y) * (t - y),
            Loss::Logistic => {
                // log(1 + exp(-m)), computed without overflow.
                let m = y * t;
                if m > 0.0 {
                    libm::log1p(libm::exp(-m))
                } else {
                    -m + libm::log1p(libm::exp(m))
                }
            }
            Loss::Hinge => (1.0 - y * t).max(0.0),
        }
    }

    /// `φ'(t)` (for hinge, the subgradient 0 at the kink).
    pub fn derivative(self, t: f64, y: f64) -> f64 {
        match self {
            Loss::Squared => t - y,
            Loss::Logistic => -y * sigmoid(-y * t),
            Loss::Hinge => {
                if y * t < 1.0 {
                    -y
                } else {
                    0.0
                }
            }
        }
    }

    /// The scalar prox: for `t0 = a·z'`, `q = γ'||a||²`, the `φ'(t)` at the
    /// root of `t = t0 - q φ'(t)`. The prox point is `z' - γ' φ'(t) a`.
    pub fn prox_scalar(self, t0: f64, q: f64, y: f64) -> f64 {
        if q <= 0.0 {
            return self.derivative(t0, y);
        }
        match self {
            // t = t0 - q (t - y)  ⇔  t = (t0 + q y) / (1 + q).
            Loss::Squared => (t0 - y) / (1.0 + q),
            Loss::Logistic => logistic_prox(t0, q, y),
            Loss::Hinge => {
                if y * t0 >= 1.0 {
                    // Right of the kink already: φ' = 0 and x = z'.
                    0.0
                } else if y * t0 + q <= 1.0 {
                    // The full step t = t0 + q y stays left of the kink.
                    -y
                } else {
                    // The step stops on the kink, y t = 1: t0 - q g = y.
                    (t0 - y) / q
                }
            }
        }
    }
}

/// Root of `h(t) = t - t0 + q φ'(t)` for the logistic loss. `h` is
/// increasing (`h' = 1 + q σ(yt) σ(-yt) ≥ 1`) and, since `φ'` lies strictly
/// between 0 and `-y`, the root lies between `t0` and `t0 + q y`. Newton
/// steps that leave the bracket are replaced by bisection. Returns `φ'(t)`.
fn logistic_prox(t0: f64, q: f64, y: f64) -> f64 {
    let (mut lo, mut hi) = if y > 0.0 {
        (t0, t0 + q * y)
    } else {
        (t0 + q * y, t0)
    };
    let h = |t: f64| t - t0 + q * Loss::Logistic.derivative(t, y);
    let mut t = t0;
    // Newton converges quadratically; bisection halves the bracket. 200
    // iterations cover either to the last bit from any finite start.
    for _ in 0..200 {
        let ht = h(t);
        if ht == 0.0 {
            break;
        }
        if ht > 0.0 {
            hi = t;
        } else {
            lo = t;
        }
        let s = sigmoid(y * t);
        let slope = 1.0 + q * s * (1.0 - s);
        let mut next = t - ht / slope;
        if !(next > lo && next < hi) {
            next = lo + 0.5 * (hi - lo);
        }
        if next == t || lo >= hi {
            break;
        }
        t = next;
    }
    Loss::Logistic.derivative(t, y)
}
