//! `cargo xtask demo --target cortex-m4f`: the digits trainer on a
//! microcontroller, emulated.
//!
//! The very source of the host demo, `examples/c/train_digits.c`, is
//! compiled with `arm-none-eabi-gcc` for a Cortex-M4F with its
//! single-precision FPU (hard-float ABI) and the demo's own C flags, and
//! linked with newlib, librdimon (stdio over semihosting), the startup code
//! and linker script of `examples/firmware/mps2-an386/` and the bare-metal
//! `libfreestep.a` (release, LTO) that `cargo xtask no-panic` proves free of
//! panic paths. QEMU runs it as the MPS2 AN386 board, with no network, no
//! monitor and no debugger, killed after [`TRAIN_TIMEOUT`]. The options
//! reach `main` through the semihosting command line, and main's status is
//! QEMU's exit status; a fault exits with 1 after a message on stderr.
//!
//! The firmware ends its output with `ram: static N B, stack N B, heap N B,
//! total N B`, which must stay within [`RAM_BUDGET`]; this task adds the
//! flash size read from the ELF and QEMU's wall time. Everything else the
//! firmware prints is the host demo's output, bit for bit: `--compare-host`
//! checks that line by line.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{no_panic, setup, shell, trainer};

/// The demo's name for this target (`--target cortex-m4f`).
pub const TARGET_NAME: &str = "cortex-m4f";

/// The RAM a microcontroller must have for the demo: static data, stack
/// and heap together, as measured, must fit.
pub const RAM_BUDGET: u64 = 256 * 1024;

/// A training run in QEMU takes about 12 s on the development machine.
const TRAIN_TIMEOUT: Duration = Duration::from_secs(300);
/// Each fault probe ends in well under a second.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

const STARTUP: &str = "examples/firmware/mps2-an386/startup.c";
const LINKER_SCRIPT: &str = "examples/firmware/mps2-an386/mps2-an386.ld";
const PROBE: &str = "examples/firmware/mps2-an386/fault_probe.c";

/// Cortex-M4 with its FPv4-SP FPU, floats passed in FPU registers (the ABI
/// of `thumbv7em-none-eabihf`).
const ARCH_FLAGS: &[&str] = &[
    "-mcpu=cortex-m4",
    "-mthumb",
    "-mfloat-abi=hard",
    "-mfpu=fpv4-sp-d16",
];

/// newlib with librdimon, but the startup of `startup.c` instead of
/// rdimon's crt0; unused sections dropped. `-z noexecstack` keeps the
/// linker from warning about newlib objects that lack a stack note.
const LINK_FLAGS: &[&str] = &[
    "-ffunction-sections",
    "-fdata-sections",
    "--specs=rdimon.specs",
    "-nostartfiles",
    "-Wl,--gc-sections",
    "-Wl,-z,noexecstack",
];

/// SSRAM1, where code and read-only data live (the board's "flash").
const FLASH_END: u64 = 0x0040_0000;

/// QEMU's board always has its LAN9118; with `-nic none` it says so once on
/// stderr. Nothing else is left out of what the run printed.
const NO_PEER_WARNING: &str = "qemu-system-arm: warning: nic lan9118.0 has no peer";

/// `cargo xtask demo --target cortex-m4f [--compare-host] [options]`:
/// `pass` are the options for the trainer.
pub fn run(pass: &[String], compare_host: bool) -> Result<(), String> {
    let elf = build_trainer()?;
    let flash = flash_size(&elf)?;
    println!(
        "(running {} in QEMU, mps2-an386; its output follows when it ends)",
        short(&elf)
    );
    let run = qemu(&elf, "train_digits", pass, TRAIN_TIMEOUT)?;
    print!("{}", run.stdout);
    eprint!("{}", run.stderr);
    println!("{flash}");
    println!(
        "qemu: {:.1} s wall time (timeout {} s)",
        run.elapsed.as_secs_f64(),
        TRAIN_TIMEOUT.as_secs()
    );
    if run.timed_out || run.code != Some(0) {
        return Err(format!(
            "the {TARGET_NAME} firmware failed: QEMU {} (its output is above)",
            run.ending()
        ));
    }
    Ram::parse(&run.stdout)?.check()?;
    if compare_host {
        let host = trainer::host_output(pass)?;
        compare(&host, &run.stdout)?;
        let digest = trainer::printed_value(&host, "weights digest:").unwrap_or("-");
        println!(
            "host and {TARGET_NAME} print the same {} lines (weights digest {digest})",
            host.lines().count()
        );
    }
    Ok(())
}

