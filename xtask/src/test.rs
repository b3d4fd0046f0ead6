//! `cargo xtask test`: every test of the project, cheapest first, stopping
//! at the first failure.
//!
//! 1. rustfmt and clippy, installed through rustup when missing, then
//!    formatting and clippy (`-D warnings`);
//! 2. `cargo test` of `core` and `ffi`: unit tests, property tests,
//!    doctests and the header check;
//! 3. the conformance fixtures, in f64 and f32: the project's own and the
//!    public examples in `../shared/conformance/public` when present;
//! 4. the C ABI test program;
//! 5. the no-panic link proof for the bare-metal library;
//! 6. `cargo xtask cross`: the suites and on-target checks on ten targets,
//!    and one trajectory digest for all of them;
//! 7. the demo, which must reach test accuracy 0.95, on the host and on a
//!    Cortex-M4F under QEMU, with the same weights to the bit, and the
//!    finite-sum example, whose five methods must reach suboptimality 1e-8.

use crate::shell::{self, cargo, root};

/// Where the public example fixtures sit relative to the workspace.
const PUBLIC_FIXTURES: &str = "../shared/conformance/public";

pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(extra) = args.first() {
        return Err(format!("`test` takes no arguments (got `{extra}`)"));
    }
    step("setup", setup)?;
    step("formatting", || {
        shell::run(cargo().args(["fmt", "--all", "--", "--check"]))
    })?;
    step("clippy", || {
        shell::run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    step("cargo test", || {
        shell::run(cargo().args([
            "test",
            "-p",
            "freestep",
            "-p",
            "freestep-ffi",
            "-p",
            "xtask",
        ]))
    })?;
    step("conformance", conformance)?;
    step("C ABI test", || crate::c_abi::run(&[]))?;
    step("no panic path", || crate::no_panic::run(&[]))?;
    step("cross targets", || crate::cross::run(&[]))?;
    step("demo", || crate::demo::run_checked(0.95).map(|_| ()))?;
    step("finite-sum example", || crate::finite_sum::run(&[]))?;
    step("demo on Cortex-M4F (QEMU)", || {
        crate::demo_mcu::check_matches_host(0.95)
    })?;
    println!("xtask test: all passed");
    Ok(())
}

/// Installs the toolchain components the checks need, when rustup is
/// there to install them (a no-op when they are already installed).
fn setup() -> Result<(), String> {
    let rustup = std::process::Command::new("rustup")
        .arg("--version")
        .output();
    if rustup.is_err() {
        println!("(no rustup: assuming rustfmt and clippy are installed)");
        return Ok(());
    }
    shell::run(std::process::Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]))
}

fn step(name: &str, f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    println!("== {name}");
    f().map_err(|e| format!("{name}: {e}"))
}

fn conformance() -> Result<(), String> {
    let mut paths = vec![root().join("tests/conformance/fixtures")];
    let public = root().join(PUBLIC_FIXTURES);
    if public.is_dir() {
        paths.push(public);
    } else {
        println!("(no {PUBLIC_FIXTURES}: replaying the project's fixtures only)");
    }
    let mut args: Vec<String> = vec!["--precision".into(), "both".into()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    crate::conform::run(&args)
}
