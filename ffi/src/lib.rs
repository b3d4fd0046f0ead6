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
//! [`optimizer`] the functions that act on an initialised object.

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

// The code uses `core` only; std is linked for the host libraries' panic
// runtime and allocator shims, never called.
extern crate std;

pub mod boundary;
pub mod config;
pub mod object;
pub mod optimizer;
pub mod status;

#[cfg(test)]
mod tests;

pub use config::*;
pub use object::*;
pub use optimizer::*;
pub use status::*;
