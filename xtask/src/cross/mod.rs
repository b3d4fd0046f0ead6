//! `cargo xtask cross`: freestep on every target it supports, and proof that
//! every target computes the same trajectories to the bit.
//!
//! Each row of [`TARGETS`] runs `freestep-check` (`tests/target/`): property
//! checks of every rule, replays of reference trajectories, and the digest
//! of every rule's f32 trajectory on a fixed problem. Hosted rows also run
//! the whole `cargo test` suite of `core` and `ffi` (doctests included),
//! natively or under qemu-user; bare-metal rows run the check firmware
//! under qemu-system. Every run has a timeout.
//!
//! The task fails when any row fails, when two rows print different
//! digests (it then names the first case, step and element that differ),
//! or when the digest covers fewer rules than the C ABI exports. The last
//! line is `N passed, N failed`, counting targets.
//!
//! Options: `--only NAME[,NAME...]` runs the named rows; `--no-tests` skips
//! the `cargo test` suites; `--write-fixtures` regenerates the embedded
//! reference trajectories and stops.

pub mod compare;
pub mod fixtures;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::setup::{self, Package};
use crate::shell::{self, root};

/// How a target's programs run.
#[derive(Clone, Copy)]
pub enum Runner {
    /// This machine.
    Host,
    /// qemu-user, with the cross toolchain of the GNU triple as linker.
    QemuUser {
        qemu: &'static str,
        gnu: &'static str,
    },
    /// qemu-system on a board, the program as the kernel.
    QemuSystem {
        qemu: &'static str,
        machine: &'static [&'static str],
    },
}

/// One row of the cross matrix.
#[derive(Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    pub triple: &'static str,
    /// Extra `RUSTFLAGS` (x86-64 feature levels).
    pub rustflags: &'static str,
    pub runner: Runner,
    /// A CPU flag (from /proc/cpuinfo) the row needs to run here.
    pub needs_cpu_flag: Option<&'static str>,
}

const HOST_TRIPLE: &str = "x86_64-unknown-linux-gnu";

pub const TARGETS: [Target; 10] = [
    Target {
        name: "x86-64",
        triple: HOST_TRIPLE,
        rustflags: "",
        runner: Runner::Host,
        needs_cpu_flag: None,
    },
    Target {
        name: "x86-64-v3",
        triple: HOST_TRIPLE,
        rustflags: "-C target-cpu=x86-64-v3",
        runner: Runner::Host,
        needs_cpu_flag: Some("avx2"),
    },
    Target {
        name: "x86-64-v4",
        triple: HOST_TRIPLE,
        rustflags: "-C target-cpu=x86-64-v4",
        runner: Runner::Host,
        needs_cpu_flag: Some("avx512f"),
    },
    Target {
        name: "armv7",
        triple: "armv7-unknown-linux-gnueabihf",
        rustflags: "",
        runner: Runner::QemuUser {
            qemu: "qemu-arm",
            gnu: "arm-linux-gnueabihf",
        },
        needs_cpu_flag: None,
    },
    Target {
        name: "aarch64",
        triple: "aarch64-unknown-linux-gnu",
        rustflags: "",
        runner: Runner::QemuUser {
            qemu: "qemu-aarch64",
            gnu: "aarch64-linux-gnu",
        },
        needs_cpu_flag: None,
    },
    Target {
        name: "rv64",
        triple: "riscv64gc-unknown-linux-gnu",
        rustflags: "",
        runner: Runner::QemuUser {
            qemu: "qemu-riscv64",
            gnu: "riscv64-linux-gnu",
        },
        needs_cpu_flag: None,
    },
    Target {
        name: "cortex-m0",
        triple: "thumbv6m-none-eabi",
        rustflags: "",
        runner: Runner::QemuSystem {
            qemu: "qemu-system-arm",
            machine: &["-M", "microbit"],
        },
        needs_cpu_flag: None,
    },
    Target {
        name: "cortex-m4f",
        triple: "thumbv7em-none-eabihf",
        rustflags: "",
        runner: Runner::QemuSystem {
            qemu: "qemu-system-arm",
            machine: &["-M", "mps2-an386"],
        },
        needs_cpu_flag: None,
    },
    Target {
        name: "cortex-m33",
        triple: "thumbv8m.main-none-eabihf",
        rustflags: "",
        runner: Runner::QemuSystem {
            qemu: "qemu-system-arm",
            machine: &["-M", "mps2-an505"],
        },
        needs_cpu_flag: None,
    },
    Target {
        name: "rv32imac",
        triple: "riscv32imac-unknown-none-elf",
        rustflags: "",
        runner: Runner::QemuSystem {
            qemu: "qemu-system-riscv32",
            machine: &["-M", "virt", "-bios", "none"],
        },
        needs_cpu_flag: None,
    },
];

