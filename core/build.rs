//! Tells the crate whether the target is a bare-metal Arm core with a
//! single-precision FPU, where `float::fpu` supplies the FPU's square root.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(fpu_sqrtf)");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    // Cargo sets these for the target being compiled, not for the host.
    // The Thumb-only M-profile cores with a single-precision FPU (M4F, M7,
    // M33, M55); not the A/R-profile eabihf targets, which start in A32.
    let target = var("TARGET");
    let m_profile = target.starts_with("thumbv7em") || target.starts_with("thumbv8m.main");
    let bare = var("CARGO_CFG_TARGET_OS") == "none";
    let hard_float = var("CARGO_CFG_TARGET_ABI") == "eabihf";
    if m_profile && bare && hard_float {
        println!("cargo::rustc-cfg=fpu_sqrtf");
    }
}
