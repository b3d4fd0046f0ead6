//! Bare-metal builds: picks the board's memory map and the linker script
//! (`link/`), and tells the program its architecture's name.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let var = |name: &str| env::var(name).unwrap_or_default();
    println!(
        "cargo::rustc-env=FREESTEP_CHECK_ARCH={}",
        var("CARGO_CFG_TARGET_ARCH")
    );
    println!("cargo::rerun-if-changed=link");
    if var("CARGO_CFG_TARGET_OS") != "none" {
        return;
    }
    // The board each bare-metal target runs on under QEMU: (flash origin,
    // flash length, RAM origin, RAM length, linker script).
    let target = var("TARGET");
    let (flash, flash_len, ram, ram_len, script): (u32, u32, u32, u32, &str) = match target.as_str()
    {
        // BBC micro:bit (nRF51822): 256 KiB of flash, 16 KiB of RAM.
        "thumbv6m-none-eabi" => (0x0000_0000, 256 << 10, 0x2000_0000, 16 << 10, "cortex-m.x"),
        // MPS2 AN386: code in SSRAM1, data in SSRAM2.
        "thumbv7em-none-eabihf" => (0x0000_0000, 4 << 20, 0x2000_0000, 4 << 20, "cortex-m.x"),
        // MPS2 AN505, secure aliases: code in SSRAM1, data in SSRAM2.
        "thumbv8m.main-none-eabihf" => (0x1000_0000, 4 << 20, 0x3800_0000, 2 << 20, "cortex-m.x"),
        // QEMU virt: everything in DRAM, where `-bios none` starts.
        "riscv32imac-unknown-none-elf" => (0x8000_0000, 4 << 20, 0x8040_0000, 4 << 20, "riscv.x"),
        other => panic!("freestep-check has no board for bare-metal target {other}"),
    };
    let out = PathBuf::from(var("OUT_DIR"));
    let memory = format!(
        "MEMORY\n{{\n  FLASH : ORIGIN = {flash:#010x}, LENGTH = {flash_len:#x}\n  \
         RAM : ORIGIN = {ram:#010x}, LENGTH = {ram_len:#x}\n}}\n"
    );
    fs::write(out.join("memory.x"), memory).expect("OUT_DIR is writable");
    let manifest = PathBuf::from(var("CARGO_MANIFEST_DIR"));
    fs::copy(manifest.join("link").join(script), out.join("link.x")).expect("script exists");
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rustc-link-arg=-Tlink.x");
}
