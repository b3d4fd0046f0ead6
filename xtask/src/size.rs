//! `cargo xtask size`: what each rule costs on a microcontroller.
//!
//! For Cortex-M4F (thumbv7em-none-eabihf, MPS2 AN386) and Cortex-M0
//! (thumbv6m-none-eabi, micro:bit), and each rule in f32, it builds the
//! footprint firmware `freestep-size` (`tests/target/src/size.rs`) with only
//! that rule and reports:
//!
//! - flash: the `.text` + `.rodata` the rule adds over the same firmware
//!   with no rule;
//! - stack: how far below its caller a step's stack reached, measured by
//!   painting the stack under QEMU once the optimizer exists (so the
//!   optimizer object, which the caller may keep anywhere, is not counted);
//! - instructions per parameter of a steady (second) step, counted exactly
//!   under QEMU (one instruction per translation block, every block
//!   logged), from runs over 128 and 256 parameters and one and two steps:
//!   `((I(256,2) − I(128,2)) − (I(256,1) − I(128,1))) / 128` (the
//!   micro:bit's 16 KiB of RAM hold the arrays for 256 parameters and the
//!   step's stack, not more);
//! - state: bytes of state per parameter.
//!
//! It prints a Markdown table, the one in the README.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use freestep::{
    Accelerated, Adagrad, Adam, DAdaptAdagrad, DAdaptAdam, DAdaptAdan, DAdaptLion, DAdaptSgd, Lion,
    Madgrad, MirrorMadgrad, Momo, MomoAdam, Ngd, Polyak, PrimalAveraging, Prodigy, Rmsprop,
    ScheduleFreeAdamW, ScheduleFreeRAdam, ScheduleFreeSgd, Sgd, Shb,
};

use crate::cross::QEMU_SYSTEM_OPTIONS;
use crate::setup;
use crate::shell::{self, root};

struct Board {
    name: &'static str,
    triple: &'static str,
    machine: &'static [&'static str],
}

const BOARDS: [Board; 2] = [
    Board {
        name: "Cortex-M4F",
        triple: "thumbv7em-none-eabihf",
        machine: &["-M", "mps2-an386"],
    },
    Board {
        name: "Cortex-M0",
        triple: "thumbv6m-none-eabi",
        machine: &["-M", "microbit"],
    },
];

/// The rules of `size.rs`, with their f32 state in bytes per parameter.
fn rules() -> Vec<(&'static str, f64)> {
    let n = 1 << 16;
    let per = |values: usize| (values * 4) as f64 / n as f64;
    vec![
        ("sgd", per(Sgd::state_len(n, false))),
        ("sgd-momentum", per(Sgd::state_len(n, true))),
        ("adam", per(Adam::state_len(n, false))),
        ("adamw", per(Adam::state_len(n, false))),
        ("adamw-amsgrad", per(Adam::state_len(n, true))),
        ("sgd-schedulefree", per(ScheduleFreeSgd::state_len(n))),
        ("adamw-schedulefree", per(ScheduleFreeAdamW::state_len(n))),
        ("prodigy", per(Prodigy::state_len(n, 1))),
        ("adagrad", per(Adagrad::state_len(n))),
        ("rmsprop", per(Rmsprop::state_len(n, false, false))),
        ("madgrad", per(Madgrad::state_len(n, true))),
        ("lion", per(Lion::state_len(n))),
        ("dadapt-adam", per(DAdaptAdam::state_len(n))),
        ("dadapt-sgd", per(DAdaptSgd::state_len(n))),
        ("dadapt-lion", per(DAdaptLion::state_len(n))),
        ("dadapt-adagrad", per(DAdaptAdagrad::state_len(n))),
        ("dadapt-adan", per(DAdaptAdan::state_len(n))),
        ("mirror-madgrad", per(MirrorMadgrad::state_len(n))),
        ("momo", per(Momo::state_len(n))),
        ("momo-adam", per(MomoAdam::state_len(n))),
        ("radam-schedulefree", per(ScheduleFreeRAdam::state_len(n))),
        ("polyak", per(Polyak::state_len(n))),
        ("ngd", per(Ngd::state_len(n))),
        ("shb", per(Shb::state_len(n))),
        ("primal-averaging", per(PrimalAveraging::state_len(n))),
        ("accelerated", per(Accelerated::state_len(n))),
    ]
}

const TIMEOUT: Duration = Duration::from_secs(120);

pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(extra) = args.first() {
        return Err(format!("`size` takes no arguments (got `{extra}`)"));
    }
    let triples: Vec<&str> = BOARDS.iter().map(|b| b.triple).collect();
    setup::ensure(&triples, &[setup::QEMU_SYSTEM_ARM])?;
    let mut rows: Vec<Vec<String>> = rules()
        .iter()
        .map(|(rule, state)| vec![format!("`{rule}`"), format!("{state}")])
        .collect();
    for board in &BOARDS {
        let empty = flash(&build(board, "none")?)?;
        for (row, (rule, _)) in rows.iter_mut().zip(rules()) {
            let elf = build(board, rule)?;
            let added = flash(&elf)?.saturating_sub(empty);
            let stack = stack(board, &elf)?;
            let per_param = instructions_per_param(board, &elf)?;
            println!(
                "{} {rule}: flash +{added} B, stack {stack} B, {per_param:.1} instructions/param",
                board.name
            );
            row.extend([
                added.to_string(),
                stack.to_string(),
                format!("{per_param:.1}"),
            ]);
        }
    }
    let mut table = String::from(
        "| rule | state B/param | M4F flash B | M4F stack B | M4F instr/param \
         | M0 flash B | M0 stack B | M0 instr/param |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for row in rows {
        table.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    println!("\n{table}");
    Ok(())
}

