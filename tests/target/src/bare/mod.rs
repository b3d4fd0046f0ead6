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

    fn flush(&mut self) {
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

/// Called by the start-up code, with a stack and (on Arm) the FPU enabled.
#[no_mangle]
pub extern "C" fn freestep_main() -> ! {
    let mut report = crate::report::Report::new(Console::new());
    let ok = crate::run_all(&mut report);
    exit(ok)
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
