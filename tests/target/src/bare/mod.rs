//! Bare-metal runtime of the check firmware: start-up, output and exit
//! through semihosting, and the panic and fault handlers, which exit with a
//! failure so that a runner never waits on a dead core.
//!
//! This is test firmware for QEMU, not a board support package. Talking to
//! the debugger (semihosting) and starting a core take a few instructions
//! of assembly, which is why this module, unlike the library, uses `unsafe`.

use core::fmt::{self, Write};

#[cfg(target_arch = "arm")]
mod cortex_m;
#[cfg(target_arch = "arm")]
use cortex_m::semihost;

#[cfg(target_arch = "riscv32")]
mod riscv;
#[cfg(target_arch = "riscv32")]
use riscv::semihost;

const SYS_WRITE0: usize = 0x04;
const SYS_EXIT: usize = 0x18;
/// `ADP_Stopped_ApplicationExit`: QEMU exits with status 0.
const EXIT_SUCCESS: usize = 0x20026;
/// `ADP_Stopped_RunTimeErrorUnknown`: QEMU exits with status 1.
const EXIT_FAILURE: usize = 0x20023;

/// Semihosting output, a line at a time (one debugger call per line).
pub struct Console {
    buf: [u8; 160],
    len: usize,
}

impl Console {
    pub const fn new() -> Self {
        Self {
            buf: [0; 160],
            len: 0,
        }
    }

    pub fn flush(&mut self) {
        if self.len == 0 {
            return;
        }
        self.buf[self.len] = 0;
        // SAFETY: SYS_WRITE0 reads the NUL-terminated string at the address;
        // the buffer is NUL-terminated one byte before its end.
        unsafe { semihost(SYS_WRITE0, self.buf.as_ptr() as usize) };
        self.len = 0;
    }
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            self.buf[self.len] = b;
            self.len += 1;
            if b == b'\n' || self.len == self.buf.len() - 1 {
                self.flush();
            }
        }
        Ok(())
    }
}

/// Ends the QEMU run with status 0 (`ok`) or 1.
pub fn exit(ok: bool) -> ! {
    let reason = if ok { EXIT_SUCCESS } else { EXIT_FAILURE };
    // SAFETY: SYS_EXIT takes the reason code by value and does not return
    // under QEMU.
    unsafe { semihost(SYS_EXIT, reason) };
    // A debugger that ignores SYS_EXIT: stop here.
    loop {
        core::hint::spin_loop();
    }
}

/// Called by the start-up code, with a stack and (on Arm) the FPU enabled:
/// runs the program's `entry` and exits with its verdict.
#[no_mangle]
pub extern "C" fn freestep_main() -> ! {
    let mut console = Console::new();
    let ok = crate::entry(&mut console);
    console.flush();
    exit(ok)
}

// The rest serves the footprint program (`size.rs`) only.

#[allow(dead_code)]
const SYS_GET_CMDLINE: usize = 0x15;

#[allow(dead_code)]
/// The command line QEMU was given with `-append`, in `buf`.
pub fn command_line(buf: &mut [u8]) -> &str {
    // SYS_GET_CMDLINE reads and writes a two-word block: the buffer's
    // address and length in, the string's length out.
    let mut block = [buf.as_mut_ptr() as usize, buf.len()];
    // SAFETY: the block and the buffer it points to are live and writable
    // for the call; the debugger writes at most `buf.len()` bytes.
    let status = unsafe { semihost(SYS_GET_CMDLINE, block.as_mut_ptr() as usize) };
    if status != 0 {
        return "";
    }
    let len = block[1].min(buf.len());
    core::str::from_utf8(&buf[..len]).unwrap_or("")
}

extern "C" {
    /// The end of `.bss`, from the linker script: the stack grows down to it.
    static __ram_used: u8;
}

#[allow(dead_code)]
const PAINT: u32 = 0x5afe_c0de;

#[allow(dead_code)]
/// The stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads a register, touches no memory.
    #[cfg(target_arch = "arm")]
    unsafe {
        core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags));
    }
    // SAFETY: as above.
    #[cfg(target_arch = "riscv32")]
    unsafe {
        core::arch::asm!("mv {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags));
    }
    sp
}

#[allow(dead_code)]
fn stack_floor() -> usize {
    // Only the symbol's address is taken, never its contents.
    (core::ptr::addr_of!(__ram_used) as usize + 3) & !3
}

#[allow(dead_code)]
/// Fills the unused stack, from the end of `.bss` to 16 bytes below this
/// function's stack pointer, with a pattern, so that [`deepest_stack`] can
/// tell how far the stack grew since. (Nothing lives below the stack
/// pointer: these targets have no red zone and interrupts are off.)
#[inline(never)]
pub fn paint_stack() {
    let top = stack_pointer() - 16;
    let mut at = stack_floor();
    while at < top {
        // SAFETY: the words between the end of .bss and below the stack
        // pointer belong to no object; the stack will overwrite them.
        unsafe { core::ptr::write_volatile(at as *mut u32, PAINT) };
        at += 4;
    }
}

#[allow(dead_code)]
/// The lowest address the stack reached since [`paint_stack`].
#[inline(never)]
pub fn deepest_stack() -> usize {
    let mut at = stack_floor();
    let top = stack_pointer();
    // SAFETY: reads the painted words below the live stack (see above).
    while at < top && unsafe { core::ptr::read_volatile(at as *const u32) } == PAINT {
        at += 4;
    }
    at
}

/// Executes an instruction that does not exist, for the fault self-test.
#[allow(dead_code)] // used by the check program only
pub fn undefined_instruction() -> ! {
    // SAFETY: the instruction traps to `freestep_fault`, which never
    // returns; no memory is touched.
    #[cfg(target_arch = "arm")]
    unsafe {
        core::arch::asm!("udf #0", options(noreturn, nomem, nostack));
    }
    // SAFETY: as above.
    #[cfg(target_arch = "riscv32")]
    unsafe {
        core::arch::asm!("unimp", options(noreturn, nomem, nostack));
    }
}

/// Every fault and unexpected exception or trap ends here.
#[no_mangle]
pub extern "C" fn freestep_fault() -> ! {
    let mut console = Console::new();
    let _ = console.write_str("FAULT: the core took an exception\n0 passed, 1 failed\n");
    exit(false)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let mut console = Console::new();
    let _ = writeln!(console, "PANIC: {info}\n0 passed, 1 failed");
    exit(false)
}