/// The whole check for `cargo xtask test`: the firmware's failures must
/// read as failures ([`check_exits`]), and the default training on the
/// Cortex-M4F must reach `min_accuracy`, stay within [`RAM_BUDGET`] and
/// print exactly what the host build prints, weights digest included.
pub fn check_matches_host(min_accuracy: f64) -> Result<(), String> {
    check_exits()?;
    let mcu = default_run()?;
    let (accuracy, digest) = trainer::checked_result(&mcu, min_accuracy)
        .map_err(|e| format!("{e}\n--- output of the firmware\n{mcu}"))?;
    let host = trainer::host_output(&[])?;
    compare(&host, &mcu)?;
    println!(
        "demo on {TARGET_NAME}: test accuracy {accuracy}, weights digest {digest}, \
         the same {} lines as on the host",
        host.lines().count()
    );
    Ok(())
}

/// Runs `fault_probe.c` once per way of failing and requires each run to
/// end with the expected non-zero status (and, for a fault, the firmware's
/// message) well within its timeout, so that a passing training run means
/// something.
pub fn check_exits() -> Result<(), String> {
    let elf = build_firmware(&[PROBE], None, "fault_probe")?;
    let cases: &[(&str, i32, &str)] = &[
        ("return-3", 3, ""),
        ("exit-5", 5, ""),
        ("undefined", 1, "firmware: UsageFault"),
        ("divide", 1, "firmware: UsageFault"),
        ("overflow", 1, "firmware: the stack guard was hit"),
        ("guard", 1, "firmware: MemManage fault"),
        ("", 2, "usage: fault_probe"),
    ];
    for &(case, status, message) in cases {
        let args: Vec<String> = match case {
            "" => Vec::new(),
            case => vec![case.to_string()],
        };
        let run = qemu(&elf, "fault_probe", &args, PROBE_TIMEOUT)?;
        let ok = !run.timed_out && run.code == Some(status) && run.stderr.contains(message);
        if !ok {
            return Err(format!(
                "the fault probe `{case}` should exit QEMU with status {status} \
                 and print `{message}` on stderr; it {}\n{}",
                run.ending(),
                run.transcript()
            ));
        }
    }
    println!("firmware exits: main's status, exit() and faults all reach QEMU's exit status");
    Ok(())
}

/// The default training run; fails unless it succeeded within the RAM
/// budget. Returns what the firmware printed on stdout.
fn default_run() -> Result<String, String> {
    let elf = build_trainer()?;
    let run = qemu(&elf, "train_digits", &[], TRAIN_TIMEOUT)?;
    run.succeeded()?;
    Ram::parse(&run.stdout)?.check()?;
    Ok(run.stdout)
}

/// Requires the firmware's stdout, less its `ram:` line, to be the host's.
fn compare(host: &str, mcu: &str) -> Result<(), String> {
    let mcu_lines: Vec<&str> = mcu.lines().filter(|l| !l.starts_with("ram:")).collect();
    let host_lines: Vec<&str> = host.lines().collect();
    if mcu_lines == host_lines {
        return Ok(());
    }
    let at = host_lines
        .iter()
        .zip(&mcu_lines)
        .position(|(h, m)| h != m)
        .unwrap_or(host_lines.len().min(mcu_lines.len()));
    let line = |lines: &[&str]| {
        lines
            .get(at)
            .copied()
            .unwrap_or("(no more lines)")
            .to_string()
    };
    Err(format!(
        "the {TARGET_NAME} run printed something else than the host run, from \
         line {}:\n  host:       {}\n  {TARGET_NAME}: {}\n(the C code must compute \
         the same bits on both: look for contracted multiply-adds, excess \
         precision or a libc difference)",
        at + 1,
        line(&host_lines),
        line(&mcu_lines)
    ))
}

/// Makes sure the cross tools are there (installing them on a fresh
/// Debian or Ubuntu machine).
fn ensure_tools() -> Result<(), String> {
    setup::ensure(
        &[no_panic::TARGET],
        &[
            setup::ARM_NONE_EABI_GCC,
            setup::NEWLIB,
            setup::QEMU_SYSTEM_ARM,
        ],
    )
}

/// The trainer's firmware, with the data checked to sit in flash.
fn build_trainer() -> Result<PathBuf, String> {
    trainer::check_data_header()?;
    ensure_tools()?;
    let library = no_panic::build_library(None)?;
    let elf = build_firmware(&[trainer::SOURCE], Some(&library), "train_digits")?;
    check_data_in_flash(&elf)?;
    Ok(elf)
}