/// QEMU options of every system run: semihosting for output and exit, and
/// no display, monitor, serial port or network.
pub const QEMU_SYSTEM_OPTIONS: [&str; 10] = [
    "-semihosting-config",
    "enable=on,target=native",
    "-display",
    "none",
    "-monitor",
    "none",
    "-serial",
    "none",
    "-nic",
    "none",
];

/// Bounds on each run: a check firmware takes seconds; a test suite under
/// qemu-user, with its build, a few minutes.
const CHECK_TIMEOUT: Duration = Duration::from_secs(300);
const SUITE_TIMEOUT: Duration = Duration::from_secs(1800);

/// What one row printed and how it ended.
pub struct RowResult {
    pub target: Target,
    pub outcome: Outcome,
    /// The check program's output (empty when it did not run).
    pub output: String,
}

pub enum Outcome {
    Passed { checks: String },
    Failed(String),
    Skipped(String),
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut only: Option<Vec<String>> = None;
    let mut suites = true;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--write-fixtures" => return fixtures::write(),
            "--no-tests" => suites = false,
            "--only" => {
                let list = args.next().ok_or("`--only` needs a list of target names")?;
                only = Some(list.split(',').map(str::to_string).collect());
            }
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    fixtures::check()?;
    let rows: Vec<Target> = match &only {
        None => TARGETS.to_vec(),
        Some(names) => {
            let mut rows = Vec::new();
            for name in names {
                let t = TARGETS.iter().find(|t| t.name == name).ok_or_else(|| {
                    let known: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
                    format!("no target `{name}` (targets: {})", known.join(", "))
                })?;
                rows.push(*t);
            }
            rows
        }
    };
    install(&rows)?;
    let mut results = Vec::new();
    for target in rows {
        let started = Instant::now();
        println!("== cross {} ({})", target.name, target.triple);
        let result = run_row(target, suites);
        let took = started.elapsed().as_secs_f64();
        match &result.outcome {
            Outcome::Passed { checks } => println!("{}: ok, {checks} ({took:.0} s)", target.name),
            Outcome::Failed(why) => println!("{}: FAILED: {why} ({took:.0} s)", target.name),
            Outcome::Skipped(why) => println!("{}: skipped: {why}", target.name),
        }
        results.push(result);
    }
    let digests = compare::digests(&results, expected_rules()?);
    let mut failed = 0;
    for r in &results {
        if let Outcome::Failed(_) = r.outcome {
            failed += 1;
        }
    }
    let mut passed = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Passed { .. }))
        .count();
    match &digests {
        Ok(line) => println!("{line}"),
        Err(e) => {
            println!("digests: {e}");
            let detail = compare::locate(&results, build_traced);
            println!("{detail}");
            // A digest mismatch fails every row that disagrees with the
            // reference; count it once against the run.
            passed = passed.saturating_sub(1);
            failed += 1;
        }
    }
    for r in &results {
        if let Outcome::Skipped(why) = &r.outcome {
            println!("skipped {}: {why}", r.target.name);
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} failed"))
    }
}

