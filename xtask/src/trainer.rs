//! The C trainer of the demo, `examples/c/train_digits.c`, on the host:
//! building `libfreestep.a` and the trainer, running it and reading what it
//! printed, and the digits data header it embeds. `cargo xtask demo` runs
//! it (`demo.rs`); the Cortex-M4F build (`demo_mcu.rs`) and the finite-sum
//! example (`finite_sum.rs`) use its library build and C flags.
//!
//! The trainer embeds the data through `examples/c/digits_data.h`, which is
//! generated from the canonical copy `examples/data/digits.csv`
//! (`cargo xtask demo --write-data-header`). Every run first checks that
//! the two agree, so a changed CSV cannot silently leave the trainer on
//! stale data.

use std::fmt::Write as _;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::shell;

pub(crate) const SOURCE: &str = "examples/c/train_digits.c";
pub(crate) const CSV: &str = "examples/data/digits.csv";
const HEADER: &str = "examples/c/digits_data.h";
const ROWS: usize = 1797;
const PIXELS: usize = 64;

/// What the demo's C must compile with: strict C11 with warnings as errors,
/// and no contraction of `a * b + c` into a fused multiply-add, which some
/// targets would do and others not, so that every target computes the same
/// bits.
pub(crate) const CFLAGS: &[&str] = &[
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-O2",
    "-ffp-contract=off",
];