/// Compiles `sources` with the startup code and links them (and `library`)
/// into `target/demo/cortex-m4f/<name>.elf`, with a map file beside it.
fn build_firmware(sources: &[&str], library: Option<&Path>, name: &str) -> Result<PathBuf, String> {
    ensure_tools()?;
    let out_dir = trainer::target_dir().join("demo").join(TARGET_NAME);
    fs::create_dir_all(&out_dir)
        .map_err(|e| format!("could not create {}: {e}", out_dir.display()))?;
    let elf = out_dir.join(format!("{name}.elf"));
    let map = out_dir.join(format!("{name}.map"));
    let mut cmd = Command::new("arm-none-eabi-gcc");
    cmd.current_dir(shell::root())
        .args(ARCH_FLAGS)
        .args(trainer::CFLAGS)
        .args(["-Iinclude", "-Iexamples/c"])
        .args(sources)
        .arg(STARTUP);
    if let Some(library) = library {
        cmd.arg(library);
    }
    cmd.args(LINK_FLAGS)
        .args(["-T", LINKER_SCRIPT])
        .arg(format!("-Wl,-Map={}", map.display()))
        .arg("-o")
        .arg(&elf);
    shell::run(&mut cmd).map_err(|e| {
        format!(
            "could not build the {TARGET_NAME} firmware (the compiler's messages are above): {e}"
        )
    })?;
    Ok(elf)
}

/// The digits are `static const`: they must be linked into flash, not into
/// RAM (where .data would also keep a copy in flash to start from).
fn check_data_in_flash(elf: &Path) -> Result<(), String> {
    let output = tool("arm-none-eabi-nm", elf)?;
    for symbol in ["digits_pixels", "digits_labels"] {
        let address = output
            .lines()
            .find_map(|line| {
                let mut words = line.split_whitespace();
                let (address, _kind, name) = (words.next()?, words.next()?, words.next()?);
                (name == symbol).then(|| u64::from_str_radix(address, 16).ok())?
            })
            .ok_or_else(|| format!("{}: no symbol {symbol} to check", short(elf)))?;
        if address >= FLASH_END {
            return Err(format!(
                "{symbol} is linked at {address:#x}, in RAM: it must stay `static const` \
                 in examples/c/digits_data.h so that it stays in flash"
            ));
        }
    }
    Ok(())
}

/// What is stored in flash, from the ELF's section headers.
struct Flash {
    text: u64,
    rodata: u64,
    /// The rest: the .data image, unwinding index, constructor table.
    other: u64,
}

impl std::fmt::Display for Flash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "flash: .text {} B + .rodata {} B = {} B (plus {} B of .data image and tables)",
            self.text,
            self.rodata,
            self.text + self.rodata,
            self.other
        )
    }
}

fn flash_size(elf: &Path) -> Result<Flash, String> {
    let output = tool("arm-none-eabi-size", elf)?;
    let mut flash = Flash {
        text: 0,
        rodata: 0,
        other: 0,
    };
    let mut seen = false;
    for line in output.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(Ok(size))) = (words.next(), words.next().map(str::parse::<u64>))
        else {
            continue;
        };
        match name {
            ".text" => {
                flash.text = size;
                seen = true;
            }
            ".rodata" => flash.rodata = size,
            // Loaded into flash: tables, and .data's initial values (placed
            // at its load address in flash, run from RAM).
            ".data" | ".ARM.exidx" | ".ARM.extab" | ".init_array" => flash.other += size,
            _ => {}
        }
    }
    if !seen {
        return Err(format!(
            "arm-none-eabi-size printed no .text section for {}:\n{output}",
            short(elf)
        ));
    }
    Ok(flash)
}

