//! `cargo xtask finite-sum`: builds `libfreestep.a`, compiles the C example
//! `examples/c/logreg_cancer.c` against it and runs it on the breast-cancer
//! data: L2 logistic regression with every finite-sum method and plain SGD,
//! one line of relative suboptimalities per epoch.
//!
//! The example ends with one `REACHED <method> epoch=<e>` or `MISSED
//! <method> final=<value>` line per method. The task fails unless SAGA,
//! SAG, SVRG, Finito and Point-SAGA all reached 1e-8 within the 100 epochs
//! (SAG with Lipschitz sampling and SGD are reported, not required), and
//! unless the program exits with success, which it does only when SAGA with
//! a dense table gave the compact table's weights bit for bit.

use std::fs;
use std::process::Command;

use crate::shell;
use crate::trainer;

const SOURCE: &str = "examples/c/logreg_cancer.c";
const DATA: &str = "examples/data/breast_cancer.csv";

/// The methods that must reach the bar.
const REQUIRED: [&str; 5] = ["saga", "sag", "svrg", "finito", "point-saga"];

pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(extra) = args.first() {
        return Err(format!("`finite-sum` takes no arguments (got `{extra}`)"));
    }
    let library = trainer::build_library()?;
    let out_dir = trainer::target_dir().join("demo");
    fs::create_dir_all(&out_dir)
        .map_err(|e| format!("could not create {}: {e}", out_dir.display()))?;
    let program = out_dir.join("logreg_cancer");
    trainer::compile(SOURCE, &library, &program)?;
    let output = Command::new(&program)
        .current_dir(shell::root())
        .arg(DATA)
        .output()
        .map_err(|e| format!("could not run {}: {e}", program.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    check(&stdout)?;
    if !output.status.success() {
        return Err(format!(
            "{} exited with {}: see its last lines above",
            program.display(),
            output.status
        ));
    }
    Ok(())
}

/// Fails unless every required method printed a `REACHED` line.
fn check(stdout: &str) -> Result<(), String> {
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|m| {
            let reached = format!("REACHED {m} ");
            !stdout.lines().any(|l| l.starts_with(&reached))
        })
        .collect();
    match missing.as_slice() {
        [] => Ok(()),
        some => Err(format!(
            "{} did not reach relative suboptimality 1e-8 within 100 epochs",
            some.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missed_method_fails_the_task() {
        let all = REQUIRED.map(|m| format!("REACHED {m} epoch=3 state_bytes=8\n"));
        assert!(check(&all.concat()).is_ok());
        let one_missed = all.concat().replace("REACHED svrg", "MISSED svrg");
        assert!(check(&one_missed).unwrap_err().starts_with("svrg "));
    }
}