/// Builds the host trainer, runs it with `args` and returns its standard
/// output; fails, with both outputs, when it does not exit with success.
pub(crate) fn host_output(args: &[String]) -> Result<String, String> {
    let program = build()?;
    let output = Command::new(&program)
        .args(args)
        .current_dir(shell::root())
        .output()
        .map_err(|e| format!("could not start {}: {e}", program.display()))?;
    if !output.status.success() {
        return Err(format!(
            "the C trainer failed with {}\n{}",
            output.status,
            transcript(&output)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The test accuracy and the weights digest a run printed, held to
/// `min_accuracy`.
pub(crate) fn checked_result(stdout: &str, min_accuracy: f64) -> Result<(f64, String), String> {
    let accuracy = printed_value(stdout, "test accuracy:")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|a| a.is_finite())
        .ok_or("the C trainer printed no `test accuracy:` line with a number")?;
    let digest = printed_value(stdout, "weights digest:")
        .filter(|d| d.len() == 16 && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or("the C trainer printed no `weights digest:` line with 16 hex digits")?;
    if accuracy < min_accuracy {
        return Err(format!(
            "test accuracy {accuracy} is below {min_accuracy}: a change to the \
             library or to {SOURCE} made the default run train worse"
        ));
    }
    Ok((accuracy, digest.to_string()))
}

/// The rest of the first line that starts with `key`, trimmed.
pub(crate) fn printed_value<'a>(stdout: &'a str, key: &str) -> Option<&'a str> {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .map(str::trim)
}

fn transcript(output: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Builds the library and the trainer; returns the trainer's path.
pub(crate) fn build() -> Result<PathBuf, String> {
    check_data_header()?;
    let library = build_library()?;
    let out_dir = target_dir().join("demo");
    fs::create_dir_all(&out_dir)
        .map_err(|e| format!("could not create {}: {e}", out_dir.display()))?;
    let program = out_dir.join("train_digits");
    compile(SOURCE, &library, &program)?;
    Ok(program)
}

/// Builds the release `libfreestep.a` for this machine; returns its path.
pub(crate) fn build_library() -> Result<PathBuf, String> {
    shell::run(shell::cargo().args(["build", "-p", "freestep-ffi", "--release"]))?;
    let target = target_dir();
    let library = target.join("release").join("libfreestep.a");
    if !library.is_file() {
        return Err(format!(
            "the build did not leave {}: check that ffi/Cargo.toml still \
             lists `staticlib` in its crate types",
            library.display()
        ));
    }
    Ok(library)
}

/// Where cargo puts its output: `$CARGO_TARGET_DIR`, else `target/`.
pub(crate) fn target_dir() -> PathBuf {
    let root = shell::root();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// Compiles and links the C program `source` with `$CC` (default `cc`).
pub(crate) fn compile(source: &str, library: &Path, program: &Path) -> Result<(), String> {
    let cc = std::env::var("CC").unwrap_or_default();
    let mut words = cc.split_whitespace();
    let compiler = words.next().unwrap_or("cc");
    let mut cmd = Command::new(compiler);
    cmd.current_dir(shell::root())
        .args(words)
        .args(CFLAGS)
        .args(["-Iinclude", "-Iexamples/c", source])
        .arg(library)
        .args(native_libs())
        .arg("-o")
        .arg(program);
    match cmd.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!(
            "{compiler} could not compile {source} ({status}); its messages \
             are above. The examples need a C11 compiler that accepts {}",
            CFLAGS.join(" ")
        )),
        Err(e) if e.kind() == ErrorKind::NotFound && cc.trim().is_empty() => Err(
            "no C compiler found (`cc`): install one (on Debian or Ubuntu: \
             `apt-get install gcc`), or set CC to the compiler to use"
                .to_string(),
        ),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(format!(
            "CC is `{cc}`, but `{compiler}` was not found: set CC to an \
             installed C compiler, or unset it to use `cc`"
        )),
        Err(e) => Err(format!("could not start the C compiler `{compiler}`: {e}")),
    }
}

/// System libraries that a Rust static library with std needs at link time
/// on this host, as `rustc --print native-static-libs` lists them. The macOS
/// list is rustc's usual one there and has not been tried on this project's
/// machines.
fn native_libs() -> &'static [&'static str] {
    if cfg!(target_os = "linux") {
        &[
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
        ]
    } else if cfg!(target_os = "macos") {
        &["-lSystem", "-lc", "-lm"]
    } else {
        &[]
    }
}

/// `--write-data-header`: regenerates the embedded copy of the data.
pub(crate) fn write_data_header() -> Result<(), String> {
    let root = shell::root();
    let header = data_header(&read(&root.join(CSV))?)?;
    let path = root.join(HEADER);
    fs::write(&path, header).map_err(|e| format!("could not write {}: {e}", path.display()))?;
    println!("wrote {HEADER} from {CSV}");
    Ok(())
}

/// Fails when the committed header is not what the CSV generates.
pub(crate) fn check_data_header() -> Result<(), String> {
    let root = shell::root();
    let expected = data_header(&read(&root.join(CSV))?)?;
    let stale = match fs::read_to_string(root.join(HEADER)) {
        Ok(found) => found != expected,
        Err(e) if e.kind() == ErrorKind::NotFound => true,
        Err(e) => return Err(format!("could not read {HEADER}: {e}")),
    };
    match stale {
        true => Err(format!(
            "{HEADER} is missing or does not match {CSV}; regenerate it with \
             `cargo xtask demo --write-data-header`"
        )),
        false => Ok(()),
    }
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("could not read {}: {e}", path.display()))
}

/// One image of the data set.
struct Digit {
    pixels: [u8; PIXELS],
    label: u8,
}

/// Parses the CSV: `ROWS` lines of 64 pixels in 0..=16 and a label in 0..=9.
fn parse_digits(csv: &str) -> Result<Vec<Digit>, String> {
    let mut digits = Vec::with_capacity(ROWS);
    for (i, line) in csv.lines().enumerate() {
        let bad = |what: &str| format!("{CSV} line {}: {what}", i + 1);
        let values = line
            .split(',')
            .map(|v| v.trim().parse::<u8>())
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| bad("a value is not an integer in 0..=255"))?;
        let Some((&label, pixels)) = values.split_last() else {
            return Err(bad("empty line"));
        };
        let pixels: [u8; PIXELS] = pixels
            .try_into()
            .map_err(|_| bad("expected 64 pixels and a label"))?;
        if pixels.iter().any(|&p| p > 16) || label > 9 {
            return Err(bad("pixels must be in 0..=16 and the label in 0..=9"));
        }
        digits.push(Digit { pixels, label });
    }
    if digits.len() != ROWS {
        return Err(format!("{CSV} has {} rows, expected {ROWS}", digits.len()));
    }
    Ok(digits)
}