/// Runs a binutils tool on the ELF; returns its standard output.
fn tool(name: &str, elf: &Path) -> Result<String, String> {
    let mut cmd = Command::new(name);
    if name.ends_with("-size") {
        cmd.args(["-A", "-d"]);
    }
    let output = cmd
        .arg(elf)
        .output()
        .map_err(|e| format!("could not start {name} (part of binutils-arm-none-eabi): {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{name} {} failed with {}: {}",
            short(elf),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The firmware's RAM use, from its `ram:` line.
struct Ram {
    total: u64,
    line: String,
}

impl Ram {
    fn parse(stdout: &str) -> Result<Ram, String> {
        let line = stdout
            .lines()
            .find(|l| l.starts_with("ram: "))
            .ok_or_else(|| format!("the firmware printed no `ram:` line\n--- stdout\n{stdout}"))?;
        let numbers: Vec<u64> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .filter_map(|w| w.parse().ok())
            .collect();
        let [stat, stack, heap, total] = numbers[..] else {
            return Err(format!("cannot read the firmware's `{line}`"));
        };
        if stat + stack + heap != total {
            return Err(format!("the firmware's `{line}` does not add up"));
        }
        Ok(Ram {
            total,
            line: line.to_string(),
        })
    }

    fn check(&self) -> Result<(), String> {
        if self.total > RAM_BUDGET {
            return Err(format!(
                "the firmware used more RAM than the {} KiB budget: `{}`",
                RAM_BUDGET / 1024,
                self.line
            ));
        }
        Ok(())
    }
}

/// One run of a firmware in QEMU.
struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
    timed_out: bool,
    elapsed: Duration,
    timeout: Duration,
}

impl Run {
    fn ending(&self) -> String {
        match (self.timed_out, self.code) {
            (true, _) => format!("was killed after the {} s timeout", self.timeout.as_secs()),
            (false, Some(code)) => format!("exited with status {code}"),
            (false, None) => "was killed by a signal".to_string(),
        }
    }

    fn transcript(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout, self.stderr)
    }

    fn succeeded(&self) -> Result<(), String> {
        if !self.timed_out && self.code == Some(0) {
            return Ok(());
        }
        Err(format!(
            "the {TARGET_NAME} firmware failed: QEMU {}\n{}",
            self.ending(),
            self.transcript()
        ))
    }
}

/// Runs `elf` on QEMU's MPS2 AN386 with `program` and `args` as its
/// semihosting command line, killed after `timeout`. No network (`-nic
/// none`), no monitor, no gdb server; semihosting only for the console and
/// the exit status.
fn qemu(elf: &Path, program: &str, args: &[String], timeout: Duration) -> Result<Run, String> {
    let mut semihosting = String::from("enable=on,target=native");
    for arg in std::iter::once(program).chain(args.iter().map(String::as_str)) {
        if arg.is_empty() || arg.contains(char::is_whitespace) {
            return Err(format!(
                "`{arg}`: the firmware splits its command line at spaces, so its \
                 arguments cannot be empty or contain white space"
            ));
        }
        // QEMU's option syntax: a comma inside a value is written twice.
        semihosting.push_str(",arg=");
        semihosting.push_str(&arg.replace(',', ",,"));
    }
    let mut cmd = Command::new("qemu-system-arm");
    cmd.current_dir(shell::root())
        .args([
            "-M",
            "mps2-an386",
            "-nographic",
            "-monitor",
            "none",
            "-nic",
            "none",
        ])
        .args(["-semihosting-config", &semihosting])
        .arg("-kernel")
        .arg(elf);
    let started = Instant::now();
    let bounded = shell::run_bounded(&mut cmd, timeout)?;
    let elapsed = started.elapsed();
    let stderr: String = bounded
        .stderr
        .lines()
        .filter(|l| l.trim_end() != NO_PEER_WARNING)
        .map(|l| format!("{l}\n"))
        .collect();
    Ok(Run {
        stdout: bounded.stdout,
        stderr,
        code: bounded.code,
        timed_out: bounded.timed_out,
        elapsed,
        timeout,
    })
}

/// A path relative to the workspace, for messages.
fn short(path: &Path) -> String {
    let root = shell::root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_ram_line() {
        let out = "weights digest: ab\nram: static 10 B, stack 20 B, heap 30 B, total 60 B\n";
        let ram = Ram::parse(out).unwrap();
        assert_eq!(ram.total, 60);
        assert!(ram.check().is_ok());
        assert!(Ram::parse("ram: static 10 B, stack 20 B, heap 30 B, total 61 B").is_err());
        assert!(Ram::parse("no line").is_err());
        let big = format!(
            "ram: static {RAM_BUDGET} B, stack 1 B, heap 0 B, total {} B",
            RAM_BUDGET + 1
        );
        assert!(Ram::parse(&big).unwrap().check().is_err());
    }

    /// The check `cargo xtask test` is meant to run, here for running it
    /// alone: `cargo test -p xtask --release -- --ignored firmware`.
    #[test]
    #[ignore = "builds the firmware and runs QEMU for about 15 s"]
    fn firmware_exits_and_matches_host() {
        check_matches_host(0.95).unwrap();
    }

    #[test]
    fn compares_all_but_the_ram_line() {
        let host = "epoch 1 loss 0.5\nweights digest: ab\n";
        assert!(compare(
            host,
            "epoch 1 loss 0.5\nweights digest: ab\nram: static 1 B\n"
        )
        .is_ok());
        let err = compare(host, "epoch 1 loss 0.6\nweights digest: ab\n").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
        assert!(compare(host, "epoch 1 loss 0.5\n").is_err());
    }
}
