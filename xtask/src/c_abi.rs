//! `cargo xtask c-abi`: the C ABI test.
//!
//! Builds the release `libfreestep.a`, checks that `tests/c/abi_test.c`
//! calls every function that `include/freestep.h` declares, compiles it with
//! the system C compiler (`$CC`, default `cc`) into `target/c-abi/`, links it
//! against the static library and runs it. The program prints
//! `N passed, N failed` last and exits non-zero on any failure.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::shell::{cargo, root, run as run_cmd};

const SOURCE: &str = "tests/c/abi_test.c";
const HEADER: &str = "include/freestep.h";

/// Strict C11 with warnings as errors. No fused multiply-add contraction,
/// so that the values the test computes by hand have the library's bits on
/// every compiler and target.
const CFLAGS: &[&str] = &[
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-O2",
    "-ffp-contract=off",
];

/// `cargo xtask c-abi`.
pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(extra) = args.first() {
        return Err(format!("`c-abi` takes no arguments (got `{extra}`)"));
    }
    let root = root();
    every_function_called(&root)?;
    run_cmd(cargo().args(["build", "-p", "freestep-ffi", "--release"]))?;

    let target = target_dir(&root);
    let library = target.join("release").join("libfreestep.a");
    if !library.is_file() {
        return Err(format!(
            "{} is missing after the release build of freestep-ffi",
            library.display()
        ));
    }
    let out_dir = target.join("c-abi");
    fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let program = out_dir.join("abi_test");

    compile(&root, &library, &program)?;
    run_cmd(Command::new(&program).current_dir(&root))
        .map_err(|e| format!("{e}\nthe C ABI test failed: see the FAILED lines above"))
}

/// `$CARGO_TARGET_DIR` when set, else `target/` in the workspace.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// Compiles and links the test program.
fn compile(root: &Path, library: &Path, program: &Path) -> Result<(), String> {
    let cc = std::env::var("CC").unwrap_or_default();
    let mut words = cc.split_whitespace();
    let compiler = words.next().unwrap_or("cc");
    let mut cmd = Command::new(compiler);
    cmd.current_dir(root)
        .args(words)
        .args(CFLAGS)
        .arg("-Iinclude")
        .arg(SOURCE)
        .arg(library)
        .arg("-o")
        .arg(program);
    // What the Rust standard library inside the static library links to.
    if cfg!(target_os = "linux") {
        cmd.args(["-lm", "-lpthread", "-ldl"]);
    } else {
        cmd.args(["-lm", "-lpthread"]);
    }
    match cmd.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!(
            "compiling {SOURCE} failed with {status}: fix the errors above \
             (or regenerate the header with `cargo xtask header`)"
        )),
        Err(e) => Err(format!(
            "cannot run the C compiler `{compiler}`: {e}; install one (for \
             example `apt-get install gcc`) or set CC"
        )),
    }
}

/// Refuses a test program that leaves out a function of the header, so
/// that a new export cannot go untested.
fn every_function_called(root: &Path) -> Result<(), String> {
    let read = |path: &str| {
        fs::read_to_string(root.join(path)).map_err(|e| format!("cannot read {path}: {e}"))
    };
    let header = read(HEADER)?;
    let source = read(SOURCE)?;
    let missing: Vec<String> = declared_functions(&header)
        .into_iter()
        .filter(|name| !source.contains(&format!("{name}(")))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{SOURCE} does not call {}: add a good and a bad call of each",
        missing.join(", ")
    ))
}

/// The names of the functions declared in the header: identifiers that
/// start with `freestep_` and are followed by `(` on a line that is not a
/// comment.
fn declared_functions(header: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in header.lines() {
        let code = line.trim_start();
        if code.starts_with('*') || code.starts_with("/*") || code.starts_with('#') {
            continue;
        }
        let Some(open) = code.find('(') else {
            continue;
        };
        let before = code.get(..open).unwrap_or_default();
        let name = before
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or_default();
        if name.starts_with("freestep_") && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::declared_functions;

    #[test]
    fn finds_declarations_but_not_comments() {
        let header = "/**\n * Calls freestep_a(x).\n */\n\
                      freestep_status freestep_step(struct freestep_optimizer *opt,\n\
                      \x20                            size_t n);\n\
                      const char *freestep_version(void);\n";
        assert_eq!(
            declared_functions(header),
            ["freestep_step", "freestep_version"]
        );
    }
}
