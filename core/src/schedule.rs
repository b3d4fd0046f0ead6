//! Learning-rate schedules: pure functions of the step number.
//!
//! A [`Schedule`] maps step `t` (counted from 0: the first step is `t = 0`)
//! to a multiplier of the base learning rate. A rule takes
//! `base_lr * multiplier(t)` as its `lr` for step `t`; nothing is stored
//! between steps, so a schedule can be evaluated anywhere, in any order, on
//! any target, with the same bits (the only transcendental function, the
//! cosine, is libm's software routine everywhere).
//!
//! Every schedule obeys the same conventions:
//!
//! - Warmup is linear and counts the step being taken: step `t < warmup`
//!   gets `(t + 1) / warmup`, so the first step is never 0 and step
//!   `warmup - 1` reaches 1 (as `warmup_steps` of Schedule-Free does).
//! - Decay runs over steps `warmup..total` and ends just above 0 on the last
//!   step, `total - 1`: linear decay gives it `1 / (total - warmup)`. From
//!   step `total` on, the multiplier is the schedule's final value (0 for the
//!   decays to zero).
//! - No schedule divides by zero: `warmup == total` means all warmup, and
//!   `total == 1` gives the single step a multiplier of 1.
//!
//! Two families live in their own modules: [`refined`], a schedule computed
//! from the gradient norms of an earlier run (an array, not a formula), and
//! [`factorial`], the factorial powers behind
//! [`Schedule::FactorialPower`] and matching momentum constants.

use crate::error::Error;

pub mod factorial;
pub mod refined;

/// A learning-rate schedule. See the [module documentation](self) for the
/// conventions shared by all of them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// 1 at every step.
    Constant,
    /// Linear warmup over `warmup` steps, then 1.
    LinearWarmup {
        /// Warmup steps, `>= 1`.
        warmup: u64,
    },
    /// Linear warmup (none when `warmup` is 0), then linear decay to zero at
    /// step `total`: `(total - t) / (total - warmup)`.
    LinearDecay {
        /// Warmup steps, `<= total`.
        warmup: u64,
        /// Total steps, `>= 1`.
        total: u64,
    },
    /// Linear warmup, then half a cosine from 1 down to `final_value`:
    /// `final + (1 - final) (1 + cos(π p)) / 2`, `p = (t - warmup) /
    /// (total - warmup)`.
    Cosine {
        /// Warmup steps, `<= total`.
        warmup: u64,
        /// Total steps, `>= 1`.
        total: u64,
        /// The multiplier the cosine tends to at step `total`, in `[0, 1]`.
        final_value: f64,
    },
    /// Warmup-stable-decay: linear warmup, 1 until the last `decay` steps,
    /// then linear decay to zero: `(total - t) / decay`.
    WarmupStableDecay {
        /// Warmup steps; `warmup + decay <= total`.
        warmup: u64,
        /// Steps of the final decay.
        decay: u64,
        /// Total steps, `>= 1`.
        total: u64,
    },
    /// Linear warmup, then polynomial decay to zero:
    /// `((total - t) / (total - warmup))^power`.
    Polynomial {
        /// Warmup steps, `<= total`.
        warmup: u64,
        /// Total steps, `>= 1`.
        total: u64,
        /// The exponent, `> 0` (1 is linear decay).
        power: f64,
    },
    /// Linear warmup, then the factorial-power decay
    /// `(s + offset)^(-alpha) / offset^(-alpha)` at `s = t - warmup`, about
    /// `(offset / (s + offset))^alpha` but with exact partial sums (see
    /// [`factorial`]). It has no end: it decays for as long as it runs.
    FactorialPower {
        /// Warmup steps (0 for none).
        warmup: u64,
        /// The exponent, in `[0, 2^53]` (0 is constant; 1/2 decays like
        /// `1/√t`, 1 like `1/t`).
        alpha: f64,
        /// The offset, in `[0, 2^53]`: larger values start the decay more
        /// gently.
        offset: f64,
    },
}

