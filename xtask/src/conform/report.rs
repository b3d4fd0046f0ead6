//! The result lines of `cargo xtask conform` and their tally.

use std::fmt;

use super::replay::Outcome;

/// The element type of a replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precision {
    F64,
    F32,
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
        })
    }
}

/// One line of output.
pub enum Line {
    /// A replay that stayed within tolerance.
    Pass {
        name: String,
        precision: Precision,
        max_rel_dev: f64,
    },
    /// A replay that deviated at `step`, or could not run (`reason`).
    Fail {
        name: String,
        precision: Precision,
        step: usize,
        rel_dev: f64,
        reason: Option<String>,
    },
    /// A finite-sum run and its relative suboptimality at the end.
    Optimum {
        name: String,
        precision: Precision,
        subopt: f64,
        passed: bool,
    },
    /// A fixture that is not replayed.
    Skip { name: String, reason: String },
}

impl Line {
    /// The line for a replay's outcome.
    pub fn from_outcome(name: &str, precision: Precision, outcome: Outcome) -> Self {
        let name = name.to_string();
        match outcome {
            Outcome::Pass(max_rel_dev) => Line::Pass {
                name,
                precision,
                max_rel_dev,
            },
            Outcome::Fail {
                step,
                rel_dev,
                error,
            } => Line::Fail {
                name,
                precision,
                step,
                rel_dev,
                reason: error,
            },
        }
    }

    /// The line of a finite-sum run: passed when `subopt <= bar` (a NaN
    /// fails).
    pub fn optimum(name: &str, precision: Precision, subopt: f64, bar: f64) -> Self {
        Line::Optimum {
            name: name.to_string(),
            precision,
            subopt,
            passed: subopt <= bar,
        }
    }

    /// The line for a fixture that fails before its first step.
    pub fn malformed(name: &str, precision: Precision, reason: String) -> Self {
        Line::Fail {
            name: name.to_string(),
            precision,
            step: 0,
            rel_dev: f64::INFINITY,
            reason: Some(reason),
        }
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Line::Pass {
                name,
                precision,
                max_rel_dev,
            } => write!(f, "PASS {name} {precision} max_rel_dev={max_rel_dev:.3e}"),
            Line::Fail {
                name,
                precision,
                step,
                rel_dev,
                reason,
            } => {
                write!(
                    f,
                    "FAIL {name} {precision} step={step} rel_dev={rel_dev:.3e}"
                )?;
                match reason {
                    Some(reason) => write!(f, " (error: {reason})"),
                    None => Ok(()),
                }
            }
            Line::Optimum {
                name,
                precision,
                subopt,
                passed,
            } => {
                let verdict = if *passed { "PASS" } else { "FAIL" };
                write!(f, "{verdict} {name} {precision} subopt={subopt:.3e}")
            }
            Line::Skip { name, reason } => write!(f, "SKIP {name} {reason}"),
        }
    }
}

/// Counts of passed, failed and skipped lines.
#[derive(Default)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Tally {
    /// Counts one line.
    pub fn add(&mut self, line: &Line) {
        match line {
            Line::Pass { .. } => self.passed += 1,
            Line::Fail { .. } => self.failed += 1,
            Line::Optimum { passed: true, .. } => self.passed += 1,
            Line::Optimum { passed: false, .. } => self.failed += 1,
            Line::Skip { .. } => self.skipped += 1,
        }
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}
