//! Printing results and counting them, with no allocation.

use core::fmt::{self, Write};

/// Counts passes and failures and prints one line per result.
pub struct Report<W: Write> {
    out: W,
    passed: u32,
    failed: u32,
}

impl<W: Write> Report<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            passed: 0,
            failed: 0,
        }
    }

    /// Prints a line that is not a result.
    pub fn line(&mut self, args: fmt::Arguments<'_>) {
        // A target's output channel has nowhere to report its own failure.
        let _ = self.out.write_fmt(args);
        let _ = self.out.write_str("\n");
    }

    /// Records a check: `Ok` passes, `Err` fails with the reason.
    pub fn check(&mut self, name: fmt::Arguments<'_>, result: Result<(), Failure>) {
        match result {
            Ok(()) => {
                self.passed += 1;
                self.line(format_args!("PASS {name}"));
            }
            Err(why) => {
                self.failed += 1;
                self.line(format_args!("FAIL {name}: {why}"));
            }
        }
    }

    /// Prints the totals; true when nothing failed.
    pub fn finish(&mut self) -> bool {
        let (passed, failed) = (self.passed, self.failed);
        self.line(format_args!("{passed} passed, {failed} failed"));
        failed == 0
    }
}

/// Why a check failed: a fixed message and up to two numbers, so that a
/// failure needs no formatting buffer.
#[derive(Clone, Copy, Debug)]
pub struct Failure {
    pub what: &'static str,
    pub at: Option<usize>,
    pub value: Option<f64>,
}

impl Failure {
    pub const fn new(what: &'static str) -> Self {
        Self {
            what,
            at: None,
            value: None,
        }
    }
    pub const fn at(mut self, at: usize) -> Self {
        self.at = Some(at);
        self
    }
    pub const fn value(mut self, value: f64) -> Self {
        self.value = Some(value);
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)?;
        if let Some(at) = self.at {
            write!(f, " at step {at}")?;
        }
        if let Some(value) = self.value {
            write!(f, " ({value:e})")?;
        }
        Ok(())
    }
}

/// Standard output, on hosted targets.
#[cfg(not(target_os = "none"))]
pub struct StdOut;

#[cfg(not(target_os = "none"))]
impl Write for StdOut {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        use std::io::Write as _;
        std::io::stdout()
            .write_all(s.as_bytes())
            .map_err(|_| fmt::Error)
    }
}