impl Schedule {
    /// Checks the schedule's parameters against their ranges.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |what| Err(Error::InvalidHyperparameter(what));
        match *self {
            Schedule::Constant => Ok(()),
            Schedule::LinearWarmup { warmup: 0 } => bad("warmup"),
            Schedule::LinearWarmup { .. } => Ok(()),
            Schedule::LinearDecay { warmup, total } => check_span(warmup, total),
            Schedule::Cosine {
                warmup,
                total,
                final_value,
            } => {
                check_span(warmup, total)?;
                match (0.0..=1.0).contains(&final_value) {
                    true => Ok(()),
                    false => bad("final_value"),
                }
            }
            Schedule::WarmupStableDecay {
                warmup,
                decay,
                total,
            } => {
                check_span(warmup, total)?;
                match warmup.checked_add(decay) {
                    Some(end) if end <= total => Ok(()),
                    _ => bad("decay"),
                }
            }
            Schedule::Polynomial {
                warmup,
                total,
                power,
            } => {
                check_span(warmup, total)?;
                match power.is_finite() && power > 0.0 {
                    true => Ok(()),
                    false => bad("power"),
                }
            }
            Schedule::FactorialPower { alpha, offset, .. } => {
                let max = factorial::MAX_DECAY_ARGUMENT;
                if !crate::math::within(alpha, 0.0, max) {
                    return bad("alpha");
                }
                match crate::math::within(offset, 0.0, max) {
                    true => Ok(()),
                    false => bad("offset"),
                }
            }
        }
    }

    /// The multiplier of the base learning rate at step `t` (from 0), or
    /// the validation error. Always finite and in `[0, 1]`.
    pub fn multiplier(&self, t: u64) -> Result<f64, Error> {
        self.validate()?;
        let warmup = self.warmup();
        if t < warmup {
            return Ok((t + 1) as f64 / warmup as f64);
        }
        // From here on `t >= warmup`, and `t < total` leaves `total - warmup
        // >= 1`: the divisions below never see a zero.
        Ok(match *self {
            Schedule::Constant | Schedule::LinearWarmup { .. } => 1.0,
            Schedule::LinearDecay { total, .. } => remaining(t, total, total - warmup),
            Schedule::Cosine {
                total, final_value, ..
            } => match t >= total {
                true => final_value,
                false => {
                    let p = (t - warmup) as f64 / (total - warmup) as f64;
                    let cosine = 0.5 * (1.0 + libm::cos(core::f64::consts::PI * p));
                    final_value + (1.0 - final_value) * cosine
                }
            },
            Schedule::WarmupStableDecay { decay, total, .. } => {
                match t.saturating_add(decay) >= total {
                    true => remaining(t, total, decay),
                    false => 1.0,
                }
            }
            Schedule::Polynomial { total, power, .. } => {
                crate::math::powf(remaining(t, total, total - warmup), power)
            }
            Schedule::FactorialPower { alpha, offset, .. } => {
                factorial::decay(t - warmup, alpha, offset)
            }
        })
    }

    /// The warmup length (0 for none).
    pub fn warmup(&self) -> u64 {
        match *self {
            Schedule::Constant => 0,
            Schedule::LinearWarmup { warmup }
            | Schedule::LinearDecay { warmup, .. }
            | Schedule::Cosine { warmup, .. }
            | Schedule::WarmupStableDecay { warmup, .. }
            | Schedule::Polynomial { warmup, .. }
            | Schedule::FactorialPower { warmup, .. } => warmup,
        }
    }
}

/// Warmup must fit in a schedule of at least one step.
fn check_span(warmup: u64, total: u64) -> Result<(), Error> {
    if total == 0 {
        return Err(Error::InvalidHyperparameter("total"));
    }
    if warmup > total {
        return Err(Error::InvalidHyperparameter("warmup"));
    }
    Ok(())
}

