//! Factorial powers, after Defazio and Gower, "The Power of Factorial
//! Powers: New Parameter settings for (Stochastic) Optimization" (ACML
//! 2021): sequences for step sizes and momentum constants whose sums and
//! ratios have closed forms, as pure functions of the step.
//!
//! The factorial power of `x` to the `α` is
//! `x^(α) = Γ(x + 1) / Γ(x + 1 - α)` (the falling factorial
//! `x (x - 1) … (x - α + 1)` for a whole `α`). It behaves like `x^α`, but
//! where powers only have approximate sums, factorial powers telescope
//! exactly: `(x + 1)^(α) - x^(α) = α x^(α - 1)`, so
//! `Σ_{s=a}^{n} s^(α) = ((n + 1)^(α + 1) - a^(α + 1)) / (α + 1)`, and
//! `x^(α) / (x - 1)^(α) = x / (x - α)`. Convergence proofs that need the
//! sums of their step sizes or averaging weights become exact with them.
//!
//! Three uses are provided:
//!
//! - [`factorial_power`] itself.
//! - The step-size decay [`Schedule::FactorialPower`](super::Schedule):
//!   `(s + c)^(-α) / c^(-α)` at `s` steps after the warmup, with offset
//!   `c`; like `(c / (s + c))^α` (so `α = 1/2` is a `1/√t` decay) but with
//!   exact partial sums.
//! - The constants of the momentum method as primal averaging
//!   (`z ← z - γ_t g`, `x ← (1 - c_t) x + c_t z`) when the average weights
//!   iterate `s` by `(s + r)^(r)`: the weights sum to
//!   `(t + r + 1)^(r + 1) / (r + 1)`, so the averaging constant is
//!   [`averaging_weight`] `c_t = (r + 1) / (t + r + 1)`, and the same
//!   iterates are heavy-ball momentum `x ← x - c_{t+1} γ_t g + β_t (x -
//!   x_prev)` with [`momentum`] `β_t = c_{t+1} (1 - c_t) / c_t = t / (t +
//!   r + 2)`. `r = 0` is the plain running average; `r = 1` gives
//!   `β_t = t / (t + 3)`. Both are ratios of integers and `r`, with no
//!   Gamma function to round.
//!
//! The derivations of the last two from the definition and the sum rule
//! are written in the tests. A non-whole `α` is computed as
//! `exp(lgamma(x + 1) - lgamma(x + 1 - α))` with libm's software routines,
//! the same bits on every target; its relative error grows with
//! `x ln x` times the rounding unit (about 1e-9 at `x = 10^6`). A whole
//! `α` is a product of at most 64 factors.

use crate::error::Error;

/// The largest whole `|α|` computed as a product of factors.
const MAX_PRODUCT: f64 = 64.0;

/// `x^(α) = Γ(x + 1) / Γ(x + 1 - α)`, positive, for finite `x > -1` and
/// `α` with `x + 1 - α > 0` (both Gamma functions at positive arguments);
/// otherwise [`Error::InvalidHyperparameter`] naming `"x"` or `"alpha"`.
/// Like `x^α`, it overflows to infinity or underflows to 0 when the
/// arguments are extreme.
///
/// # Examples
///
/// ```
/// use freestep::schedule::factorial::factorial_power;
///
/// assert_eq!(factorial_power(5.0, 3.0).unwrap(), 60.0); // 5 · 4 · 3
/// assert_eq!(factorial_power(3.0, -2.0).unwrap(), 1.0 / 20.0); // 1 / (4 · 5)
/// ```
pub fn factorial_power(x: f64, alpha: f64) -> Result<f64, Error> {
    if !(x.is_finite() && x > -1.0) {
        return Err(Error::InvalidHyperparameter("x"));
    }
    if !(alpha.is_finite() && x + 1.0 - alpha > 0.0) {
        return Err(Error::InvalidHyperparameter("alpha"));
    }
    Ok(power_unchecked(x, alpha))
}

/// [`factorial_power`] without the checks.
fn power_unchecked(x: f64, alpha: f64) -> f64 {
    let whole = libm::floor(alpha) == alpha && libm::fabs(alpha) <= MAX_PRODUCT;
    if whole && alpha >= 0.0 {
        // x (x - 1) … (x - α + 1); every factor is positive.
        (0..alpha as u32).fold(1.0, |p, i| p * (x - i as f64))
    } else if whole {
        // 1 / ((x + 1) … (x - α)).
        1.0 / (1..=(-alpha) as u32).fold(1.0, |p, i| p * (x + i as f64))
    } else {
        libm::exp(libm::lgamma(x + 1.0) - libm::lgamma(x + 1.0 - alpha))
    }
}

