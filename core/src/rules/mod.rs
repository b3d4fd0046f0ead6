//! The update rules, one family per file.
//!
//! Each file starts with where the rule comes from, its update equations in
//! the reference's symbols, its state per parameter, and every place where it
//! deliberately differs from the reference.

pub mod accelerated;
pub mod adagrad;
pub mod adam;
pub mod dadapt_adagrad;
pub mod dadapt_adam;
pub mod dadapt_adan;
pub mod dadapt_lion;
pub mod dadapt_sgd;
pub(crate) mod grad_norm;
pub mod lion;
pub mod madgrad;
pub mod mirror_madgrad;
pub mod momo;
pub mod ngd;
pub mod polyak;
pub mod primal_averaging;
pub mod prodigy;
pub mod rmsprop;
pub mod schedule_free;
pub mod sgd;
pub mod shb;

/// Step count and learning rate of the last step, common to every rule, for
/// logging.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    /// Steps taken so far.
    pub k: u64,
    /// The learning rate the last step used, after warmup and adaptation
    /// (for Prodigy: `d * lr`).
    pub lr: f64,
    /// The distance estimate `d` of rules that have one, else `None`.
    pub d: Option<f64>,
}

impl Progress {
    /// The progress of a rule without a `d` estimate.
    pub(crate) const fn plain(k: u64, lr: f64) -> Self {
        Self { k, lr, d: None }
    }
}
