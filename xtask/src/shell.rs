//! Running commands from the tasks, and the small tasks that only run one.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The cargo that runs this task, so that nested builds use the same
/// toolchain.
pub fn cargo() -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root());
    cmd
}

/// Runs `cmd`, failing with a message that names it.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

/// `cargo xtask header`: regenerates `include/freestep.h` through the header
/// test, which writes the file instead of comparing when `FREESTEP_BLESS` is
/// set.
pub fn header() -> Result<(), String> {
    run(cargo()
        .args(["test", "-p", "freestep-ffi", "--test", "header"])
        .env("FREESTEP_BLESS", "1"))
}