/// The number of rules the C ABI exports: the `FREESTEP_RULE_*` values of
/// the committed header.
fn expected_rules() -> Result<usize, String> {
    let path = root().join("include/freestep.h");
    let header = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(header
        .lines()
        .filter(|l| l.trim_start().starts_with("FREESTEP_RULE_") && l.contains('='))
        .count())
}

/// Installs the rustup targets and Debian packages the rows need.
fn install(rows: &[Target]) -> Result<(), String> {
    let mut triples = Vec::new();
    let mut packages: Vec<Package> = Vec::new();
    for t in rows {
        if t.triple != HOST_TRIPLE {
            triples.push(t.triple);
        }
        match t.runner {
            Runner::Host => {}
            Runner::QemuUser { gnu, .. } => {
                packages.push(setup::QEMU_USER);
                packages.extend(setup::linux_cross(gnu));
            }
            Runner::QemuSystem { qemu, .. } => packages.push(match qemu {
                "qemu-system-arm" => setup::QEMU_SYSTEM_ARM,
                _ => setup::QEMU_SYSTEM_MISC,
            }),
        }
    }
    triples.dedup();
    setup::ensure(&triples, &packages)
}

fn run_row(target: Target, suites: bool) -> RowResult {
    let result = |outcome, output| RowResult {
        target,
        outcome,
        output,
    };
    if let Some(flag) = target.needs_cpu_flag {
        if !cpu_has(flag) {
            let why = format!("this CPU has no {flag}, which {} needs", target.name);
            return result(Outcome::Skipped(why), String::new());
        }
    }
    if suites && !matches!(target.runner, Runner::QemuSystem { .. }) {
        if let Err(e) = test_suite(target) {
            return result(Outcome::Failed(format!("cargo test: {e}")), String::new());
        }
    }
    if matches!(target.runner, Runner::QemuSystem { .. }) {
        if let Err(e) = self_tests(target) {
            return result(Outcome::Failed(e), String::new());
        }
    }
    // Each part's output ends in its own counts; the row's are their sum.
    let mut output = String::new();
    let mut counts = Some((0, 0));
    for part in parts(target) {
        let run = build_check_with(target, &[("FREESTEP_CHECK_PART", part)])
            .and_then(|program| run_check(target, &program));
        let printed = match run {
            Ok(printed) => printed,
            Err(e) => return result(Outcome::Failed(format!("part {part}: {e}")), output),
        };
        let last = printed.lines().last().unwrap_or("");
        counts = match (counts, parse_counts(last)) {
            (Some((p, f)), Some((dp, df))) => Some((p + dp, f + df)),
            _ => None,
        };
        output.push_str(&printed);
    }
    let last = match counts {
        Some((passed, failed)) => format!("{passed} passed, {failed} failed"),
        None => output.lines().last().unwrap_or("").to_string(),
    };
    let outcome = match counts {
        Some((_, 0)) if output.contains("\nDIGEST ") => Outcome::Passed { checks: last },
        Some((_, 0)) => Outcome::Failed("no DIGEST line".into()),
        _ => {
            let fails: Vec<&str> = output
                .lines()
                .filter(|l| {
                    l.starts_with("FAIL") || l.starts_with("PANIC") || l.starts_with("FAULT")
                })
                .collect();
            Outcome::Failed(format!("{last}; {}", fails.join("; ")))
        }
    };
    result(outcome, output)
}

/// The builds of `freestep-check` a row runs (see `PART` in
/// `tests/target/src/main.rs`): the Cortex-M0's 256 KiB of flash hold half
/// of the checks at a time, every other target all of them.
fn parts(target: Target) -> &'static [&'static str] {
    match target.name {
        "cortex-m0" => &["core", "replays"],
        _ => &["all"],
    }
}