/// The largest offset and exponent of
/// [`Schedule::FactorialPower`](super::Schedule): `2^53`, so that every
/// Gamma function the decay evaluates stays finite.
pub(crate) const MAX_DECAY_ARGUMENT: f64 = 9_007_199_254_740_992.0;

/// The multiplier of [`Schedule::FactorialPower`](super::Schedule) `s`
/// steps after its warmup: `(s + c)^(-α) / c^(-α)`, in `[0, 1]`, 1 at
/// `s = 0`. The caller has checked `0 <= α <= 2^53` and `0 <= c <= 2^53`.
///
/// The quotient is never formed from the two powers, which overflow or
/// underflow long before it does: for a whole `α` it is the product of the
/// `α` factors `(c + i) / (s + c + i)`, each in `(0, 1]`, and otherwise the
/// exponential of a difference of differences of `lgamma`, all finite.
pub(crate) fn decay(s: u64, alpha: f64, offset: f64) -> f64 {
    if s == 0 || alpha == 0.0 {
        return 1.0;
    }
    let x = s as f64 + offset;
    let whole = libm::floor(alpha) == alpha && alpha <= MAX_PRODUCT;
    let ratio = if whole {
        (1..=alpha as u32).fold(1.0, |p, i| p * ((offset + i as f64) / (x + i as f64)))
    } else {
        let log_power = |y: f64| libm::lgamma(y + 1.0) - libm::lgamma(y + 1.0 + alpha);
        libm::exp(log_power(x) - log_power(offset))
    };
    // Each form is in [0, 1] but for rounding.
    ratio.clamp(0.0, 1.0)
}

/// The averaging constant `c_t = (r + 1) / (t + r + 1)` of step `t` (from
/// 0; `c_0 = 1`) when iterate `s` has weight `(s + r)^(r)`, for finite
/// `r > -1`; otherwise [`Error::InvalidHyperparameter`] `"r"`.
///
/// # Examples
///
/// ```
/// use freestep::schedule::factorial::averaging_weight;
///
/// assert_eq!(averaging_weight(3, 1.0).unwrap(), 2.0 / 5.0);
/// ```
pub fn averaging_weight(t: u64, r: f64) -> Result<f64, Error> {
    check_r(r)?;
    Ok((r + 1.0) / (t as f64 + r + 1.0))
}

/// The heavy-ball momentum `β_t = t / (t + r + 2)` of step `t` (from 0;
/// `β_0 = 0`) that reproduces the factorial-power average of
/// [`averaging_weight`], for finite `r > -1`; otherwise
/// [`Error::InvalidHyperparameter`] `"r"`. The matching heavy-ball step
/// size is `c_{t+1} γ_t`.
///
/// # Examples
///
/// ```
/// use freestep::schedule::factorial::momentum;
///
/// assert_eq!(momentum(3, 1.0).unwrap(), 0.5); // 3 / 6
/// ```
pub fn momentum(t: u64, r: f64) -> Result<f64, Error> {
    check_r(r)?;
    Ok(t as f64 / (t as f64 + r + 2.0))
}