/// Builds the footprint firmware with one rule; returns the ELF's path.
fn build(board: &Board, rule: &str) -> Result<PathBuf, String> {
    let dir = root().join("target/size").join(rule);
    shell::run(
        shell::cargo_cross()
            .args(["build", "--quiet", "--release", "-p", "freestep-check"])
            .args(["--bin", "freestep-size", "--target", board.triple])
            .env("FREESTEP_SIZE_RULE", rule)
            // One directory per rule keeps each build and its core cached.
            .env("CARGO_TARGET_DIR", &dir),
    )?;
    Ok(dir.join(board.triple).join("release/freestep-size"))
}

/// `.text` + `.rodata` of a 32-bit little-endian ELF, from its section
/// headers.
fn flash(elf: &Path) -> Result<u64, String> {
    let bytes = fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let bad = || format!("{}: not a 32-bit little-endian ELF", elf.display());
    let u16_at = |at: usize| -> Option<u64> {
        Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?) as u64)
    };
    let u32_at = |at: usize| -> Option<u64> {
        Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as u64)
    };
    // Magic, 32-bit class, little-endian data.
    if bytes.get(..6) != Some(b"\x7fELF\x01\x01".as_slice()) {
        return Err(bad());
    }
    let shoff = u32_at(0x20).ok_or_else(bad)? as usize;
    let shentsize = u16_at(0x2e).ok_or_else(bad)? as usize;
    let shnum = u16_at(0x30).ok_or_else(bad)? as usize;
    let shstrndx = u16_at(0x32).ok_or_else(bad)? as usize;
    let header = |i: usize| shoff + i * shentsize;
    let names = u32_at(header(shstrndx) + 0x10).ok_or_else(bad)? as usize;
    let mut total = 0;
    for i in 0..shnum {
        let name_at = names + u32_at(header(i)).ok_or_else(bad)? as usize;
        let name: Vec<u8> = bytes
            .get(name_at..)
            .ok_or_else(bad)?
            .iter()
            .take_while(|&&b| b != 0)
            .copied()
            .collect();
        if name == b".text" || name == b".rodata" {
            total += u32_at(header(i) + 0x14).ok_or_else(bad)?;
        }
    }
    Ok(total)
}

fn qemu(board: &Board, elf: &Path, append: &str) -> Command {
    let mut cmd = Command::new("qemu-system-arm");
    cmd.args(board.machine)
        .args(QEMU_SYSTEM_OPTIONS)
        .arg("-kernel")
        .arg(elf)
        .args(["-append", append]);
    cmd
}

/// The stack that two steps over 256 parameters used, less what the
/// measurement itself shows with no step (the frame of the routine that
/// reads the paint back).
fn stack(board: &Board, elf: &Path) -> Result<u64, String> {
    let measured = |append: &str| -> Result<u64, String> {
        let out = shell::run_bounded(&mut qemu(board, elf, append), TIMEOUT)?;
        let printed = format!("{}{}", out.stdout, out.stderr);
        if out.code != Some(0) {
            return Err(format!("{} stack run failed:\n{printed}", board.name));
        }
        printed
            .lines()
            .find_map(|l| l.strip_prefix("STACK ")?.trim().parse().ok())
            .ok_or_else(|| format!("{}: no STACK line in\n{printed}", board.name))
    };
    Ok(measured("256 2 stack")?.saturating_sub(measured("0 0 stack")?))
}

/// QEMU's option for one guest instruction per translation block: renamed
/// in QEMU 8.1 (Debian 12 has 7.2).
fn one_instruction_per_block() -> &'static [&'static str] {
    let version = Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let number = version
        .split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .unwrap_or("0.0");
    let mut parts = number.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) >= (8, 1) {
        &["-accel", "tcg,one-insn-per-tb=on"]
    } else {
        &["-singlestep"]
    }
}

fn instructions_per_param(board: &Board, elf: &Path) -> Result<f64, String> {
    use std::io::BufRead;
    let one_per_block = one_instruction_per_block();
    let count = |n: u64, steps: u64| -> Result<i64, String> {
        let log = root().join("target/size/exec.log");
        let _ = fs::remove_file(&log);
        let mut cmd = qemu(board, elf, &format!("{n} {steps} count"));
        cmd.args(one_per_block)
            .args(["-d", "exec,nochain", "-D"])
            .arg(&log);
        let out = shell::run_bounded(&mut cmd, TIMEOUT)?;
        if out.code != Some(0) {
            return Err(format!("{} count run failed:\n{}", board.name, out.stderr));
        }
        // Read line by line: a Prodigy log on the M0 is over 100 MB.
        let file = fs::File::open(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut executed = 0;
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(|e| format!("{}: {e}", log.display()))?;
            executed += i64::from(line.starts_with("Trace "));
        }
        let _ = fs::remove_file(&log);
        Ok(executed)
    };
    let (a1, b1, a2, b2) = (
        count(128, 1)?,
        count(256, 1)?,
        count(128, 2)?,
        count(256, 2)?,
    );
    Ok(((b2 - a2) - (b1 - a1)) as f64 / 128.0)
}