/// A bare-metal firmware that panics, and one that faults, must end QEMU
/// with a failure and say why, not hang or pass.
fn self_tests(target: Target) -> Result<(), String> {
    for (kind, says) in [("panic", "PANIC"), ("fault", "FAULT")] {
        let program = build_check_with(target, &[("FREESTEP_CHECK_SELF_TEST", kind)])?;
        let mut cmd = system_run(target, &program);
        let out = shell::run_bounded(&mut cmd, CHECK_TIMEOUT)?;
        let printed = format!("{}{}", out.stdout, out.stderr);
        if out.timed_out || out.code == Some(0) || !printed.contains(says) {
            let (code, timed_out) = (out.code, out.timed_out);
            return Err(format!(
                "the {kind} self-test firmware did not fail as it must \
                 (exit {code:?}, timed out: {timed_out})\n{}",
                tail(&printed, 10)
            ));
        }
    }
    println!(
        "{}: a panic and a fault each end QEMU with a failure",
        target.name
    );
    Ok(())
}

/// `N passed, M failed` as numbers.
pub fn parse_counts(line: &str) -> Option<(u64, u64)> {
    let (p, f) = line.split_once(" passed, ")?;
    let f = f.strip_suffix(" failed")?;
    Some((p.trim().parse().ok()?, f.trim().parse().ok()?))
}

fn cpu_has(flag: &str) -> bool {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|info| {
            info.lines()
                .filter(|l| l.starts_with("flags"))
                .any(|l| l.split_whitespace().any(|w| w == flag))
        })
        .unwrap_or(false)
}

/// Where a row builds: the x86-64 feature levels need their own directory,
/// since their flags differ from the baseline's for the same triple.
fn target_dir(target: Target) -> PathBuf {
    if target.rustflags.is_empty() {
        root().join("target")
    } else {
        root().join("target/cross").join(target.name)
    }
}

/// A cargo command for the row: target directory, flags, linker, runner.
fn cargo_for(target: Target) -> Command {
    let mut cmd = shell::cargo_cross();
    cmd.env("CARGO_TARGET_DIR", target_dir(target));
    if !target.rustflags.is_empty() {
        cmd.env("RUSTFLAGS", target.rustflags);
    }
    if let Runner::QemuUser { qemu, gnu } = target.runner {
        let key = target.triple.to_uppercase().replace(['-', '.'], "_");
        cmd.env(format!("CARGO_TARGET_{key}_LINKER"), format!("{gnu}-gcc"));
        cmd.env(
            format!("CARGO_TARGET_{key}_RUNNER"),
            format!("{qemu} -L /usr/{gnu}"),
        );
    }
    cmd
}

/// Passes `--target` except for the plain host row, which then shares the
/// build of `cargo xtask test`.
fn with_target(cmd: &mut Command, target: Target) {
    if !(target.triple == HOST_TRIPLE && target.rustflags.is_empty()) {
        cmd.args(["--target", target.triple]);
    }
}

fn out_dir(target: Target) -> PathBuf {
    let dir = target_dir(target);
    if target.triple == HOST_TRIPLE && target.rustflags.is_empty() {
        dir
    } else {
        dir.join(target.triple)
    }
}

/// The `cargo test` suite of core and ffi on the row.
fn test_suite(target: Target) -> Result<(), String> {
    let mut cmd = cargo_for(target);
    cmd.args(["test", "--quiet", "-p", "freestep", "-p", "freestep-ffi"]);
    with_target(&mut cmd, target);
    let out = shell::run_bounded(&mut cmd, SUITE_TIMEOUT)?;
    let ok = out.code == Some(0);
    let summary: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("test result:"))
        .collect();
    let tests: u64 = summary
        .iter()
        .filter_map(|l| l.split_whitespace().nth(3)?.parse::<u64>().ok())
        .sum();
    if out.timed_out {
        return Err(format!("timed out after {} s", SUITE_TIMEOUT.as_secs()));
    }
    if !ok {
        return Err(format!(
            "failed ({:?})\n{}\n{}",
            out.code,
            tail(&out.stdout, 40),
            tail(&out.stderr, 40)
        ));
    }
    println!(
        "{}: cargo test passed ({tests} tests in {} suites)",
        target.name,
        summary.len()
    );
    Ok(())
}

