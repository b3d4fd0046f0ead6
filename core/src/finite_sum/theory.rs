//! Step sizes from the papers' theory, and Lipschitz constants estimated
//! from the data rows.
//!
//! For a linear model with loss `φ(x_i·w)`, the gradient of sample `i` is
//! Lipschitz with `L_i = φ''_max ||x_i||²`: `||x_i||²/4` for the logistic
//! loss and `||x_i||²` for the squared loss; with the `l2` term counted in
//! the sample, `L_i + l2`. `L` below is the largest `L_i` and `μ` the strong
//! convexity constant (`l2` for these objectives).
//!
//! The defaults, with where they come from:
//!
//! - SAGA: `1 / (3L)`, the step of Defazio et al. 2014 whose rate adapts to
//!   any `μ ≥ 0`.
//! - SAG, uniform or permutation sampling: `1 / L`, the step Schmidt, Le
//!   Roux and Bach use in practice; their proof needs `1 / (16L)`
//!   ([`sag_proven`]), which is far slower.
//! - SAG, Lipschitz sampling: `1 / L̄`, `L̄` the mean `L_i`, the step of the
//!   non-uniform SAG of Schmidt et al. 2015.
//! - SVRG: `1 / (10L)` (Johnson and Zhang's `η = 0.1/L`), `n` inner steps.
//! - Finito: `1 / (α μ n)` with `α = 2` (Defazio, Caetano and Domke 2014).
//! - Point-SAGA: `√((n-1)² + 4nL/μ) / (2Ln) - (1 - 1/n) / (2L)`, the step of
//!   Defazio 2016 for `L`-smooth, `μ`-strongly convex `f_i`.
//!
//! The theorem numbers of the papers are not cited here; the formulas are.

use crate::error::Error;
use crate::finite_sum::prox::Loss;
use crate::float::Float;

/// `||row||²` in `f64`.
pub fn norm_squared<T: Float>(row: &[T]) -> f64 {
    row.iter().map(|v| v.to_f64() * v.to_f64()).sum()
}

/// The Lipschitz constant of one sample's loss gradient, `l2` included:
/// `||x||²/4 + l2` (logistic) or `||x||² + l2` (squared). Hinge loss has
/// none and is refused.
pub fn sample_lipschitz<T: Float>(loss: Loss, row: &[T], l2: f64) -> Result<f64, Error> {
    let q = norm_squared(row);
    let curvature = match loss {
        Loss::Logistic => 0.25,
        Loss::Squared => 1.0,
        Loss::Hinge => return Err(Error::InvalidHyperparameter("loss")),
    };
    if !(l2.is_finite() && l2 >= 0.0) {
        return Err(Error::InvalidHyperparameter("l2"));
    }
    let l = curvature * q + l2;
    if l.is_finite() {
        Ok(l)
    } else {
        Err(Error::NonFiniteGradient)
    }
}

/// The largest and the mean per-sample Lipschitz constant of a row-major
/// `n × d` data matrix.
pub fn lipschitz<T: Float>(loss: Loss, x: &[T], d: usize, l2: f64) -> Result<(f64, f64), Error> {
    if d == 0 || x.is_empty() || x.len() % d != 0 {
        return Err(Error::Length);
    }
    let (mut max, mut sum) = (0.0f64, 0.0f64);
    for row in x.chunks_exact(d) {
        let l = sample_lipschitz(loss, row, l2)?;
        max = max.max(l);
        sum += l;
    }
    Ok((max, sum / (x.len() / d) as f64))
}

fn positive(x: f64, name: &'static str) -> Result<f64, Error> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(Error::InvalidHyperparameter(name))
    }
}

/// SAGA's `1 / (3L)`.
pub fn saga(l: f64) -> Result<f64, Error> {
    Ok(1.0 / (3.0 * positive(l, "lipschitz")?))
}

/// SAG's practical `1 / L` (pass the mean `L_i` for Lipschitz sampling).
pub fn sag(l: f64) -> Result<f64, Error> {
    Ok(1.0 / positive(l, "lipschitz")?)
}

/// SAG's proven `1 / (16L)`.
pub fn sag_proven(l: f64) -> Result<f64, Error> {
    Ok(1.0 / (16.0 * positive(l, "lipschitz")?))
}

/// SVRG's `1 / (10L)`.
pub fn svrg(l: f64) -> Result<f64, Error> {
    Ok(1.0 / (10.0 * positive(l, "lipschitz")?))
}

/// Finito's `1 / (α μ n)`.
pub fn finito(alpha: f64, mu: f64, n: usize) -> Result<f64, Error> {
    let alpha = positive(alpha, "alpha")?;
    let mu = positive(mu, "l2")?;
    positive(1.0 / (alpha * mu * n as f64), "n")
}

/// Point-SAGA's `γ` for `n` samples, `L`-smooth and `μ`-strongly convex.
pub fn point_saga(l: f64, mu: f64, n: usize) -> Result<f64, Error> {
    let l = positive(l, "lipschitz")?;
    let mu = positive(mu, "l2")?;
    let n = positive(n as f64, "n")?;
    let root = libm::sqrt((n - 1.0) * (n - 1.0) + 4.0 * n * l / mu);
    positive(
        root / (2.0 * l * n) - (1.0 - 1.0 / n) / (2.0 * l),
        "lipschitz",
    )
}
