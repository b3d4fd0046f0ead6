//! RISC-V (machine mode): the entry point, the trap vector and the
//! semihosting call.

core::arch::global_asm!(
    ".pushsection .text.start, \"ax\", @progbits",
    ".global _start",
    "_start:",
    ".option push",
    ".option norelax",
    "la sp, __stack_top",
    "la t0, freestep_trap",
    "csrw mtvec, t0",
    ".option pop",
    "call freestep_main",
    "1: j 1b",
    // mtvec needs a 4-byte aligned address; Rust functions may be 2-aligned.
    ".balign 4",
    "freestep_trap:",
    "j freestep_fault",
    ".popsection",
);

// The semihosting sequence must be uncompressed and within one page: QEMU
// recognises the `ebreak` by the two instructions around it.
core::arch::global_asm!(
    ".pushsection .text.freestep_semihost, \"ax\", @progbits",
    ".global freestep_semihost",
    ".balign 16",
    "freestep_semihost:",
    ".option push",
    ".option norvc",
    "slli zero, zero, 0x1f",
    "ebreak",
    "srai zero, zero, 0x7",
    ".option pop",
    "ret",
    ".popsection",
);

extern "C" {
    fn freestep_semihost(op: usize, arg: usize) -> usize;
}

/// A semihosting call: operation in a0, argument in a1, result in a0.
///
/// # Safety
///
/// `arg` must be what the operation expects (for SYS_WRITE0 the address of
/// a NUL-terminated string).
pub unsafe fn semihost(op: usize, arg: usize) -> usize {
    // SAFETY: the function above traps to the debugger (QEMU), which
    // performs the operation and returns; the caller vouches for `arg`.
    unsafe { freestep_semihost(op, arg) }
}
