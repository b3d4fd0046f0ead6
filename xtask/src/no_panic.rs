//! `cargo xtask no-panic`: proves that no exported function of the C ABI
//! can panic.
//!
//! On bare-metal targets `freestep-ffi`'s panic handler calls
//! `freestep_panic_path_is_reachable`, a function that exists nowhere. The
//! task builds the release (LTO) `libfreestep.a` for Cortex-M4F, Cortex-M0
//! (at its opt-level s) and Cortex-M33, and for each links a firmware that
//! takes the address of every function in `include/freestep.h`. If the
//! optimiser left any panic path (an index check, a division by a
//! possibly-zero value, an `unwrap`), the handler is referenced and the link
//! fails.
//!
//! A check that cannot fail proves nothing, so the task first builds a
//! control library with `--cfg freestep_panic_probe`, which adds one
//! exported function with a reachable bounds check, and requires that link
//! to fail on exactly that symbol.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::setup;
use crate::shell::{self, root};

pub const TARGET: &str = "thumbv7em-none-eabihf";
const PANIC_SYMBOL: &str = "freestep_panic_path_is_reachable";

/// The cores checked, each with its own optimisation settings (the M0's
/// opt-level s among them), and the C flags of a firmware for it.
const CORES: [(&str, &[&str]); 3] = [
    (
        TARGET,
        &[
            "-mcpu=cortex-m4",
            "-mthumb",
            "-mfloat-abi=hard",
            "-mfpu=fpv4-sp-d16",
        ],
    ),
    (
        "thumbv6m-none-eabi",
        &["-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"],
    ),
    (
        "thumbv8m.main-none-eabihf",
        &[
            "-mcpu=cortex-m33",
            "-mthumb",
            "-mfloat-abi=hard",
            "-mfpu=fpv5-sp-d16",
        ],
    ),
];
const CFLAGS: &[&str] = &["-std=c11", "-Wall", "-Werror", "-O2"];

pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(extra) = args.first() {
        return Err(format!("`no-panic` takes no arguments (got `{extra}`)"));
    }
    let triples: Vec<&str> = CORES.iter().map(|(t, _)| *t).collect();
    setup::ensure(&triples, &[setup::ARM_NONE_EABI_GCC, setup::NEWLIB])?;
    let dir = root().join("target/no-panic");
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let names = exported_functions(&root().join("include/freestep.h"))?;
    let source = dir.join("uses_every_function.c");
    fs::write(&source, firmware_source(&names)).map_err(|e| e.to_string())?;

    let (_, m4f) = CORES[0];
    let control = build_library(Some(&dir.join("control")))?;
    match link(&source, &control, m4f, &dir.join("control.elf")) {
        Err(out) if out.contains(PANIC_SYMBOL) => {}
        Err(out) => {
            return Err(format!(
                "the control link failed for another reason:\n{out}"
            ))
        }
        Ok(()) => {
            return Err(format!(
                "the control library, which has a panic path, linked: the check is broken \
                 (is the panic handler still calling {PANIC_SYMBOL}?)"
            ))
        }
    }
    for (triple, flags) in CORES {
        let library = build_library_for(triple, None)?;
        let elf = dir.join(format!("every_function.{triple}.elf"));
        link(&source, &library, flags, &elf).map_err(|out| {
            format!(
                "libfreestep.a for {triple} has a reachable panic path (the linker names \
                 {PANIC_SYMBOL} below); find the call with arm-none-eabi-objdump -dr on the \
                 archive:\n{out}"
            )
        })?;
    }
    println!(
        "no-panic: all {} exported functions link without a panic path for {} \
         (the control with one fails to link, as it must)",
        names.len(),
        triples.join(", ")
    );
    Ok(())
}

/// Builds the release library for the Cortex-M4F; with `probe_dir`, the
/// control build with a panic path, in its own target directory.
pub fn build_library(probe_dir: Option<&Path>) -> Result<PathBuf, String> {
    build_library_for(TARGET, probe_dir)
}

/// Builds the release library for `triple`; with `probe_dir`, the control
/// build with a panic path, in its own target directory.
fn build_library_for(triple: &str, probe_dir: Option<&Path>) -> Result<PathBuf, String> {
    let mut cmd = shell::cargo_cross();
    // Only the static library: bare-metal targets have no shared libraries.
    cmd.args([
        "rustc",
        "--quiet",
        "--release",
        "-p",
        "freestep-ffi",
        "--target",
        triple,
    ]);
    cmd.args(["--crate-type", "staticlib"]);
    let target_dir = match probe_dir {
        Some(dir) => {
            cmd.env("CARGO_TARGET_DIR", dir)
                .env("RUSTFLAGS", "--cfg freestep_panic_probe");
            dir.to_path_buf()
        }
        None => root().join("target"),
    };
    shell::run(&mut cmd)?;
    Ok(target_dir.join(triple).join("release/libfreestep.a"))
}

/// The names of the functions the header declares.
pub fn exported_functions(header: &Path) -> Result<Vec<String>, String> {
    let text = fs::read_to_string(header).map_err(|e| format!("{}: {e}", header.display()))?;
    let mut names = Vec::new();
    for line in text.lines() {
        // Declarations start in column 0 with a type; comments and macros
        // start with ` *`, `/` or `#`.
        if line.starts_with([' ', '/', '#', '}']) || !line.contains('(') {
            continue;
        }
        let before_paren = line.split('(').next().unwrap_or("");
        if let Some(name) = before_paren.rsplit([' ', '*']).next() {
            if name.starts_with("freestep_") {
                names.push(name.to_string());
            }
        }
    }
    if names.is_empty() {
        return Err(format!("no functions found in {}", header.display()));
    }
    Ok(names)
}

fn firmware_source(names: &[String]) -> String {
    let mut c = String::from(
        "/* Generated by cargo xtask no-panic: keeps every exported function. */\n\
         #include \"freestep.h\"\n\n\
         typedef void (*any_function)(void);\n\
         volatile any_function every_function[] = {\n",
    );
    for name in names {
        let _ = writeln!(c, "    (any_function)(void *){name},");
    }
    c.push_str("};\n\nint main(void) { return every_function[0] == 0; }\n");
    c
}

/// Links the firmware; on failure returns the linker's output.
fn link(source: &Path, library: &Path, core: &[&str], out: &Path) -> Result<(), String> {
    let output = Command::new("arm-none-eabi-gcc")
        .args(core)
        .args(CFLAGS)
        .arg("-I")
        .arg(root().join("include"))
        .arg(source)
        .arg(library)
        .args(["--specs=nosys.specs", "-o"])
        .arg(out)
        .output()
        .map_err(|e| format!("could not start arm-none-eabi-gcc: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}
