//! Tells the crate whether the target is a bare-metal Arm core with a
//! single-precision FPU, where `float::fpu` supplies the FPU's square root.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(fpu_sqrtf)");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    // Cargo sets these for the target being compiled, not for the host.
    let arm = var("CARGO_CFG_TARGET_ARCH") == "arm";
    let bare = var("CARGO_CFG_TARGET_OS") == "none";
    let hard_float = var("CARGO_CFG_TARGET_ABI") == "eabihf";
    if arm && bare && hard_float {
        println!("cargo::rustc-cfg=fpu_sqrtf");
    }
}