/// `(total - t) / span`, and 0 from step `total` on (or for an empty
/// span). Called after warmup, where `span >= total - t >= 1` while
/// `t < total`.
fn remaining(t: u64, total: u64, span: u64) -> f64 {
    if t >= total || span == 0 {
        0.0
    } else {
        (total - t) as f64 / span as f64
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn m(s: Schedule, t: u64) -> f64 {
        s.multiplier(t).unwrap()
    }

    #[test]
    fn linear_decay_by_hand() {
        // total 4, no warmup: 4/4, 3/4, 2/4, 1/4, then 0.
        let s = Schedule::LinearDecay {
            warmup: 0,
            total: 4,
        };
        let got: [f64; 5] = core::array::from_fn(|t| m(s, t as u64));
        assert_eq!(got, [1.0, 0.75, 0.5, 0.25, 0.0]);
        // warmup 2 of total 5: 1/2, 2/2, then 3/3, 2/3, 1/3.
        let s = Schedule::LinearDecay {
            warmup: 2,
            total: 5,
        };
        let got: [f64; 5] = core::array::from_fn(|t| m(s, t as u64));
        assert_eq!(got, [0.5, 1.0, 1.0, 2.0 / 3.0, 1.0 / 3.0]);
    }

    #[test]
    fn degenerate_lengths_never_divide_by_zero() {
        for s in [
            Schedule::LinearDecay {
                warmup: 3,
                total: 3,
            },
            Schedule::Cosine {
                warmup: 3,
                total: 3,
                final_value: 0.0,
            },
            Schedule::Polynomial {
                warmup: 3,
                total: 3,
                power: 2.0,
            },
            Schedule::WarmupStableDecay {
                warmup: 3,
                decay: 0,
                total: 3,
            },
        ] {
            // All warmup: 1/3, 2/3, 1; then the end value.
            assert_eq!(m(s, 0), 1.0 / 3.0, "{s:?}");
            assert_eq!(m(s, 2), 1.0, "{s:?}");
            assert!(m(s, 3).is_finite());
        }
        for s in [
            Schedule::LinearDecay {
                warmup: 0,
                total: 1,
            },
            Schedule::Cosine {
                warmup: 0,
                total: 1,
                final_value: 0.0,
            },
            Schedule::Polynomial {
                warmup: 0,
                total: 1,
                power: 0.5,
            },
            Schedule::WarmupStableDecay {
                warmup: 0,
                decay: 1,
                total: 1,
            },
        ] {
            // A one-step schedule gives its step the full rate.
            assert_eq!(m(s, 0), 1.0, "{s:?}");
        }
    }

    #[test]
    fn cosine_by_hand() {
        // total 4, final 0.2: p = 0, 1/4, 2/4, 3/4;
        // 0.2 + 0.8 (1 + cos(πp)) / 2.
        let s = Schedule::Cosine {
            warmup: 0,
            total: 4,
            final_value: 0.2,
        };
        let half_sqrt2 = core::f64::consts::FRAC_1_SQRT_2;
        let want = [
            1.0,
            0.2 + 0.4 * (1.0 + half_sqrt2),
            0.6,
            0.2 + 0.4 * (1.0 - half_sqrt2),
        ];
        for (t, w) in want.iter().enumerate() {
            assert!((m(s, t as u64) - w).abs() < 1e-15, "step {t}");
        }
        assert_eq!(m(s, 4), 0.2);
    }

    #[test]
    fn wsd_and_polynomial_by_hand() {
        // warmup 2, stable to step 5, decay over the last 3 of 8.
        let s = Schedule::WarmupStableDecay {
            warmup: 2,
            decay: 3,
            total: 8,
        };
        let got: [f64; 9] = core::array::from_fn(|t| m(s, t as u64));
        assert_eq!(
            got,
            [0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0 / 3.0, 1.0 / 3.0, 0.0]
        );
        // power 2, total 4: (4/4)², (3/4)², (2/4)², (1/4)².
        let s = Schedule::Polynomial {
            warmup: 0,
            total: 4,
            power: 2.0,
        };
        let got: [f64; 4] = core::array::from_fn(|t| m(s, t as u64));
        assert_eq!(got, [1.0, 0.5625, 0.25, 0.0625]);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let bad = [
            Schedule::LinearWarmup { warmup: 0 },
            Schedule::LinearDecay {
                warmup: 0,
                total: 0,
            },
            Schedule::LinearDecay {
                warmup: 5,
                total: 4,
            },
            Schedule::Cosine {
                warmup: 0,
                total: 4,
                final_value: 1.5,
            },
            Schedule::Cosine {
                warmup: 0,
                total: 4,
                final_value: f64::NAN,
            },
            Schedule::WarmupStableDecay {
                warmup: 2,
                decay: 3,
                total: 4,
            },
            Schedule::WarmupStableDecay {
                warmup: 1,
                decay: u64::MAX,
                total: 4,
            },
            Schedule::Polynomial {
                warmup: 0,
                total: 4,
                power: 0.0,
            },
            Schedule::FactorialPower {
                warmup: 0,
                alpha: -0.5,
                offset: 1.0,
            },
            Schedule::FactorialPower {
                warmup: 0,
                alpha: 0.5,
                offset: f64::NAN,
            },
            Schedule::FactorialPower {
                warmup: 0,
                alpha: 0.5,
                offset: 1e300,
            },
        ];
        for s in bad {
            assert!(
                matches!(s.multiplier(0), Err(Error::InvalidHyperparameter(_))),
                "{s:?}"
            );
        }
    }

    #[test]
    fn factorial_power_by_hand() {
        // warmup 2, then alpha 1, offset 1: (s + 1)^(-1) / 1^(-1) = 2 / (s + 2)
        // at s = t - 2: 1/2, 1 (warmup), then 1, 2/3, 1/2, 2/5.
        let s = Schedule::FactorialPower {
            warmup: 2,
            alpha: 1.0,
            offset: 1.0,
        };
        let got: [f64; 6] = core::array::from_fn(|t| m(s, t as u64));
        assert_eq!(got, [0.5, 1.0, 1.0, 2.0 / 3.0, 0.5, 0.4]);
        // alpha 0 is constant; far out, alpha 2 is small but not 0.
        let flat = Schedule::FactorialPower {
            warmup: 0,
            alpha: 0.0,
            offset: 0.0,
        };
        assert_eq!(m(flat, 1000), 1.0);
        let steep = Schedule::FactorialPower {
            warmup: 0,
            alpha: 2.0,
            offset: 0.0,
        };
        // 10^(-2) / 0^(-2) = (1 / (11 · 12)) / (1 / (1 · 2)) = 2 / 132,
        // computed as the factors (0 + 1) / (10 + 1) and (0 + 2) / (10 + 2).
        assert!((m(steep, 10) - 2.0 / 132.0).abs() < 1e-17);
        assert!(m(steep, u64::MAX) > 0.0);
        // The largest offset and exponent stay finite, fractional or not.
        for alpha in [64.0, 64.5, factorial::MAX_DECAY_ARGUMENT] {
            let far = Schedule::FactorialPower {
                warmup: 0,
                alpha,
                offset: factorial::MAX_DECAY_ARGUMENT,
            };
            for t in [1, 1000, u64::MAX] {
                let v = m(far, t);
                assert!((0.0..=1.0).contains(&v), "alpha {alpha} t {t}: {v}");
            }
        }
    }

    #[test]
    fn warmup_counts_the_step_taken() {
        let s = Schedule::LinearWarmup { warmup: 4 };
        let got: [f64; 6] = core::array::from_fn(|t| m(s, t as u64));
        assert_eq!(got, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]);
    }
}