const HEADER_BANNER: &str = "\
/*
 * digits_data.h: the handwritten digits of examples/data/digits.csv as C
 * arrays, for trainers that embed their data instead of reading a file.
 *
 * Generated from the CSV, the canonical copy, by
 * `cargo xtask demo --write-data-header`; do not edit. `cargo xtask demo`
 * fails when this file and the CSV disagree.
 *
 * Data: \"Optical Recognition of Handwritten Digits\" (E. Alpaydin and
 * C. Kaynak), UCI Machine Learning Repository, as shipped by scikit-learn
 * 1.9.1. Licence: CC BY 4.0; see examples/data/README.md.
 *
 * The arrays are static const: include this header in one translation unit,
 * and they stay in read-only memory (flash, on a microcontroller).
 */
#ifndef FREESTEP_DIGITS_DATA_H
#define FREESTEP_DIGITS_DATA_H

#include <stdint.h>

";

/// The text of `examples/c/digits_data.h` for the given CSV: one image per
/// block, one line per row of eight pixels, so the digit shows in the source.
fn data_header(csv: &str) -> Result<String, String> {
    let digits = parse_digits(csv)?;
    let mut out = String::from(HEADER_BANNER);
    let _ = writeln!(out, "#define DIGITS_ROWS {ROWS}");
    let _ = writeln!(out, "#define DIGITS_PIXELS {PIXELS}");
    out.push_str("\n/* Image i, 8x8 pixels in row-major order, each 0..16. */\n");
    out.push_str("static const uint8_t digits_pixels[DIGITS_ROWS][DIGITS_PIXELS] = {\n");
    for (i, digit) in digits.iter().enumerate() {
        let _ = writeln!(out, "    /* {i}: a {} */", digit.label);
        for (r, row) in digit.pixels.chunks(8).enumerate() {
            let open = if r == 0 { "    {" } else { "     " };
            let close = if r == 7 { "}," } else { "," };
            let cells: Vec<String> = row.iter().map(|p| format!("{p:2}")).collect();
            let _ = writeln!(out, "{open}{}{close}", cells.join(", "));
        }
    }
    out.push_str("};\n\n/* The digit that image i shows, 0..9. */\n");
    out.push_str("static const uint8_t digits_labels[DIGITS_ROWS] = {\n");
    for line in digits.chunks(16) {
        let cells: Vec<String> = line.iter().map(|d| d.label.to_string()).collect();
        let _ = writeln!(out, "    {},", cells.join(", "));
    }
    out.push_str("};\n\n#endif /* FREESTEP_DIGITS_DATA_H */\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_header_matches_csv() {
        check_data_header().unwrap();
    }

    #[test]
    fn header_is_strict_about_the_csv() {
        let row = |label: &str| format!("{}{label}\n", "0,".repeat(PIXELS));
        let rows = row("1").repeat(ROWS);
        assert!(data_header(&rows).is_ok());
        assert!(data_header(&row("1").repeat(ROWS - 1)).is_err());
        assert!(data_header(&(row("10") + &row("1").repeat(ROWS - 1))).is_err());
        assert!(data_header(&rows.replacen("0,", "17,", 1)).is_err());
        assert!(data_header(&rows.replacen("0,", "", 1)).is_err());
    }

    #[test]
    fn reads_the_printed_accuracy() {
        let out = "epoch 1 loss 0.1\ntest accuracy: 0.9933\nweights digest: ab\n";
        assert_eq!(printed_value(out, "test accuracy:"), Some("0.9933"));
        assert_eq!(printed_value(out, "weights digest:"), Some("ab"));
        assert_eq!(printed_value(out, "missing:"), None);
    }
}
