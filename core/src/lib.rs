//! # freestep
//!
//! Schedule-free and learning-rate-free optimizers that never allocate and
//! never panic, for training on microcontrollers and inside C and C++
//! trainers.
//!
//! The caller owns every buffer: parameters, gradients and the rule's state
//! are flat slices of `f32` or `f64`, and each rule says in a `const fn` how
//! much state it needs, so firmware can size its arrays at compile time. A
//! bad input is refused with an [`Error`] and leaves parameters and state
//! exactly as they were; nothing is half applied.
//!
//! A rule ([`Sgd`], [`Adam`], [`ScheduleFreeSgd`], [`ScheduleFreeAdamW`],
//! [`Prodigy`]) holds its hyperparameters, with the reference
//! implementation's names and defaults, and its few scalars (step count,
//! `d`). An [`Optimizer`] binds a rule to a parameter count and optional
//! [`Group`]s and runs each step in three phases (see [`optimizer`]), so a
//! step can be split across threads or processes and still give the bits of
//! the one-call step.
//!
//! [`finite_sum`] holds the methods for finite sums that keep a table of
//! per-sample gradients in caller memory (SAGA, SAG, SVRG, Finito,
//! Point-SAGA) and the stochastic Polyak step.
//! Beside the rules, [`schedule`] has learning-rate schedules (formulas of
//! the step, and the refined schedule computed from an earlier run's
//! gradient norms) and [`init`] a weight initialisation, both with the same
//! bits on every target.
//!
//! # Examples
//!
//! ```
//! use freestep::{Optimizer, ScheduleFreeAdamW, ScheduleFreeAdamWConfig};
//!
//! const N: usize = 4;
//! let mut params = [0.5f32, -1.0, 2.0, 0.25];
//! let mut state = [0.0f32; ScheduleFreeAdamW::state_len(N)];
//! let rule = ScheduleFreeAdamW::new(ScheduleFreeAdamWConfig { lr: 0.05, ..Default::default() });
//! let mut opt = Optimizer::<f32, _>::new(rule, N).unwrap();
//! for _ in 0..300 {
//!     let grads = params; // gradient of ||p||^2 / 2
//!     opt.step(&mut params, &grads, &mut state).unwrap();
//! }
//! opt.eval(&mut params, &state).unwrap(); // the averaged weights
//! assert!(params.iter().all(|p| p.abs() < 0.1));
//! ```

#![no_std]
// One foreign call, to the FPU's square root on bare-metal Arm, is allowed
// in `float::fpu`; nothing else may use unsafe.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![warn(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

#[cfg(feature = "std")]
extern crate std;

pub mod error;
pub mod finite_sum;
pub mod float;
pub mod init;
pub mod layout;
mod math;
pub mod mechanic;
pub mod optimizer;
pub mod reduce;
pub mod rules;
pub mod schedule;
pub mod wrapper;

pub use error::Error;
pub use float::Float;
pub use layout::{Group, MAX_GROUPS, TILE};
pub use mechanic::{Mechanic, MechanicConfig, Mechanized};
pub use optimizer::{Optimizer, Piece, PieceMut, UpdateRule};
pub use reduce::Partial;
pub use rules::accelerated::{Accelerated, AcceleratedConfig};
pub use rules::adagrad::{Adagrad, AdagradConfig};
pub use rules::adam::{Adam, AdamConfig};
pub use rules::dadapt_adagrad::{DAdaptAdagrad, DAdaptAdagradConfig};
pub use rules::dadapt_adam::{DAdaptAdam, DAdaptAdamConfig};
pub use rules::dadapt_adan::{DAdaptAdan, DAdaptAdanConfig};
pub use rules::dadapt_lion::{DAdaptLion, DAdaptLionConfig};
pub use rules::dadapt_sgd::{DAdaptSgd, DAdaptSgdConfig};
pub use rules::lion::{Lion, LionConfig};
pub use rules::madgrad::{Madgrad, MadgradConfig};
pub use rules::mirror_madgrad::{MirrorMadgrad, MirrorMadgradConfig};
pub use rules::momo::{Momo, MomoAdam, MomoAdamConfig, MomoConfig};
pub use rules::ngd::{Ngd, NgdConfig};
pub use rules::polyak::{Polyak, PolyakConfig};
pub use rules::primal_averaging::{PrimalAveraging, PrimalAveragingConfig};
pub use rules::prodigy::{Prodigy, ProdigyConfig};
pub use rules::rmsprop::{Rmsprop, RmspropConfig};
pub use rules::schedule_free::{
    ScheduleFreeAdamW, ScheduleFreeAdamWConfig, ScheduleFreeRAdam, ScheduleFreeRAdamConfig,
    ScheduleFreeSgd, ScheduleFreeSgdConfig,
};
pub use rules::sgd::{Sgd, SgdConfig};
pub use rules::shb::{Shb, ShbConfig};
pub use schedule::Schedule;
pub use wrapper::{ScheduleFreeWrapper, ScheduleFreeWrapperConfig, Wrapped};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
