//! # freestep-ffi
//!
//! The C ABI of freestep, and the only crate of the workspace that contains
//! `unsafe` code. It builds `libfreestep.a` and `libfreestep.so`; the header
//! `include/freestep.h` is generated from this crate by cbindgen (see
//! `tests/header.rs`).
//!
//! The caller owns every byte. The optimizer object and the partial-sum
//! object are opaque blocks that the caller allocates with the size and
//! alignment the library reports, and that init functions fill in place;
//! parameters, gradients and state are the caller's `float` or `double`
//! arrays. Nothing here allocates, and nothing here can panic: every index is
//! checked and the release profile aborts on panic anyway.
//!
//! Every exported function that can fail returns a [`freestep_status`]. It
//! checks each pointer (NULL, alignment) and each length before it reads
//! through any of them, writes its out-parameters only on success, and on
//! error leaves the parameters, the state and the optimizer object exactly as
//! they were, byte for byte.
//!
//! Module map: [`status`] holds the status enum and the one function that
//! maps core errors to it; [`boundary`] the pointer checks that every
//! exported body goes through; [`object`] the in-memory layout of the two
//! opaque objects; [`config`] the rule configurations and init functions;
//! [`optimizer`] the functions that act on an initialised object;
//! [`schedule`] the learning-rate schedules; [`finite_sum`] the finite-sum
//! methods (SAGA, SAG, SVRG, Finito, Point-SAGA) and their sampling.
//! [`schedule`] the learning-rate schedules; [`init`] the weight
//! initialisation.

#![no_std]
#![deny(unsafe_op_in_unsafe_fn, missing_docs)]
// The exported items carry their C names, which is what the header shows.
#![allow(non_camel_case_types)]
#![warn(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::undocumented_unsafe_blocks
)]

// The code uses `core` only. On hosted targets std is linked for the
// libraries' panic runtime and allocator shims, never called.
#[cfg(not(target_os = "none"))]
extern crate std;

/// On bare-metal targets the library brings no panic runtime. The handler
/// calls a function that is defined nowhere: if any panic path survived
/// optimisation, linking `libfreestep.a` into firmware fails with an
/// undefined reference to `freestep_panic_path_is_reachable`, so a firmware
/// that links is a firmware in which no freestep call can panic.
/// `cargo xtask no-panic` makes that link on every commit.
#[cfg(all(target_os = "none", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    extern "C" {
        fn freestep_panic_path_is_reachable() -> !;
    }
    // SAFETY: the function does not exist, so this call is never linked
    // into a working program; see above.
    unsafe { freestep_panic_path_is_reachable() }
}

pub mod boundary;
pub mod config;
pub mod finite_sum;
pub mod init;
pub mod mechanic;
pub mod object;
pub mod optimizer;
pub mod schedule;
pub mod status;
pub mod wrapper;

#[cfg(test)]
mod tests;

pub use config::*;
pub use finite_sum::*;
pub use init::*;
pub use object::*;
pub use optimizer::*;
pub use schedule::*;
pub use status::*;

/// Only in the control build of `cargo xtask no-panic`: an exported function
/// with a bounds check the optimiser cannot remove. A firmware linked with
/// that build must fail to link, which shows the check can fail.
///
/// cbindgen:ignore
#[cfg(freestep_panic_probe)]
#[no_mangle]
#[allow(clippy::indexing_slicing)]
pub extern "C" fn freestep_panic_probe(i: usize) -> u8 {
    [1u8, 2, 3][i]
}