fn check_r(r: f64) -> Result<(), Error> {
    match r.is_finite() && r > -1.0 {
        true => Ok(()),
        false => Err(Error::InvalidHyperparameter("r")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs()
    }

    #[test]
    fn whole_powers_are_falling_factorials() {
        // 6^(2) = 6 · 5; 6^(0) = 1; 6^(-1) = 1 / 7; 2^(-3) = 1 / (3 · 4 · 5).
        assert_eq!(factorial_power(6.0, 2.0).unwrap(), 30.0);
        assert_eq!(factorial_power(6.0, 0.0).unwrap(), 1.0);
        assert_eq!(factorial_power(6.0, -1.0).unwrap(), 1.0 / 7.0);
        assert_eq!(factorial_power(2.0, -3.0).unwrap(), 1.0 / 60.0);
    }

    #[test]
    fn half_powers_match_the_gamma_function() {
        // Γ(1/2) = √π, so Γ(3/2) = √π / 2 and Γ(5/2) = 3√π / 4:
        // 1^(1/2) = Γ(2) / Γ(3/2) = 2 / √π; 2^(-1/2) = Γ(3) / Γ(7/2) with
        // Γ(7/2) = 15√π / 8: 16 / (15√π).
        let sqrt_pi = core::f64::consts::PI.sqrt();
        assert!(close(
            factorial_power(1.0, 0.5).unwrap(),
            2.0 / sqrt_pi,
            1e-14
        ));
        let want = 16.0 / (15.0 * sqrt_pi);
        assert!(close(factorial_power(2.0, -0.5).unwrap(), want, 1e-14));
    }

    #[test]
    fn differences_and_sums_telescope() {
        // (x + 1)^(α) - x^(α) = α x^(α - 1), here with α = 1/2 at x = 10.5,
        // and Σ_{s=0}^{n} (s + r)^(r) = (n + r + 1)^(r + 1) / (r + 1) for
        // r = 1/2: the term at s = 0 is Γ(r + 1) / Γ(1) and the
        // `a^(α + 1)` of the sum rule is r^(r + 1) = Γ(r + 1) / Γ(0) = 0.
        let (x, a) = (10.5, 0.5);
        let lhs = factorial_power(x + 1.0, a).unwrap() - factorial_power(x, a).unwrap();
        assert!(close(lhs, a * factorial_power(x, a - 1.0).unwrap(), 1e-12));
        let r = 0.5;
        let sum: f64 = (0..=40)
            .map(|s| factorial_power(s as f64 + r, r).unwrap())
            .sum();
        let closed = factorial_power(40.0 + r + 1.0, r + 1.0).unwrap() / (r + 1.0);
        assert!(close(sum, closed, 1e-12));
    }

    #[test]
    fn averaging_and_momentum_by_hand() {
        // Weights (s + r)^(r) with r = 1 are s + 1: the average of z_0..z_t
        // puts (t + 1) / (1 + 2 + … + (t + 1)) = 2 / (t + 2) on z_t, which is
        // (r + 1) / (t + r + 1). The heavy-ball momentum is
        // c_{t+1} (1 - c_t) / c_t = (2 / (t + 3)) (t / 2) = t / (t + 3).
        for t in 0..6u64 {
            let tf = t as f64;
            assert_eq!(averaging_weight(t, 1.0).unwrap(), 2.0 / (tf + 2.0));
            assert_eq!(momentum(t, 1.0).unwrap(), tf / (tf + 3.0));
        }
        // r = 0: the plain running average 1 / (t + 1), momentum t / (t + 2).
        assert_eq!(averaging_weight(4, 0.0).unwrap(), 0.2);
        assert_eq!(momentum(4, 0.0).unwrap(), 4.0 / 6.0);
        // The first step takes the whole z (c_0 = 1) and has no momentum.
        assert_eq!(averaging_weight(0, 2.5).unwrap(), 1.0);
        assert_eq!(momentum(0, 2.5).unwrap(), 0.0);
    }

    #[test]
    fn decay_by_hand() {
        // α = 1, c = 1: (s + 1)^(-1) / 1^(-1) = (1 / (s + 2)) / (1 / 2).
        for s in 0..5u64 {
            assert_eq!(decay(s, 1.0, 1.0), 2.0 / (s as f64 + 2.0));
        }
        // α = 1/2, c = 0 at s = 1: 1^(-1/2) / 0^(-1/2) = (Γ(2) / Γ(5/2)) /
        // (Γ(1) / Γ(3/2)) = Γ(3/2) / Γ(5/2) = 2 / 3.
        assert!(close(decay(1, 0.5, 0.0), 2.0 / 3.0, 1e-14));
    }

    #[test]
    fn bad_arguments_are_refused() {
        let bad = |r: Result<f64, Error>, what| {
            assert_eq!(r, Err(Error::InvalidHyperparameter(what)));
        };
        bad(factorial_power(-1.0, 0.5), "x");
        bad(factorial_power(f64::NAN, 0.5), "x");
        bad(factorial_power(2.0, 3.0), "alpha");
        bad(factorial_power(2.0, f64::INFINITY), "alpha");
        bad(averaging_weight(0, -1.0), "r");
        bad(momentum(0, f64::NAN), "r");
    }
}
