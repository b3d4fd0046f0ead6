//! `cargo xtask demo`: builds `libfreestep.a`, compiles the C trainer
//! `examples/c/train_digits.c` against it with the system C compiler, and
//! trains its small network on the digits data (see `trainer.rs`). With
//! `--target cortex-m4f` the same source is built for a Cortex-M4F and run
//! in QEMU instead; see `demo_mcu.rs`.

use std::process::Command;

use crate::trainer::{build, checked_result, host_output, write_data_header};
use crate::{demo_mcu, shell};

const USAGE: &str =
    "usage: cargo xtask demo [--target NAME] [--optimizer NAME] [--schedule KIND] [--epochs N]
       cargo xtask demo --target cortex-m4f --compare-host [--optimizer NAME] [--epochs N]
       cargo xtask demo --write-data-header

  --target NAME        host (default): build the trainer for this machine and
                       run it; cortex-m4f: build it for a Cortex-M4F (the MPS2
                       AN386 board, examples/firmware/mps2-an386/) and run it
                       in QEMU with semihosting, then report RAM and flash use
  --compare-host       with --target cortex-m4f: also run the host build with
                       the same options and require the same output, line
                       for line (weights digest included)
  --optimizer NAME     adamw-schedulefree (default), sgd-schedulefree, adamw,
                       adam, sgd, prodigy, adagrad, rmsprop, madgrad, lion,
                       dadapt-adam, dadapt-sgd, dadapt-lion, dadapt-adagrad,
                       dadapt-adan, mirror-madgrad, momo, momo-adam,
                       mechanic-adamw, mechanic-sgd, radam-schedulefree,
                       schedulefree-wrapper-sgd, polyak, ngd, accelerated,
                       primal-averaging, shb
  --schedule KIND      constant (default), warmup, linear-decay, cosine, wsd,
                       polynomial, factorial: scales the rule's lr at every
                       step; refined: a first run records its gradient
                       norms, a second trains on the refined schedule made
                       from them (both runs' test accuracies are printed)
  --epochs N           number of epochs (the program's default when absent)
  --write-data-header  regenerate examples/c/digits_data.h from
                       examples/data/digits.csv, then stop";

/// The names `--target` accepts.
const TARGETS: &[&str] = &["host", demo_mcu::TARGET_NAME];

/// `cargo xtask demo [--target NAME] [--optimizer NAME] [--epochs N]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut pass = Vec::new();
    let mut target = TARGETS[0].to_string();
    let mut compare_host = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--optimizer" | "--schedule" | "--epochs" | "--target" => {
                let value = args
                    .next()
                    .ok_or_else(|| format!("`{arg}` needs a value\n\n{USAGE}"))?;
                if arg == "--target" {
                    target = value.clone();
                } else {
                    pass.extend([arg.clone(), value.clone()]);
                }
            }
            "--compare-host" => compare_host = true,
            "--write-data-header" if pass.is_empty() && args.len() == 0 => {
                return write_data_header();
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unexpected argument `{other}`\n\n{USAGE}")),
        }
    }
    match target.as_str() {
        "host" if compare_host => Err(format!(
            "`--compare-host` needs `--target {}`",
            demo_mcu::TARGET_NAME
        )),
        "host" => run_host(&pass),
        demo_mcu::TARGET_NAME => demo_mcu::run(&pass, compare_host),
        other => Err(format!(
            "unknown target `{other}`: `--target` accepts {}",
            TARGETS
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The host demo: builds the trainer and runs it with `pass`, its output
/// going straight to the terminal.
fn run_host(pass: &[String]) -> Result<(), String> {
    let program = build()?;
    let mut cmd = Command::new(&program);
    cmd.args(pass).current_dir(shell::root());
    shell::run(&mut cmd).map_err(|e| format!("the C trainer failed: {e}"))
}

/// Runs the demo with its defaults and checks that it reaches
/// `min_accuracy` on the test rows; returns the accuracy it printed.
pub fn run_checked(min_accuracy: f64) -> Result<f64, String> {
    let stdout = host_output(&[])?;
    checked_result(&stdout, min_accuracy)
        .map(|(accuracy, _digest)| accuracy)
        .map_err(|e| format!("{e}\n--- stdout of the host trainer\n{stdout}"))
}
