//! Cortex-M: the vector table, the reset handler and the semihosting call.

// The vector table: the initial stack pointer, then the reset handler and
// the system exceptions (NMI, HardFault, MemManage, BusFault, UsageFault,
// SecureFault, reserved, SVCall, DebugMonitor, reserved, PendSV, SysTick),
// all faults going to `freestep_fault`. Interrupts are never enabled.
core::arch::global_asm!(
    ".pushsection .vector_table, \"a\", %progbits",
    ".word __stack_top",
    ".word freestep_reset",
    ".rept 14",
    ".word freestep_fault",
    ".endr",
    ".popsection",
);

// Reset: on cores with an FPU, grant full access to coprocessors 10 and 11
// in CPACR before any floating-point instruction runs; then the program.
#[cfg(target_abi = "eabihf")]
core::arch::global_asm!(
    ".pushsection .text.freestep_reset, \"ax\", %progbits",
    ".global freestep_reset",
    ".type freestep_reset, %function",
    ".thumb_func",
    "freestep_reset:",
    "ldr r0, =0xE000ED88",
    "ldr r1, [r0]",
    "orr r1, r1, #(0xF << 20)",
    "str r1, [r0]",
    "dsb",
    "isb",
    "bl freestep_main",
    "b .",
    ".ltorg",
    ".popsection",
);

#[cfg(not(target_abi = "eabihf"))]
core::arch::global_asm!(
    ".pushsection .text.freestep_reset, \"ax\", %progbits",
    ".global freestep_reset",
    ".type freestep_reset, %function",
    ".thumb_func",
    "freestep_reset:",
    "bl freestep_main",
    "b .",
    ".popsection",
);

/// A semihosting call: operation in r0, argument in r1, result in r0.
///
/// # Safety
///
/// `arg` must be what the operation expects (for SYS_WRITE0 the address of
/// a NUL-terminated string).
pub unsafe fn semihost(op: usize, arg: usize) -> usize {
    let result: usize;
    // SAFETY: `bkpt 0xab` traps to the debugger (QEMU), which performs the
    // operation and returns; it reads memory only as the caller promised.
    unsafe {
        core::arch::asm!(
            "bkpt #0xab",
            inout("r0") op => result,
            in("r1") arg,
            options(nostack, preserves_flags),
        );
    }
    result
}
