//! The generator and the freshness check of `include/freestep.h`.
//!
//! The header is cbindgen's output for this crate with `ffi/cbindgen.toml`,
//! plus the `FREESTEP_VERSION_*` macros taken from the crate version. The
//! test fails when the committed file differs from that output; with
//! `FREESTEP_BLESS=1` in the environment (`cargo xtask header`) it writes the
//! file instead.

use std::fs;
use std::path::{Path, PathBuf};

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn header_path() -> PathBuf {
    crate_dir().join("..").join("include").join("freestep.h")
}

/// The version macros, as they appear in the header.
fn version_macros() -> String {
    let parts = [
        ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ];
    let mut out =
        String::from("\n/* The version of the library this header was generated for. */\n");
    for (name, value) in parts {
        out.push_str(&format!("#define FREESTEP_VERSION_{name} {value}\n"));
    }
    out
}

fn generate() -> String {
    let mut config = cbindgen::Config::from_file(crate_dir().join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("ffi/cbindgen.toml: {e}"));
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_crate(crate_dir())
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen failed on the ffi crate: {e}"));
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).unwrap_or_else(|e| panic!("cbindgen wrote invalid UTF-8: {e}"))
}

fn committed() -> String {
    fs::read_to_string(header_path()).unwrap_or_default()
}

fn blessing() -> bool {
    std::env::var_os("FREESTEP_BLESS").is_some_and(|v| v == "1")
}

#[test]
fn header_is_current() {
    let generated = generate();
    if blessing() {
        fs::write(header_path(), &generated)
            .unwrap_or_else(|e| panic!("cannot write include/freestep.h: {e}"));
        return;
    }
    assert!(
        committed() == generated,
        "include/freestep.h is missing or stale: run `cargo xtask header` and commit the result"
    );
}

#[test]
fn version_macros_match_the_crate() {
    // While blessing, the other test is rewriting the file: check what it
    // writes instead.
    let header = if blessing() { generate() } else { committed() };
    let parts = [
        ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ];
    for (name, value) in parts {
        let line = format!("#define FREESTEP_VERSION_{name} {value}");
        assert!(
            header.lines().any(|l| l.trim_end() == line),
            "include/freestep.h lacks `{line}` (crate version {}): run `cargo xtask header`",
            env!("CARGO_PKG_VERSION")
        );
    }
}
