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

/// A cargo command for a cross build: like [`cargo`], but without the
/// caller's `RUSTFLAGS`, which would replace (not extend) the per-target
/// flags of `.cargo/config.toml`, among them the Cortex-M0 workaround.
pub fn cargo_cross() -> Command {
    let mut cmd = cargo();
    cmd.env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
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

/// What a bounded run printed, and how it ended.
pub struct Bounded {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; `None` when killed by a signal or by the timeout.
    pub code: Option<i32>,
    pub timed_out: bool,
}

/// Runs `cmd` with its output captured, killing it after `timeout`. QEMU
/// runs go through here, so a firmware that hangs fails the task instead of
/// stalling it.
///
/// The command runs in a process group of its own, and the whole group is
/// killed when it times out (and when it ends, so that nothing it started
/// outlives it): a `cargo test` under qemu-user hangs in a grandchild, which
/// killing cargo alone would leave running with the output pipes open.
pub fn run_bounded(cmd: &mut Command, timeout: std::time::Duration) -> Result<Bounded, String> {
    use std::io::Read;
    use std::process::Stdio;
    let shown = format!("{cmd:?}");
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    let mut pipe_out = child.stdout.take();
    let mut pipe_err = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = pipe_out.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = pipe_err.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let deadline = std::time::Instant::now() + timeout;
    let (status, timed_out) = loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                kill_group(child.id());
                break (Some(status), false);
            }
            Ok(None) if std::time::Instant::now() >= deadline => {
                kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                break (None, true);
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for {shown}: {e}")),
        }
    };
    Ok(Bounded {
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        code: status.and_then(|s| s.code()),
        timed_out,
    })
}

/// Sends SIGKILL to every process of the group led by `leader` (a no-op
/// when none is left).
fn kill_group(leader: u32) {
    #[cfg(unix)]
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{leader}")])
        .stderr(std::process::Stdio::null())
        .status();
    #[cfg(not(unix))]
    let _ = leader;
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_timeout_ends_the_whole_process_tree() {
        // The shell's child keeps the output pipe open after the shell is
        // killed; only killing the group lets the run return on time.
        let started = Instant::now();
        let out = run_bounded(
            Command::new("sh").args(["-c", "sleep 30; echo late"]),
            Duration::from_millis(500),
        )
        .unwrap();
        assert!(out.timed_out);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(!out.stdout.contains("late"));
    }

    #[test]
    fn a_finished_run_reports_its_output_and_status() {
        let out = run_bounded(
            Command::new("sh").args(["-c", "echo hi; exit 3"]),
            Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(
            (out.stdout.as_str(), out.code, out.timed_out),
            ("hi\n", Some(3), false)
        );
    }
}
