//! `freestep-check`: the checks that run on every target of
//! `cargo xtask cross`, from x86-64 servers to a Cortex-M0 with 16 KiB of
//! RAM.
//!
//! The same program runs hosted (Linux, natively or under qemu-user) and on
//! bare metal (under qemu-system, output through semihosting). It prints:
//!
//! - `PASS <check>` or `FAIL <check>: <why>` for each property check of
//!   every rule case ([`properties`]) and each replay of a reference
//!   trajectory ([`replay`]);
//! - `CASE <case> <hex>`, the digest of one case's f32 trajectory, and
//!   `DIGEST <target> <hex> rules=<n>`, the digest of all of them
//!   ([`digest`]): equal on every target when the library computes the
//!   same bits everywhere;
//! - last, `N passed, N failed`.
//!
//! It exits with status 0 when every check passed. See [`PART`] for the
//! builds that run half of the checks each. Built with the
//! environment variable `FREESTEP_TRACE=<case>`, it also prints every
//! parameter bit of that case, which `cargo xtask cross` uses to name the
//! first step and element where two targets differ.

#![cfg_attr(target_os = "none", no_std, no_main)]

mod cases;
mod digest;
#[rustfmt::skip] // generated: see the module's first line
mod fixtures;
mod problem;
mod properties;
mod replay;
mod report;

#[cfg(target_os = "none")]
mod bare;

use report::Report;

/// The name printed in the `DIGEST` line: set by `cargo xtask cross` at build
/// time, else the architecture.
pub const TARGET_NAME: &str = match option_env!("FREESTEP_TARGET_NAME") {
    Some(name) => name,
    None => env!("FREESTEP_CHECK_ARCH"),
};

/// Runs every check, printing through `report`. Returns true when all passed.
pub fn run_all<W: core::fmt::Write>(report: &mut Report<W>) -> bool {
    if PART != "replays" {
        properties::run(report);
    }
    if PART != "core" {
        replay::run(report);
    }
    if PART != "replays" {
        digest::run(report);
    }
    report.finish()
}

/// Which checks this build runs: `all` (the default), or, for a core whose
/// flash cannot hold everything (the Cortex-M0's 256 KiB), one of two
/// halves that `cargo xtask cross` runs one after the other: `core` (the
/// properties and the digest, in f32) and `replays` (the reference
/// trajectories, in f64). Set at build time by `FREESTEP_CHECK_PART`.
pub const PART: &str = match option_env!("FREESTEP_CHECK_PART") {
    Some(part) => part,
    None => "all",
};

/// The bare-metal program: every check, printed through semihosting.
///
/// Built with `FREESTEP_CHECK_SELF_TEST=panic` or `=fault`, it panics or
/// executes an undefined instruction first instead, so that `cargo xtask
/// cross` can check that both end the QEMU run with a failure.
#[cfg(target_os = "none")]
pub fn entry(console: &mut bare::Console) -> bool {
    match option_env!("FREESTEP_CHECK_SELF_TEST") {
        Some("panic") => panic!("self-test"),
        Some("fault") => bare::undefined_instruction(),
        _ => run_all(&mut Report::new(console)),
    }
}

#[cfg(not(target_os = "none"))]
fn main() -> std::process::ExitCode {
    let mut report = Report::new(report::StdOut);
    if run_all(&mut report) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
