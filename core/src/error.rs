//! The one error type of freestep.

use core::fmt;

/// Why a call was refused. On every error the parameters, the state buffer
/// and the optimizer are exactly as they were before the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The parameter, gradient or output slices do not have the length the
    /// optimizer was built for, or differ from each other.
    Length,
    /// The state buffer does not have the length the rule needs
    /// (see `state_len`).
    StateLength,
    /// A gradient is NaN or infinite, or a global sum of the step
    /// overflowed; the step was not taken.
    NonFiniteGradient,
    /// A hyperparameter is out of its range; the payload names it with the
    /// reference implementation's argument name.
    InvalidHyperparameter(&'static str),
    /// More groups than [`MAX_GROUPS`](crate::MAX_GROUPS).
    TooManyGroups,
    /// The group lengths do not add up to the parameter count.
    GroupsDoNotCover,
    /// A group has a negative or non-finite multiplier.
    InvalidGroup,
    /// A Schedule-Free rule was asked to step while it holds the evaluation
    /// weights; switch back with `train` first.
    EvalMode,
    /// A parameter range for the phased step is out of bounds or does not
    /// start on a multiple of [`TILE`](crate::TILE).
    BadRange,
    /// The combined partial sums do not cover every parameter exactly once.
    IncompletePartial,
    /// `update` was called before any `finish`.
    NoPendingStep,
    /// The rule reads the loss (MoMo, the Polyak step) and the step was
    /// given none.
    MissingLoss,
    /// The loss given to the step is NaN or infinite; the step was not taken.
    NonFiniteLoss,
    /// A finite-sum method was given a sample index that is not below its
    /// sample count, or, while a table or snapshot is being filled in order,
    /// not the next index.
    SampleIndex,
    /// A finite-sum method's table (its state buffer) does not have the
    /// length the method needs for its sample count, dimension and form.
    TableLength,
    /// A finite-sum sample does not have the table's form: a dense gradient
    /// for a compact linear-model table, or the reverse.
    TableForm,
    /// A finite-sum method cannot step yet: SVRG has no complete snapshot,
    /// or Finito's table is not filled.
    NotReady,
    /// A recorded gradient norm given to a schedule is NaN, infinite, zero
    /// or negative.
    InvalidNorm,
}

impl Error {
    /// A one-line description, the same text the C ABI's
    /// `freestep_status_message` gives.
    pub const fn message(&self) -> &'static str {
        match self {
            Error::Length => "parameter, gradient or output lengths do not match",
            Error::StateLength => "state buffer has the wrong length",
            Error::NonFiniteGradient => "a gradient or global sum is not finite; step refused",
            Error::InvalidHyperparameter(_) => "a hyperparameter is out of range",
            Error::TooManyGroups => "more parameter groups than MAX_GROUPS",
            Error::GroupsDoNotCover => "group lengths do not add up to the parameter count",
            Error::InvalidGroup => "a group multiplier is negative or not finite",
            Error::EvalMode => "schedule-free optimizer is in eval mode; call train first",
            Error::BadRange => "parameter range out of bounds or not aligned to TILE",
            Error::IncompletePartial => "partial sums do not cover every parameter once",
            Error::NoPendingStep => "update called before finish",
            Error::MissingLoss => "this rule needs the loss; step with the loss",
            Error::NonFiniteLoss => "the loss is NaN or infinite; step refused",
            Error::SampleIndex => "sample index out of range (or out of order while filling)",
            Error::TableLength => "finite-sum table has the wrong length",
            Error::TableForm => "sample form (dense or linear) does not match the table",
            Error::NotReady => "finite-sum method needs a full snapshot or table first",
            Error::InvalidNorm => "a gradient norm is NaN, infinite, zero or negative",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidHyperparameter(name) => write!(f, "{}: {}", self.message(), name),
            _ => f.write_str(self.message()),
        }
    }
}

impl core::error::Error for Error {}
