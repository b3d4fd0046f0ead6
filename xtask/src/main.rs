//! `cargo xtask <task>`: every build, check, benchmark and report of
//! freestep, in one binary with one module per task.
//!
//! Tasks:
//! - `demo [--optimizer NAME] [--epochs N]`: build the library, compile the C
//!   trainer in `examples/c/` and train it on the digits data.
//! - `finite-sum`: the C example of the finite-sum methods on the
//!   breast-cancer data; fails unless each reaches suboptimality 1e-8.
//! - `test`: every test (Rust unit and doc tests, conformance fixtures, the
//!   header check, the C ABI test, the demo).
//! - `conform [--precision f64|f32|both] PATH...`: replay reference fixtures.
//! - `c-abi`: build the static library and run the C ABI test against it.
//! - `bench`: criterion benchmarks of one step of every rule.
//! - `header`: regenerate `include/freestep.h`.
//! - `no-panic`: prove by a link that no C ABI function can panic.
//! - `cross`: the tests and on-target checks on ten targets, with the
//!   cross-target digest.
//! - `size`: flash, stack and instructions per parameter of every rule on
//!   Cortex-M4F and Cortex-M0.

mod bench;
mod c_abi;
mod conform;
mod cross;
mod demo;
mod demo_mcu;
mod finite_sum;
mod no_panic;
mod setup;
mod shell;
mod size;
mod test;
mod trainer;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <task> [args]

tasks:
  demo [--target host|cortex-m4f] [--optimizer NAME] [--epochs N]
                                         train the C MLP on the digits data, on
                                         the host or on a Cortex-M4F in QEMU
  finite-sum                             L2 logistic regression in C with every
                                         finite-sum method (SAGA, SAG, SVRG,
                                         Finito, Point-SAGA) against SGD
  test                                   run every test
  conform [--precision f64|f32|both] PATH...
                                         replay reference fixtures
  c-abi                                  build and run the C ABI test
  bench                                  benchmark one step of every rule
  header                                 regenerate include/freestep.h
  no-panic                               prove that no C ABI function can panic
  cross [--only NAME,...] [--no-tests]   tests and digests on every target
  size                                   footprint of every rule on Cortex-M";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let result = match task.as_str() {
        "demo" => demo::run(rest),
        "finite-sum" => finite_sum::run(rest),
        "test" => test::run(rest),
        "conform" => conform::run(rest),
        "c-abi" => c_abi::run(rest),
        "bench" => bench::run(rest),
        "header" => shell::header(),
        "no-panic" => no_panic::run(rest),
        "cross" => cross::run(rest),
        "size" => size::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {task}: {message}");
            ExitCode::FAILURE
        }
    }
}