/// Builds `freestep-check` for the row (with `FREESTEP_TRACE=case` when
/// tracing); returns the program.
pub fn build_check(target: Target, trace: Option<&str>) -> Result<PathBuf, String> {
    // The first part holds the digest.
    let part = ("FREESTEP_CHECK_PART", parts(target)[0]);
    match trace {
        Some(case) => build_check_with(target, &[part, ("FREESTEP_TRACE", case)]),
        None => build_check_with(target, &[part]),
    }
}

/// Builds `freestep-check` with the given build-time variables (and none of
/// the others, so that each build is the one asked for).
fn build_check_with(target: Target, vars: &[(&str, &str)]) -> Result<PathBuf, String> {
    let mut cmd = cargo_for(target);
    cmd.args(["build", "--quiet", "--release", "-p", "freestep-check"]);
    cmd.args(["--bin", "freestep-check"]);
    with_target(&mut cmd, target);
    cmd.env("FREESTEP_TARGET_NAME", target.name);
    for var in [
        "FREESTEP_TRACE",
        "FREESTEP_CHECK_SELF_TEST",
        "FREESTEP_CHECK_PART",
    ] {
        cmd.env_remove(var);
    }
    for (key, value) in vars {
        cmd.env(key, value);
    }
    shell::run(&mut cmd)?;
    Ok(out_dir(target).join("release/freestep-check"))
}

/// The qemu-system command that runs `program` on the row's board.
fn system_run(target: Target, program: &PathBuf) -> Command {
    let mut c = Command::new(match target.runner {
        Runner::QemuSystem { qemu, .. } => qemu,
        _ => "false",
    });
    if let Runner::QemuSystem { machine, .. } = target.runner {
        c.args(machine)
            .args(QEMU_SYSTEM_OPTIONS)
            .arg("-kernel")
            .arg(program);
    }
    c
}

/// Runs the check program on the row; returns what it printed.
pub fn run_check(target: Target, program: &PathBuf) -> Result<String, String> {
    let mut cmd = match target.runner {
        Runner::Host => Command::new(program),
        Runner::QemuUser { qemu, gnu } => {
            let mut c = Command::new(qemu);
            c.args(["-L", &format!("/usr/{gnu}")]).arg(program);
            c
        }
        Runner::QemuSystem { qemu, machine } => {
            let mut c = Command::new(qemu);
            c.args(machine)
                .args(QEMU_SYSTEM_OPTIONS)
                .arg("-kernel")
                .arg(program);
            c
        }
    };
    let out = shell::run_bounded(&mut cmd, CHECK_TIMEOUT)?;
    // QEMU writes semihosting output to its standard error.
    let printed = match target.runner {
        Runner::QemuSystem { .. } => format!("{}{}", out.stdout, out.stderr),
        _ => out.stdout,
    };
    if out.timed_out {
        return Err(format!(
            "the check program ran past {} s and was killed\n{}",
            CHECK_TIMEOUT.as_secs(),
            tail(&printed, 10)
        ));
    }
    if out.code != Some(0) {
        return Err(format!(
            "the check program exited with {:?}\n{}{}",
            out.code,
            tail(&printed, 20),
            tail(&out.stderr, 10)
        ));
    }
    Ok(printed)
}

/// Builds and runs the row's check program with one case traced.
fn build_traced(target: Target, case: &str) -> Result<String, String> {
    let program = build_check(target, Some(case))?;
    let output = run_check(target, &program);
    // Leave the normal build in place for the next run.
    build_check(target, None)?;
    output
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let from = all.len().saturating_sub(lines);
    let mut s = all[from..].join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}
