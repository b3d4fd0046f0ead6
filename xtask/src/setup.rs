//! Installing what the cross-target tasks need on a fresh machine.
//!
//! A task names the rustup targets and Debian packages it needs; anything
//! missing is installed: targets through rustup, packages through
//! `apt-get install --no-install-recommends` when running as root. Without
//! root the task prints the exact commands and stops. A package counts as
//! installed when a file it provides exists, so nothing is run when all is
//! there already.

use std::path::Path;
use std::process::Command;
use std::sync::Once;

use crate::shell;

/// A Debian package and one file that shows it is installed.
#[derive(Clone, Copy)]
pub struct Package {
    pub name: &'static str,
    pub provides: &'static str,
}

const fn package(name: &'static str, provides: &'static str) -> Package {
    Package { name, provides }
}

pub const QEMU_SYSTEM_ARM: Package = package("qemu-system-arm", "/usr/bin/qemu-system-arm");
pub const QEMU_SYSTEM_MISC: Package = package("qemu-system-misc", "/usr/bin/qemu-system-riscv32");
pub const QEMU_USER: Package = package("qemu-user", "/usr/bin/qemu-aarch64");
pub const ARM_NONE_EABI_GCC: Package = package("gcc-arm-none-eabi", "/usr/bin/arm-none-eabi-gcc");
pub const NEWLIB: Package = package(
    "libnewlib-arm-none-eabi",
    "/usr/lib/arm-none-eabi/newlib/libc.a",
);

/// The cross C toolchain of a Linux target: the compiler (also the linker
/// cargo uses) and its C library, which the compiler does not pull in
/// without recommends.
pub fn linux_cross(gnu_triple: &str) -> [Package; 2] {
    match gnu_triple {
        "arm-linux-gnueabihf" => [
            package(
                "gcc-arm-linux-gnueabihf",
                "/usr/bin/arm-linux-gnueabihf-gcc",
            ),
            package(
                "libc6-dev-armhf-cross",
                "/usr/arm-linux-gnueabihf/lib/crt1.o",
            ),
        ],
        "aarch64-linux-gnu" => [
            package("gcc-aarch64-linux-gnu", "/usr/bin/aarch64-linux-gnu-gcc"),
            package("libc6-dev-arm64-cross", "/usr/aarch64-linux-gnu/lib/crt1.o"),
        ],
        _ => [
            package("gcc-riscv64-linux-gnu", "/usr/bin/riscv64-linux-gnu-gcc"),
            package(
                "libc6-dev-riscv64-cross",
                "/usr/riscv64-linux-gnu/lib/crt1.o",
            ),
        ],
    }
}

/// Makes sure the rustup targets and the packages are installed.
pub fn ensure(targets: &[&str], packages: &[Package]) -> Result<(), String> {
    ensure_targets(targets)?;
    ensure_packages(packages)
}

fn ensure_targets(targets: &[&str]) -> Result<(), String> {
    if targets.is_empty() {
        return Ok(());
    }
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup is needed to add targets {targets:?}: {e}"))?;
    if !listed.status.success() {
        return Err(format!(
            "`rustup target list --installed` failed: {}",
            String::from_utf8_lossy(&listed.stderr)
        ));
    }
    let installed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let missing: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("(installing rustup targets {})", missing.join(" "));
    shell::run(
        Command::new("rustup")
            .args(["target", "add"])
            .args(&missing),
    )
}

fn ensure_packages(packages: &[Package]) -> Result<(), String> {
    let mut missing: Vec<&str> = packages
        .iter()
        .filter(|p| !Path::new(p.provides).exists())
        .map(|p| p.name)
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    let install = format!(
        "apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    if !is_root() {
        return Err(format!(
            "missing Debian packages; as root, run:\n  apt-get update\n  {install}"
        ));
    }
    println!("(installing {})", missing.join(" "));
    static UPDATE: Once = Once::new();
    let mut updated = Ok(());
    UPDATE.call_once(|| updated = shell::run(Command::new("apt-get").args(["update", "-qq"])));
    updated?;
    shell::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
