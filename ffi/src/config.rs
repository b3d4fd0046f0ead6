//! The rules' configurations as C structs, their official defaults, and the
//! init functions that build an optimizer into the caller's block.
//!
//! Field names are the reference implementations' argument names. The
//! `bool` fields are read from C as bytes (any non-zero byte is true), so a
//! struct filled by hand with other values than 0 and 1 is still read
//! soundly.

use core::mem::size_of;
use core::ptr::addr_of;

use freestep_core::{
    Accelerated, AcceleratedConfig, Adagrad, AdagradConfig, Adam, AdamConfig, DAdaptAdagrad,
    DAdaptAdagradConfig, DAdaptAdam, DAdaptAdamConfig, DAdaptAdan, DAdaptAdanConfig, DAdaptLion,
    DAdaptLionConfig, DAdaptSgd, DAdaptSgdConfig, Float, Group, Lion, LionConfig, Madgrad,
    MadgradConfig, MirrorMadgrad, MirrorMadgradConfig, Momo, MomoAdam, MomoAdamConfig, MomoConfig,
    Ngd, NgdConfig, Optimizer, Polyak, PolyakConfig, PrimalAveraging, PrimalAveragingConfig,
    Prodigy, ProdigyConfig, Rmsprop, RmspropConfig, ScheduleFreeAdamW, ScheduleFreeAdamWConfig,
    ScheduleFreeRAdam, ScheduleFreeRAdamConfig, ScheduleFreeSgd, ScheduleFreeSgdConfig, Sgd,
    SgdConfig, Shb, ShbConfig, UpdateRule, MAX_GROUPS,
};

use crate::boundary::{boundary, check_ptr, Buf, Out};
use crate::object::{
    freestep_optimizer, freestep_precision, freestep_rule, Any, Element, Object, RawPrecision,
};
use crate::status::{freestep_status, status_of};

/// A run of consecutive parameters with its own multipliers. Groups are
/// given in order and must cover the parameters exactly.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_group {
    /// Number of parameters in the group (elements).
    pub len: usize,
    /// The group's learning rate is the rule's `lr` times this (>= 0).
    pub lr_scale: f64,
    /// The group's weight decay is the rule's `weight_decay` times this
    /// (>= 0; 0 turns decay off for the group).
    pub weight_decay_scale: f64,
}

/// Hyperparameters of SGD, as `torch.optim.SGD`'s arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_sgd_config {
    /// Learning rate, >= 0 (default 1e-3).
    pub lr: f64,
    /// Momentum factor, >= 0 (default 0: no state).
    pub momentum: f64,
    /// Dampening of the momentum, in [0, 1] (default 0).
    pub dampening: f64,
    /// L2 penalty added to the gradient, >= 0 (default 0).
    pub weight_decay: f64,
    /// Nesterov momentum; needs momentum > 0 and dampening 0 (default false).
    pub nesterov: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

/// Hyperparameters of Adam and AdamW, as `torch.optim.Adam`'s arguments.
/// `freestep_adam_default_config` gives Adam's defaults and
/// `freestep_adamw_default_config` AdamW's.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_adam_config {
    /// Learning rate, >= 0 (default 1e-3).
    pub lr: f64,
    /// Decay of the first moment, in [0, 1) (default 0.9).
    pub beta1: f64,
    /// Decay of the second moment, in [0, 1) (default 0.999).
    pub beta2: f64,
    /// Added to the denominator, > 0 (default 1e-8).
    pub eps: f64,
    /// Weight decay, >= 0 (Adam default 0, AdamW default 1e-2).
    pub weight_decay: f64,
    /// Keep the maximum of the second moments (default false); adds a third
    /// state value per parameter.
    pub amsgrad: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
    /// Decay the weights directly instead of through the gradient (Adam
    /// default false, AdamW default true).
    pub decoupled_weight_decay: bool,
}

/// Hyperparameters of Schedule-Free SGD, as `SGDScheduleFree`'s arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_sgd_schedulefree_config {
    /// Learning rate, >= 0 (default 1.0).
    pub lr: f64,
    /// Interpolation between z and x, in (0, 1) (default 0.9).
    pub momentum: f64,
    /// Weight decay at y, >= 0 (default 0).
    pub weight_decay: f64,
    /// Linear warmup length in steps (default 0).
    pub warmup_steps: u64,
    /// Polynomial weighting of the average (default 0).
    pub r: f64,
    /// Exponent of the largest lr in the averaging weight, >= 0 (default 2).
    pub weight_lr_power: f64,
}

/// Hyperparameters of Schedule-Free AdamW, as `AdamWScheduleFree`'s
/// arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_adamw_schedulefree_config {
    /// Learning rate, >= 0 (default 0.0025).
    pub lr: f64,
    /// Interpolation between z and x, in (0, 1) (default 0.9).
    pub beta1: f64,
    /// Decay of the second moment, in [0, 1) (default 0.999).
    pub beta2: f64,
    /// Added to the denominator, > 0 (default 1e-8).
    pub eps: f64,
    /// Weight decay at y, >= 0 (default 0).
    pub weight_decay: f64,
    /// Linear warmup length in steps (default 0).
    pub warmup_steps: u64,
    /// Polynomial weighting of the average (default 0).
    pub r: f64,
    /// Exponent of the largest lr in the averaging weight, >= 0 (default 2).
    pub weight_lr_power: f64,
}

/// Hyperparameters of Schedule-Free RAdam, as `RAdamScheduleFree`'s
/// arguments. It needs no warmup: RAdam's rectification plays that part.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_radam_schedulefree_config {
    /// Learning rate, >= 0 (default 0.0025).
    pub lr: f64,
    /// Interpolation between z and x, in (0, 1) (default 0.9).
    pub beta1: f64,
    /// Decay of the second moment, in [0, 1) (default 0.999).
    pub beta2: f64,
    /// Added to the denominator, > 0 (default 1e-8).
    pub eps: f64,
    /// Weight decay at y, >= 0 (default 0).
    pub weight_decay: f64,
    /// Polynomial weighting of the average (default 0).
    pub r: f64,
    /// Exponent of the largest lr in the averaging weight, >= 0 (default 2).
    pub weight_lr_power: f64,
    /// Take no step while the rectification is undefined, instead of an
    /// unnormalised one (default true).
    pub silent_sgd_phase: bool,
}

/// Hyperparameters of Prodigy, as `prodigyopt.Prodigy`'s arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_prodigy_config {
    /// Multiplier of the adapted step size, >= 0 (default 1).
    pub lr: f64,
    /// Decay of the first moment, in [0, 1) (default 0.9).
    pub beta1: f64,
    /// Decay of the second moment, in [0, 1) (default 0.999).
    pub beta2: f64,
    /// Decay of the d estimate's running sums, in [0, 1]; any negative value
    /// means the reference's None, sqrt(beta2) (default -1).
    pub beta3: f64,
    /// Added to the denominator (times d), > 0 (default 1e-8).
    pub eps: f64,
    /// Weight decay, >= 0 (default 0).
    pub weight_decay: f64,
    /// Decoupled (AdamW-style) weight decay (default true).
    pub decouple: bool,
    /// Adam's bias correction in the step size (default false).
    pub use_bias_correction: bool,
    /// Leave lr out of the s update during warmup (default false).
    pub safeguard_warmup: bool,
    /// Initial estimate of d, > 0 (default 1e-6).
    pub d0: f64,
    /// Multiplier of the estimate, > 0 (default 1).
    pub d_coef: f64,
    /// Largest growth factor of d per step, > 0; INFINITY means unbounded
    /// (default INFINITY).
    pub growth_rate: f64,
    /// Keep p0 and s for every slice_p-th parameter only, >= 1 (default 1).
    pub slice_p: usize,
}

/// Hyperparameters of AdaGrad, as `torch.optim.Adagrad`'s arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_adagrad_config {
    /// Learning rate, >= 0 (default 1e-2).
    pub lr: f64,
    /// Learning-rate decay, `lr / (1 + (t - 1) lr_decay)`, >= 0 (default 0).
    pub lr_decay: f64,
    /// L2 penalty added to the gradient, >= 0 (default 0).
    pub weight_decay: f64,
    /// The starting value of the sum of squares, >= 0 (default 0).
    pub initial_accumulator_value: f64,
    /// Added to the denominator, > 0 (default 1e-10).
    pub eps: f64,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

/// Hyperparameters of RMSprop, as `torch.optim.RMSprop`'s arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_rmsprop_config {
    /// Learning rate, >= 0 (default 1e-2).
    pub lr: f64,
    /// Smoothing constant, in [0, 1] (default 0.99).
    pub alpha: f64,
    /// Added to the denominator, > 0 (default 1e-8).
    pub eps: f64,
    /// L2 penalty added to the gradient, >= 0 (default 0).
    pub weight_decay: f64,
    /// Momentum factor, >= 0 (default 0: no momentum buffer).
    pub momentum: f64,
    /// Normalise by the variance estimate (default false); adds a state
    /// value per parameter.
    pub centered: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

/// Hyperparameters of MADGRAD, as `madgrad.MADGRAD`'s arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_madgrad_config {
    /// Learning rate, >= 0 (default 1e-2); like the reference, a step uses
    /// `lr + eps` when `lr` is not 0.
    pub lr: f64,
    /// Momentum, in [0, 1) (default 0.9); 0 stores one state value less.
    pub momentum: f64,
    /// Weight decay, >= 0 (default 0).
    pub weight_decay: f64,
    /// Added to the cube root, >= 0 (default 1e-6).
    pub eps: f64,
    /// AdamW-style decoupled decay (default false).
    pub decouple_decay: bool,
}

/// Hyperparameters of Mirror MADGRAD, as `madgrad.MirrorMADGRAD`'s
/// arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_mirror_madgrad_config {
    /// Learning rate, >= 0 (default 1e-2); like the reference, a step uses
    /// `lr + eps` when `lr` is not 0.
    pub lr: f64,
    /// Momentum, in [0, 1) (default 0.9).
    pub momentum: f64,
    /// Weight decay, >= 0 (default 0).
    pub weight_decay: f64,
    /// Added to the cube root, >= 0 (default 0).
    pub eps: f64,
    /// Decoupled decay, applied to z (default false).
    pub decouple_decay: bool,
}

/// Hyperparameters of Lion, with the names and defaults of its paper
/// (Chen et al., arXiv 2302.06675).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_lion_config {
    /// Learning rate, >= 0 (default 1e-4).
    pub lr: f64,
    /// Interpolation that gives the update's sign, in [0, 1] (default 0.9).
    pub beta1: f64,
    /// Decay of the momentum, in [0, 1] (default 0.99).
    pub beta2: f64,
    /// Decoupled weight decay, >= 0 (default 0).
    pub weight_decay: f64,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

/// Hyperparameters of D-Adaptation Adam, as `dadaptation.DAdaptAdam`'s
/// arguments (`log_every` only logs there; read `d` from
/// `freestep_optimizer_progress` instead).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_dadapt_adam_config {
    /// Multiplier of the adapted step size, >= 0 (default 1).
    pub lr: f64,
    /// Decay of the first moment, in [0, 1) (default 0.9).
    pub beta1: f64,
    /// Decay of the second moment, in [0, 1) (default 0.999).
    pub beta2: f64,
    /// Added to the denominator, > 0 (default 1e-8).
    pub eps: f64,
    /// Weight decay, >= 0 (default 0).
    pub weight_decay: f64,
    /// Initial estimate of d, > 0 (default 1e-6).
    pub d0: f64,
    /// Largest growth factor of d per step, > 0; infinity for none
    /// (default infinity).
    pub growth_rate: f64,
    /// Decoupled (AdamW-style) decay instead of an L2 term (default false).
    pub decouple: bool,
    /// Adam's bias correction in the step size (default false).
    pub use_bias_correction: bool,
}

/// Hyperparameters of D-Adaptation SGD, as `dadaptation.DAdaptSGD`'s
/// arguments (`log_every` only logs there).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_dadapt_sgd_config {
    /// Multiplier of the adapted step size, >= 0 (default 1).
    pub lr: f64,
    /// Momentum, in [0, 1) (default 0).
    pub momentum: f64,
    /// L2 penalty added to the gradient, >= 0 (default 0).
    pub weight_decay: f64,
    /// Initial estimate of d, > 0 (default 1e-6).
    pub d0: f64,
    /// Largest growth factor of d per step, > 0; infinity for none
    /// (default infinity).
    pub growth_rate: f64,
}

/// Hyperparameters of D-Adaptation Lion, as `dadaptation.DAdaptLion`'s
/// arguments (`log_every` only logs there).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_dadapt_lion_config {
    /// Multiplier of the adapted step size, >= 0 (default 1).
    pub lr: f64,
    /// Interpolation that gives the update's sign, in [0, 1) (default 0.9).
    pub beta1: f64,
    /// Decay of the momentum, in [0, 1) (default 0.99).
    pub beta2: f64,
    /// Decoupled weight decay, >= 0 (default 0).
    pub weight_decay: f64,
    /// Initial estimate of d, > 0 (default 1e-6).
    pub d0: f64,
}

/// Hyperparameters of D-Adaptation AdaGrad, as
/// `dadaptation.DAdaptAdaGrad`'s arguments (`log_every` only logs there).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_dadapt_adagrad_config {
    /// Multiplier of the adapted step size, >= 0 (default 1).
    pub lr: f64,
    /// Momentum, in [0, 1) (default 0).
    pub momentum: f64,
    /// L2 penalty added to the gradient, >= 0 (default 0).
    pub weight_decay: f64,
    /// Added to the roots in the denominators, > 0 (default 1e-6).
    pub eps: f64,
    /// Initial estimate of d, > 0 (default 1e-6).
    pub d0: f64,
    /// Largest growth factor of d per step, > 0; infinity for none
    /// (default infinity).
    pub growth_rate: f64,
}

/// Hyperparameters of D-Adaptation Adan, as `dadaptation.DAdaptAdan`'s
/// arguments (`betas` as three fields; `log_every` only logs there).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_dadapt_adan_config {
    /// Multiplier of the adapted step size, >= 0 (default 1).
    pub lr: f64,
    /// Decay of the gradient average, in [0, 1) (default 0.98).
    pub beta1: f64,
    /// Decay of the gradient-difference average, in [0, 1) (default 0.92).
    pub beta2: f64,
    /// Decay of the second moment and of s, in [0, 1) (default 0.99).
    pub beta3: f64,
    /// Added to the denominator, > 0 (default 1e-8).
    pub eps: f64,
    /// Weight decay, >= 0 (default 0.02).
    pub weight_decay: f64,
    /// Initial estimate of d, > 0 (default 1e-6).
    pub d0: f64,
    /// Largest growth factor of d per step, > 0; infinity for none
    /// (default infinity).
    pub growth_rate: f64,
    /// Decay before the step instead of dividing after it (default false).
    pub no_prox: bool,
}

/// Hyperparameters of MoMo, as `momo.Momo`'s arguments. MoMo reads the
/// loss: step it with `freestep_optimizer_step_loss_*`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_momo_config {
    /// Cap of the step size, >= 0 (default 1).
    pub lr: f64,
    /// Weight decay, applied as a division by 1 + lr * weight_decay, >= 0
    /// (default 0).
    pub weight_decay: f64,
    /// Momentum, in [0, 1]; 1 only without bias correction (default 0.9).
    pub beta: f64,
    /// Lower bound of the loss, finite (default 0).
    pub lb: f64,
    /// Start the averages at zero and correct their bias (default false).
    pub bias_correction: bool,
    /// Estimate the lower bound online, never below `lb` (default false).
    pub use_fstar: bool,
}

/// Hyperparameters of MoMo-Adam, as `momo.MomoAdam`'s arguments (`betas`
/// as two fields). MoMo-Adam reads the loss: step it with
/// `freestep_optimizer_step_loss_*`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_momo_adam_config {
    /// Cap of the step size, >= 0 (default 1e-2).
    pub lr: f64,
    /// Momentum of the gradient, loss and <g, x> averages, in [0, 1)
    /// (default 0.9).
    pub beta1: f64,
    /// Decay of the second moment, in [0, 1) (default 0.999).
    pub beta2: f64,
    /// Added to the root of the second moment, >= 0 (default 1e-8).
    pub eps: f64,
    /// Weight decay, >= 0 (default 0).
    pub weight_decay: f64,
    /// Lower bound of the loss, finite (default 0).
    pub lb: f64,
    /// Weight decay as a division after the step (true, the default) or as
    /// AdamW's factor before it.
    pub divide: bool,
    /// Estimate the lower bound online, never below `lb` (default false).
    pub use_fstar: bool,
}

/// Reads field `$f` of the struct at `$p` without forming a reference.
macro_rules! field {
    ($p:expr, $f:ident) => {
        addr_of!((*$p).$f).read()
    };
}

/// Reads `bool` field `$f` of the struct at `$p` as a byte.
macro_rules! flag {
    ($p:expr, $f:ident) => {
        addr_of!((*$p).$f).cast::<u8>().read() != 0
    };
}

/// A C configuration struct and the core rule it describes.
trait Config: Sized {
    type Rule: Rule;

    /// Reads the struct at `p` into a rule.
    ///
    /// # Safety
    ///
    /// `p` is non-NULL, aligned, and points to an initialised struct.
    unsafe fn read(p: *const Self) -> Self::Rule;
}

/// A core rule that the optimizer object can hold.
trait Rule: UpdateRule {
    /// The rule's tag for `freestep_optimizer_rule`.
    fn tag(&self) -> freestep_rule;
    /// The optimizer as the object's variant.
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T>;
}

impl freestep_sgd_config {
    fn from_core(c: SgdConfig) -> Self {
        Self {
            lr: c.lr,
            momentum: c.momentum,
            dampening: c.dampening,
            weight_decay: c.weight_decay,
            nesterov: c.nesterov,
            maximize: c.maximize,
        }
    }
}

impl Config for freestep_sgd_config {
    type Rule = Sgd;
    unsafe fn read(p: *const Self) -> Sgd {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flags are read as bytes.
        let c = unsafe {
            SgdConfig {
                lr: field!(p, lr),
                momentum: field!(p, momentum),
                dampening: field!(p, dampening),
                weight_decay: field!(p, weight_decay),
                nesterov: flag!(p, nesterov),
                maximize: flag!(p, maximize),
            }
        };
        Sgd::new(c)
    }
}

impl Rule for Sgd {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_SGD
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::Sgd(opt)
    }
}

impl freestep_adam_config {
    fn from_core(c: AdamConfig) -> Self {
        Self {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            weight_decay: c.weight_decay,
            amsgrad: c.amsgrad,
            maximize: c.maximize,
            decoupled_weight_decay: c.decoupled_weight_decay,
        }
    }
}

impl Config for freestep_adam_config {
    type Rule = Adam;
    unsafe fn read(p: *const Self) -> Adam {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flags are read as bytes.
        let c = unsafe {
            AdamConfig {
                lr: field!(p, lr),
                beta1: field!(p, beta1),
                beta2: field!(p, beta2),
                eps: field!(p, eps),
                weight_decay: field!(p, weight_decay),
                amsgrad: flag!(p, amsgrad),
                maximize: flag!(p, maximize),
                decoupled_weight_decay: flag!(p, decoupled_weight_decay),
            }
        };
        Adam::new(c)
    }
}

impl Rule for Adam {
    fn tag(&self) -> freestep_rule {
        match self.config.decoupled_weight_decay {
            true => freestep_rule::RULE_ADAMW,
            false => freestep_rule::RULE_ADAM,
        }
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::Adam(opt)
    }
}

impl freestep_sgd_schedulefree_config {
    fn from_core(c: ScheduleFreeSgdConfig) -> Self {
        Self {
            lr: c.lr,
            momentum: c.momentum,
            weight_decay: c.weight_decay,
            warmup_steps: c.warmup_steps,
            r: c.r,
            weight_lr_power: c.weight_lr_power,
        }
    }
}

impl Config for freestep_sgd_schedulefree_config {
    type Rule = ScheduleFreeSgd;
    unsafe fn read(p: *const Self) -> ScheduleFreeSgd {
        // SAFETY: the contract of `read`; every field accepts any bits.
        let c = unsafe {
            ScheduleFreeSgdConfig {
                lr: field!(p, lr),
                momentum: field!(p, momentum),
                weight_decay: field!(p, weight_decay),
                warmup_steps: field!(p, warmup_steps),
                r: field!(p, r),
                weight_lr_power: field!(p, weight_lr_power),
            }
        };
        ScheduleFreeSgd::new(c)
    }
}

impl Rule for ScheduleFreeSgd {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_SGD_SCHEDULEFREE
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::SgdScheduleFree(opt)
    }
}

impl freestep_adamw_schedulefree_config {
    fn from_core(c: ScheduleFreeAdamWConfig) -> Self {
        Self {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            weight_decay: c.weight_decay,
            warmup_steps: c.warmup_steps,
            r: c.r,
            weight_lr_power: c.weight_lr_power,
        }
    }
}

impl Config for freestep_adamw_schedulefree_config {
    type Rule = ScheduleFreeAdamW;
    unsafe fn read(p: *const Self) -> ScheduleFreeAdamW {
        // SAFETY: the contract of `read`; every field accepts any bits.
        let c = unsafe {
            ScheduleFreeAdamWConfig {
                lr: field!(p, lr),
                beta1: field!(p, beta1),
                beta2: field!(p, beta2),
                eps: field!(p, eps),
                weight_decay: field!(p, weight_decay),
                warmup_steps: field!(p, warmup_steps),
                r: field!(p, r),
                weight_lr_power: field!(p, weight_lr_power),
            }
        };
        ScheduleFreeAdamW::new(c)
    }
}

impl Rule for ScheduleFreeAdamW {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_ADAMW_SCHEDULEFREE
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::AdamWScheduleFree(opt)
    }
}

impl freestep_radam_schedulefree_config {
    fn from_core(c: ScheduleFreeRAdamConfig) -> Self {
        Self {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            weight_decay: c.weight_decay,
            r: c.r,
            weight_lr_power: c.weight_lr_power,
            silent_sgd_phase: c.silent_sgd_phase,
        }
    }
}

impl Config for freestep_radam_schedulefree_config {
    type Rule = ScheduleFreeRAdam;
    unsafe fn read(p: *const Self) -> ScheduleFreeRAdam {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flag is read as a byte.
        let c = unsafe {
            ScheduleFreeRAdamConfig {
                lr: field!(p, lr),
                beta1: field!(p, beta1),
                beta2: field!(p, beta2),
                eps: field!(p, eps),
                weight_decay: field!(p, weight_decay),
                r: field!(p, r),
                weight_lr_power: field!(p, weight_lr_power),
                silent_sgd_phase: flag!(p, silent_sgd_phase),
            }
        };
        ScheduleFreeRAdam::new(c)
    }
}

impl Rule for ScheduleFreeRAdam {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_RADAM_SCHEDULEFREE
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::RAdamScheduleFree(opt)
    }
}

impl freestep_prodigy_config {
    fn from_core(c: ProdigyConfig) -> Self {
        Self {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            beta3: c.beta3.unwrap_or(-1.0),
            eps: c.eps,
            weight_decay: c.weight_decay,
            decouple: c.decouple,
            use_bias_correction: c.use_bias_correction,
            safeguard_warmup: c.safeguard_warmup,
            d0: c.d0,
            d_coef: c.d_coef,
            growth_rate: c.growth_rate,
            slice_p: c.slice_p,
        }
    }
}

impl Config for freestep_prodigy_config {
    type Rule = Prodigy;
    unsafe fn read(p: *const Self) -> Prodigy {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flags are read as bytes.
        let (c, beta3) = unsafe {
            let c = ProdigyConfig {
                lr: field!(p, lr),
                beta1: field!(p, beta1),
                beta2: field!(p, beta2),
                beta3: None,
                eps: field!(p, eps),
                weight_decay: field!(p, weight_decay),
                decouple: flag!(p, decouple),
                use_bias_correction: flag!(p, use_bias_correction),
                safeguard_warmup: flag!(p, safeguard_warmup),
                d0: field!(p, d0),
                d_coef: field!(p, d_coef),
                growth_rate: field!(p, growth_rate),
                slice_p: field!(p, slice_p),
            };
            (c, field!(p, beta3))
        };
        // NaN is not negative: it reaches validation as Some(NaN) and is
        // refused there.
        let beta3 = if beta3 < 0.0 { None } else { Some(beta3) };
        Prodigy::new(ProdigyConfig { beta3, ..c })
    }
}

impl Rule for Prodigy {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_PRODIGY
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::Prodigy(opt)
    }
}

impl freestep_adagrad_config {
    fn from_core(c: AdagradConfig) -> Self {
        Self {
            lr: c.lr,
            lr_decay: c.lr_decay,
            weight_decay: c.weight_decay,
            initial_accumulator_value: c.initial_accumulator_value,
            eps: c.eps,
            maximize: c.maximize,
        }
    }
}

impl Config for freestep_adagrad_config {
    type Rule = Adagrad;
    unsafe fn read(p: *const Self) -> Adagrad {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flags are read as bytes.
        let c = unsafe {
            AdagradConfig {
                lr: field!(p, lr),
                lr_decay: field!(p, lr_decay),
                weight_decay: field!(p, weight_decay),
                initial_accumulator_value: field!(p, initial_accumulator_value),
                eps: field!(p, eps),
                maximize: flag!(p, maximize),
            }
        };
        Adagrad::new(c)
    }
}

impl Rule for Adagrad {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_ADAGRAD
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::Adagrad(opt)
    }
}

impl freestep_rmsprop_config {
    fn from_core(c: RmspropConfig) -> Self {
        Self {
            lr: c.lr,
            alpha: c.alpha,
            eps: c.eps,
            weight_decay: c.weight_decay,
            momentum: c.momentum,
            centered: c.centered,
            maximize: c.maximize,
        }
    }
}

impl Config for freestep_rmsprop_config {
    type Rule = Rmsprop;
    unsafe fn read(p: *const Self) -> Rmsprop {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flags are read as bytes.
        let c = unsafe {
            RmspropConfig {
                lr: field!(p, lr),
                alpha: field!(p, alpha),
                eps: field!(p, eps),
                weight_decay: field!(p, weight_decay),
                momentum: field!(p, momentum),
                centered: flag!(p, centered),
                maximize: flag!(p, maximize),
            }
        };
        Rmsprop::new(c)
    }
}

impl Rule for Rmsprop {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_RMSPROP
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::Rmsprop(opt)
    }
}

impl freestep_madgrad_config {
    fn from_core(c: MadgradConfig) -> Self {
        Self {
            lr: c.lr,
            momentum: c.momentum,
            weight_decay: c.weight_decay,
            eps: c.eps,
            decouple_decay: c.decouple_decay,
        }
    }
}

impl Config for freestep_madgrad_config {
    type Rule = Madgrad;
    unsafe fn read(p: *const Self) -> Madgrad {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flags are read as bytes.
        let c = unsafe {
            MadgradConfig {
                lr: field!(p, lr),
                momentum: field!(p, momentum),
                weight_decay: field!(p, weight_decay),
                eps: field!(p, eps),
                decouple_decay: flag!(p, decouple_decay),
            }
        };
        Madgrad::new(c)
    }
}

impl Rule for Madgrad {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_MADGRAD
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::Madgrad(opt)
    }
}

impl freestep_mirror_madgrad_config {
    fn from_core(c: MirrorMadgradConfig) -> Self {
        Self {
            lr: c.lr,
            momentum: c.momentum,
            weight_decay: c.weight_decay,
            eps: c.eps,
            decouple_decay: c.decouple_decay,
        }
    }
}

impl Config for freestep_mirror_madgrad_config {
    type Rule = MirrorMadgrad;
    unsafe fn read(p: *const Self) -> MirrorMadgrad {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flags are read as bytes.
        let c = unsafe {
            MirrorMadgradConfig {
                lr: field!(p, lr),
                momentum: field!(p, momentum),
                weight_decay: field!(p, weight_decay),
                eps: field!(p, eps),
                decouple_decay: flag!(p, decouple_decay),
            }
        };
        MirrorMadgrad::new(c)
    }
}

impl Rule for MirrorMadgrad {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_MIRROR_MADGRAD
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::MirrorMadgrad(opt)
    }
}

impl freestep_lion_config {
    fn from_core(c: LionConfig) -> Self {
        Self {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            weight_decay: c.weight_decay,
            maximize: c.maximize,
        }
    }
}

impl Config for freestep_lion_config {
    type Rule = Lion;
    unsafe fn read(p: *const Self) -> Lion {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flags are read as bytes.
        let c = unsafe {
            LionConfig {
                lr: field!(p, lr),
                beta1: field!(p, beta1),
                beta2: field!(p, beta2),
                weight_decay: field!(p, weight_decay),
                maximize: flag!(p, maximize),
            }
        };
        Lion::new(c)
    }
}

impl Rule for Lion {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_LION
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::Lion(opt)
    }
}

impl freestep_dadapt_adam_config {
    fn from_core(c: DAdaptAdamConfig) -> Self {
        Self {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            weight_decay: c.weight_decay,
            d0: c.d0,
            growth_rate: c.growth_rate,
            decouple: c.decouple,
            use_bias_correction: c.use_bias_correction,
        }
    }
}

impl Config for freestep_dadapt_adam_config {
    type Rule = DAdaptAdam;
    unsafe fn read(p: *const Self) -> DAdaptAdam {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flags are read as bytes.
        let c = unsafe {
            DAdaptAdamConfig {
                lr: field!(p, lr),
                beta1: field!(p, beta1),
                beta2: field!(p, beta2),
                eps: field!(p, eps),
                weight_decay: field!(p, weight_decay),
                d0: field!(p, d0),
                growth_rate: field!(p, growth_rate),
                decouple: flag!(p, decouple),
                use_bias_correction: flag!(p, use_bias_correction),
            }
        };
        DAdaptAdam::new(c)
    }
}

impl Rule for DAdaptAdam {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_DADAPT_ADAM
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::DAdaptAdam(opt)
    }
}

impl freestep_dadapt_sgd_config {
    fn from_core(c: DAdaptSgdConfig) -> Self {
        Self {
            lr: c.lr,
            momentum: c.momentum,
            weight_decay: c.weight_decay,
            d0: c.d0,
            growth_rate: c.growth_rate,
        }
    }
}

impl Config for freestep_dadapt_sgd_config {
    type Rule = DAdaptSgd;
    unsafe fn read(p: *const Self) -> DAdaptSgd {
        // SAFETY: the contract of `read`; plain fields accept any bits.
        let c = unsafe {
            DAdaptSgdConfig {
                lr: field!(p, lr),
                momentum: field!(p, momentum),
                weight_decay: field!(p, weight_decay),
                d0: field!(p, d0),
                growth_rate: field!(p, growth_rate),
            }
        };
        DAdaptSgd::new(c)
    }
}

impl Rule for DAdaptSgd {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_DADAPT_SGD
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::DAdaptSgd(opt)
    }
}

impl freestep_dadapt_lion_config {
    fn from_core(c: DAdaptLionConfig) -> Self {
        Self {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            weight_decay: c.weight_decay,
            d0: c.d0,
        }
    }
}

impl Config for freestep_dadapt_lion_config {
    type Rule = DAdaptLion;
    unsafe fn read(p: *const Self) -> DAdaptLion {
        // SAFETY: the contract of `read`; plain fields accept any bits.
        let c = unsafe {
            DAdaptLionConfig {
                lr: field!(p, lr),
                beta1: field!(p, beta1),
                beta2: field!(p, beta2),
                weight_decay: field!(p, weight_decay),
                d0: field!(p, d0),
            }
        };
        DAdaptLion::new(c)
    }
}

impl Rule for DAdaptLion {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_DADAPT_LION
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::DAdaptLion(opt)
    }
}

impl freestep_dadapt_adagrad_config {
    fn from_core(c: DAdaptAdagradConfig) -> Self {
        Self {
            lr: c.lr,
            momentum: c.momentum,
            weight_decay: c.weight_decay,
            eps: c.eps,
            d0: c.d0,
            growth_rate: c.growth_rate,
        }
    }
}

impl Config for freestep_dadapt_adagrad_config {
    type Rule = DAdaptAdagrad;
    unsafe fn read(p: *const Self) -> DAdaptAdagrad {
        // SAFETY: the contract of `read`; plain fields accept any bits.
        let c = unsafe {
            DAdaptAdagradConfig {
                lr: field!(p, lr),
                momentum: field!(p, momentum),
                weight_decay: field!(p, weight_decay),
                eps: field!(p, eps),
                d0: field!(p, d0),
                growth_rate: field!(p, growth_rate),
            }
        };
        DAdaptAdagrad::new(c)
    }
}

impl Rule for DAdaptAdagrad {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_DADAPT_ADAGRAD
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::DAdaptAdagrad(opt)
    }
}

impl freestep_momo_config {
    fn from_core(c: MomoConfig) -> Self {
        Self {
            lr: c.lr,
            weight_decay: c.weight_decay,
            beta: c.beta,
            lb: c.lb,
            bias_correction: c.bias_correction,
            use_fstar: c.use_fstar,
        }
    }
}

impl Config for freestep_momo_config {
    type Rule = Momo;
    unsafe fn read(p: *const Self) -> Momo {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flags are read as bytes.
        let c = unsafe {
            MomoConfig {
                lr: field!(p, lr),
                weight_decay: field!(p, weight_decay),
                beta: field!(p, beta),
                lb: field!(p, lb),
                bias_correction: flag!(p, bias_correction),
                use_fstar: flag!(p, use_fstar),
            }
        };
        Momo::new(c)
    }
}

impl Rule for Momo {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_MOMO
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::Momo(opt)
    }
}

impl freestep_momo_adam_config {
    fn from_core(c: MomoAdamConfig) -> Self {
        Self {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            weight_decay: c.weight_decay,
            lb: c.lb,
            divide: c.divide,
            use_fstar: c.use_fstar,
        }
    }
}

impl Config for freestep_momo_adam_config {
    type Rule = MomoAdam;
    unsafe fn read(p: *const Self) -> MomoAdam {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flags are read as bytes.
        let c = unsafe {
            MomoAdamConfig {
                lr: field!(p, lr),
                beta1: field!(p, beta1),
                beta2: field!(p, beta2),
                eps: field!(p, eps),
                weight_decay: field!(p, weight_decay),
                lb: field!(p, lb),
                divide: flag!(p, divide),
                use_fstar: flag!(p, use_fstar),
            }
        };
        MomoAdam::new(c)
    }
}

impl Rule for MomoAdam {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_MOMO_ADAM
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::MomoAdam(opt)
    }
}

impl freestep_dadapt_adan_config {
    fn from_core(c: DAdaptAdanConfig) -> Self {
        Self {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            beta3: c.beta3,
            eps: c.eps,
            weight_decay: c.weight_decay,
            d0: c.d0,
            growth_rate: c.growth_rate,
            no_prox: c.no_prox,
        }
    }
}

impl Config for freestep_dadapt_adan_config {
    type Rule = DAdaptAdan;
    unsafe fn read(p: *const Self) -> DAdaptAdan {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flags are read as bytes.
        let c = unsafe {
            DAdaptAdanConfig {
                lr: field!(p, lr),
                beta1: field!(p, beta1),
                beta2: field!(p, beta2),
                beta3: field!(p, beta3),
                eps: field!(p, eps),
                weight_decay: field!(p, weight_decay),
                d0: field!(p, d0),
                growth_rate: field!(p, growth_rate),
                no_prox: flag!(p, no_prox),
            }
        };
        DAdaptAdan::new(c)
    }
}

impl Rule for DAdaptAdan {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_DADAPT_ADAN
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::DAdaptAdan(opt)
    }
}

/// Builds the optimizer described by `config` and writes it into `opt`.
///
/// # Safety
///
/// The contract of the `freestep_*_init` functions.
unsafe fn init<C: Config>(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const C,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> Result<(), freestep_status> {
    let out = Out::new(opt.cast::<Object>())?;
    let config = check_ptr(config)?;
    let groups = Buf::new(groups, n_groups)?;
    if opt_size < size_of::<Object>() {
        return Err(freestep_status::BUFFER_TOO_SMALL);
    }
    let precision = precision.get()?;
    if groups.len() > MAX_GROUPS {
        return Err(freestep_status::TOO_MANY_GROUPS);
    }

    // SAFETY: `config` is non-NULL and aligned (checked above); the caller
    // promises it points to an initialised struct.
    let rule = unsafe { C::read(config.as_ptr()) };
    let mut copied = [Group::new(0); MAX_GROUPS];
    // SAFETY: `groups` was checked for NULL, alignment and size above; the
    // caller promises `n_groups` readable structs, whose fields accept any
    // bits. The slice is dropped before the object is written.
    let given = unsafe { groups.slice() };
    for (g, c) in copied.iter_mut().zip(given) {
        *g = Group::new(c.len)
            .lr_scale(c.lr_scale)
            .weight_decay_scale(c.weight_decay_scale);
    }
    let groups = copied
        .get(..given.len())
        .ok_or(freestep_status::TOO_MANY_GROUPS)?;

    let object = match precision {
        freestep_precision::F32 => build::<f32, _>(rule, n_params, groups)?,
        freestep_precision::F64 => build::<f64, _>(rule, n_params, groups)?,
    };
    // SAFETY: `out` is non-NULL and aligned (checked above) and `opt_size`
    // says the block holds an `Object`; the block is only written, never
    // read, so its old contents do not matter. It is zeroed first so that
    // bytes the object does not cover are not left as they were. Padding
    // inside the object is still copied from the value as the compiler
    // chooses, so two identical inits are not guaranteed to be memcmp-equal.
    unsafe {
        core::ptr::write_bytes(out.as_ptr().cast_mut(), 0, 1);
        out.write(object)
    };
    Ok(())
}

/// The object for `rule` over `n` parameters in `groups`.
fn build<T: Element, R: Rule>(
    rule: R,
    n: usize,
    groups: &[Group],
) -> Result<Object, freestep_status> {
    let tag = rule.tag();
    let opt = Optimizer::<T, R>::with_groups(rule, n, groups).map_err(status_of)?;
    Ok(Object::new(tag, R::into_any(opt)))
}

/// Writes the defaults of `$config` through `$out`.
fn write_default<C>(out: *mut C, value: C) -> freestep_status {
    boundary(|| {
        let out = Out::new(out)?;
        // SAFETY: `out` is non-NULL and aligned (checked just above); the
        // caller promises it points to writable memory for one struct.
        unsafe { out.write(value) };
        Ok(())
    })
}

/// Writes `torch.optim.SGD`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_sgd_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_sgd_default_config(out: *mut freestep_sgd_config) -> freestep_status {
    write_default(out, freestep_sgd_config::from_core(SgdConfig::default()))
}

/// Writes `torch.optim.Adam`'s defaults into `*out` (coupled weight decay
/// of 0).
///
/// `out` must point to a writable `freestep_adam_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_adam_default_config(out: *mut freestep_adam_config) -> freestep_status {
    write_default(out, freestep_adam_config::from_core(AdamConfig::default()))
}

/// Writes `torch.optim.AdamW`'s defaults into `*out` (decoupled weight
/// decay of 1e-2). Initialise with `freestep_adam_init`.
///
/// `out` must point to a writable `freestep_adam_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_adamw_default_config(out: *mut freestep_adam_config) -> freestep_status {
    write_default(out, freestep_adam_config::from_core(AdamConfig::adamw()))
}

/// Writes `SGDScheduleFree`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_sgd_schedulefree_config`; NULL
/// or a misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_sgd_schedulefree_default_config(
    out: *mut freestep_sgd_schedulefree_config,
) -> freestep_status {
    let value = ScheduleFreeSgdConfig::default();
    write_default(out, freestep_sgd_schedulefree_config::from_core(value))
}

/// Writes `RAdamScheduleFree`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_radam_schedulefree_config`;
/// NULL or a misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_radam_schedulefree_default_config(
    out: *mut freestep_radam_schedulefree_config,
) -> freestep_status {
    let value = ScheduleFreeRAdamConfig::default();
    write_default(out, freestep_radam_schedulefree_config::from_core(value))
}

/// Writes `AdamWScheduleFree`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_adamw_schedulefree_config`;
/// NULL or a misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_adamw_schedulefree_default_config(
    out: *mut freestep_adamw_schedulefree_config,
) -> freestep_status {
    let value = ScheduleFreeAdamWConfig::default();
    write_default(out, freestep_adamw_schedulefree_config::from_core(value))
}

/// Writes `prodigyopt.Prodigy`'s defaults into `*out` (`beta3` is -1,
/// meaning sqrt(beta2)).
///
/// `out` must point to a writable `freestep_prodigy_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_prodigy_default_config(
    out: *mut freestep_prodigy_config,
) -> freestep_status {
    write_default(
        out,
        freestep_prodigy_config::from_core(ProdigyConfig::default()),
    )
}

/// Writes `torch.optim.Adagrad`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_adagrad_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_adagrad_default_config(
    out: *mut freestep_adagrad_config,
) -> freestep_status {
    write_default(
        out,
        freestep_adagrad_config::from_core(AdagradConfig::default()),
    )
}

/// Writes `torch.optim.RMSprop`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_rmsprop_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_rmsprop_default_config(
    out: *mut freestep_rmsprop_config,
) -> freestep_status {
    write_default(
        out,
        freestep_rmsprop_config::from_core(RmspropConfig::default()),
    )
}

/// Writes `madgrad.MADGRAD`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_madgrad_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_madgrad_default_config(
    out: *mut freestep_madgrad_config,
) -> freestep_status {
    write_default(
        out,
        freestep_madgrad_config::from_core(MadgradConfig::default()),
    )
}

/// Writes `madgrad.MirrorMADGRAD`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_mirror_madgrad_config`; NULL or
/// a misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_mirror_madgrad_default_config(
    out: *mut freestep_mirror_madgrad_config,
) -> freestep_status {
    write_default(
        out,
        freestep_mirror_madgrad_config::from_core(MirrorMadgradConfig::default()),
    )
}

/// Writes `momo.Momo`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_momo_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_momo_default_config(out: *mut freestep_momo_config) -> freestep_status {
    write_default(out, freestep_momo_config::from_core(MomoConfig::default()))
}

/// Writes `momo.MomoAdam`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_momo_adam_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_momo_adam_default_config(
    out: *mut freestep_momo_adam_config,
) -> freestep_status {
    write_default(
        out,
        freestep_momo_adam_config::from_core(MomoAdamConfig::default()),
    )
}

/// Writes the Lion paper's defaults into `*out`.
///
/// `out` must point to a writable `freestep_lion_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_lion_default_config(out: *mut freestep_lion_config) -> freestep_status {
    write_default(out, freestep_lion_config::from_core(LionConfig::default()))
}

/// Writes `dadaptation.DAdaptAdam`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_dadapt_adam_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_dadapt_adam_default_config(
    out: *mut freestep_dadapt_adam_config,
) -> freestep_status {
    write_default(
        out,
        freestep_dadapt_adam_config::from_core(DAdaptAdamConfig::default()),
    )
}

/// Writes `dadaptation.DAdaptSGD`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_dadapt_sgd_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_dadapt_sgd_default_config(
    out: *mut freestep_dadapt_sgd_config,
) -> freestep_status {
    write_default(
        out,
        freestep_dadapt_sgd_config::from_core(DAdaptSgdConfig::default()),
    )
}

/// Writes `dadaptation.DAdaptLion`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_dadapt_lion_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_dadapt_lion_default_config(
    out: *mut freestep_dadapt_lion_config,
) -> freestep_status {
    write_default(
        out,
        freestep_dadapt_lion_config::from_core(DAdaptLionConfig::default()),
    )
}

/// Writes `dadaptation.DAdaptAdaGrad`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_dadapt_adagrad_config`; NULL or
/// a misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_dadapt_adagrad_default_config(
    out: *mut freestep_dadapt_adagrad_config,
) -> freestep_status {
    write_default(
        out,
        freestep_dadapt_adagrad_config::from_core(DAdaptAdagradConfig::default()),
    )
}

/// Writes `dadaptation.DAdaptAdan`'s defaults into `*out`.
///
/// `out` must point to a writable `freestep_dadapt_adan_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_dadapt_adan_default_config(
    out: *mut freestep_dadapt_adan_config,
) -> freestep_status {
    write_default(
        out,
        freestep_dadapt_adan_config::from_core(DAdaptAdanConfig::default()),
    )
}

/// Initialises an SGD optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_sgd_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_sgd_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises an Adam optimizer (AdamW when the config sets
/// `decoupled_weight_decay`) in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_adam_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_adam_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a Schedule-Free SGD optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_sgd_schedulefree_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_sgd_schedulefree_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a Schedule-Free AdamW optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_adamw_schedulefree_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_adamw_schedulefree_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a Prodigy optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_prodigy_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_prodigy_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises an AdaGrad optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_adagrad_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_adagrad_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises an RMSprop optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_rmsprop_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_rmsprop_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a MADGRAD optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_madgrad_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_madgrad_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a Mirror MADGRAD optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_mirror_madgrad_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_mirror_madgrad_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a Lion optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_lion_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_lion_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a D-Adaptation Adam optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_dadapt_adam_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_dadapt_adam_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a D-Adaptation SGD optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_dadapt_sgd_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_dadapt_sgd_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a D-Adaptation Lion optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_dadapt_lion_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_dadapt_lion_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a D-Adaptation AdaGrad optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_dadapt_adagrad_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_dadapt_adagrad_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a D-Adaptation Adan optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_dadapt_adan_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_dadapt_adan_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a MoMo optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_momo_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_momo_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a MoMo-Adam optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_momo_adam_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_momo_adam_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a Schedule-Free RAdam optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_radam_schedulefree_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_radam_schedulefree_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Hyperparameters of gradient descent with the Polyak step size
/// (Mishkin et al., arXiv 2403.04081). Steps need the loss: use
/// `freestep_optimizer_step_loss_*`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_polyak_config {
    /// Multiplier of the Polyak step, >= 0 (default 1, the paper's step).
    pub lr: f64,
    /// The optimal value of the loss or a lower bound on it, finite
    /// (default 0).
    pub f_star: f64,
    /// Largest step size, > 0; infinity for no cap (default infinity).
    pub max_lr: f64,
}

/// Hyperparameters of normalized gradient descent (Mishkin et al., arXiv
/// 2403.04081): every step has length lr.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_ngd_config {
    /// Length of every step, >= 0 (default 1e-2).
    pub lr: f64,
}

/// Hyperparameters of Nesterov's accelerated gradient method for
/// strongly convex objectives (Defazio, "On the Curved Geometry of
/// Accelerated Optimization", NeurIPS 2019).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_accelerated_config {
    /// Multiplier of the gradient step 1/L, >= 0 (default 1).
    pub lr: f64,
    /// L, the smoothness constant, > 0 (default 1).
    pub l: f64,
    /// mu, the strong convexity constant, in (0, L] (default 0.01).
    pub mu: f64,
}

/// Hyperparameters of SGD with momentum in its primal-averaging form
/// (Defazio, arXiv 2010.00406): z -= eta_k g, x = (1 - c) x + c z.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_primal_averaging_config {
    /// eta, the step of the sequence z, >= 0 (default 1).
    pub lr: f64,
    /// beta, with c = 1 - beta, in [0, 1); ignored with uniform
    /// (default 0.9).
    pub momentum: f64,
    /// p in eta_k = lr / (k + 1)^p, in [0, 1] (default 0).
    pub lr_power: f64,
    /// Average z uniformly, c = 1 / (k + 1) (default false).
    pub uniform: bool,
}

/// Hyperparameters of the stochastic heavy ball with weighted iterate
/// averaging (Sebbouh, Gower and Defazio, COLT 2021): x is the
/// eta_k-weighted average of the SGD iterates z.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_shb_config {
    /// eta, the step of the sequence z, >= 0 (default 0.1).
    pub lr: f64,
    /// p in eta_k = lr / (k + 1)^p, in [0, 1] (default 0).
    pub lr_power: f64,
}

impl freestep_polyak_config {
    fn from_core(c: PolyakConfig) -> Self {
        Self {
            lr: c.lr,
            f_star: c.f_star,
            max_lr: c.max_lr,
        }
    }
}

impl Config for freestep_polyak_config {
    type Rule = Polyak;
    unsafe fn read(p: *const Self) -> Polyak {
        // SAFETY: the contract of `read`; plain fields accept any bits.
        let c = unsafe {
            PolyakConfig {
                lr: field!(p, lr),
                f_star: field!(p, f_star),
                max_lr: field!(p, max_lr),
            }
        };
        Polyak::new(c)
    }
}

impl Rule for Polyak {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_POLYAK
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::Polyak(opt)
    }
}

impl freestep_ngd_config {
    fn from_core(c: NgdConfig) -> Self {
        Self { lr: c.lr }
    }
}

impl Config for freestep_ngd_config {
    type Rule = Ngd;
    unsafe fn read(p: *const Self) -> Ngd {
        // SAFETY: the contract of `read`; plain fields accept any bits.
        let c = unsafe { NgdConfig { lr: field!(p, lr) } };
        Ngd::new(c)
    }
}

impl Rule for Ngd {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_NGD
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::Ngd(opt)
    }
}

impl freestep_accelerated_config {
    fn from_core(c: AcceleratedConfig) -> Self {
        Self {
            lr: c.lr,
            l: c.l,
            mu: c.mu,
        }
    }
}

impl Config for freestep_accelerated_config {
    type Rule = Accelerated;
    unsafe fn read(p: *const Self) -> Accelerated {
        // SAFETY: the contract of `read`; plain fields accept any bits.
        let c = unsafe {
            AcceleratedConfig {
                lr: field!(p, lr),
                l: field!(p, l),
                mu: field!(p, mu),
            }
        };
        Accelerated::new(c)
    }
}

impl Rule for Accelerated {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_ACCELERATED
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::Accelerated(opt)
    }
}

impl freestep_primal_averaging_config {
    fn from_core(c: PrimalAveragingConfig) -> Self {
        Self {
            lr: c.lr,
            momentum: c.momentum,
            lr_power: c.lr_power,
            uniform: c.uniform,
        }
    }
}

impl Config for freestep_primal_averaging_config {
    type Rule = PrimalAveraging;
    unsafe fn read(p: *const Self) -> PrimalAveraging {
        // SAFETY: the contract of `read`; plain fields accept any bits and
        // the flags are read as bytes.
        let c = unsafe {
            PrimalAveragingConfig {
                lr: field!(p, lr),
                momentum: field!(p, momentum),
                lr_power: field!(p, lr_power),
                uniform: flag!(p, uniform),
            }
        };
        PrimalAveraging::new(c)
    }
}

impl Rule for PrimalAveraging {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_PRIMAL_AVERAGING
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::PrimalAveraging(opt)
    }
}

impl freestep_shb_config {
    fn from_core(c: ShbConfig) -> Self {
        Self {
            lr: c.lr,
            lr_power: c.lr_power,
        }
    }
}

impl Config for freestep_shb_config {
    type Rule = Shb;
    unsafe fn read(p: *const Self) -> Shb {
        // SAFETY: the contract of `read`; plain fields accept any bits.
        let c = unsafe {
            ShbConfig {
                lr: field!(p, lr),
                lr_power: field!(p, lr_power),
            }
        };
        Shb::new(c)
    }
}

impl Rule for Shb {
    fn tag(&self) -> freestep_rule {
        freestep_rule::RULE_SHB
    }
    fn into_any<T: Float>(opt: Optimizer<T, Self>) -> Any<T> {
        Any::Shb(opt)
    }
}

/// Writes the Polyak step's defaults (the paper's step, f* = 0, no cap) into `*out`.
///
/// `out` must point to a writable `freestep_polyak_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_polyak_default_config(
    out: *mut freestep_polyak_config,
) -> freestep_status {
    write_default(
        out,
        freestep_polyak_config::from_core(PolyakConfig::default()),
    )
}

/// Writes the defaults of normalized gradient descent into `*out`.
///
/// `out` must point to a writable `freestep_ngd_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_ngd_default_config(out: *mut freestep_ngd_config) -> freestep_status {
    write_default(out, freestep_ngd_config::from_core(NgdConfig::default()))
}

/// Writes the defaults of the accelerated method (L = 1, mu = 0.01) into `*out`.
///
/// `out` must point to a writable `freestep_accelerated_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_accelerated_default_config(
    out: *mut freestep_accelerated_config,
) -> freestep_status {
    write_default(
        out,
        freestep_accelerated_config::from_core(AcceleratedConfig::default()),
    )
}

/// Writes the defaults of primal-averaging SGD (c = 0.1, constant lr) into `*out`.
///
/// `out` must point to a writable `freestep_primal_averaging_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_primal_averaging_default_config(
    out: *mut freestep_primal_averaging_config,
) -> freestep_status {
    write_default(
        out,
        freestep_primal_averaging_config::from_core(PrimalAveragingConfig::default()),
    )
}

/// Writes the defaults of the stochastic heavy ball (constant lr 0.1) into `*out`.
///
/// `out` must point to a writable `freestep_shb_config`; NULL or a
/// misaligned pointer is refused and nothing is written.
#[no_mangle]
pub extern "C" fn freestep_shb_default_config(out: *mut freestep_shb_config) -> freestep_status {
    write_default(out, freestep_shb_config::from_core(ShbConfig::default()))
}

/// Initialises a Polyak step size optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_polyak_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_polyak_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a normalized gradient descent optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_ngd_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_ngd_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a Nesterov accelerated gradient optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_accelerated_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_accelerated_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a primal-averaging SGD optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_primal_averaging_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_primal_averaging_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}

/// Initialises a stochastic heavy ball optimizer in the caller's block `opt`.
///
/// `opt` points to `opt_size` writable bytes aligned to
/// `freestep_optimizer_align()`, and `opt_size` must be at least
/// `freestep_optimizer_size()`. The block's old contents are ignored and
/// overwritten; the library keeps no pointer to it, to `config` or to
/// `groups`. `precision` is `FREESTEP_F32` or `FREESTEP_F64` and fixes the
/// element type of every later call. `n_params` counts parameters
/// (elements). `groups` points to `n_groups` groups that cover the
/// parameters in order; it may be NULL when `n_groups` is 0, which means one
/// group with both multipliers at 1.
///
/// On error (NULL or misaligned pointer, block too small, unknown
/// precision, hyperparameter out of range, bad groups) the block is not
/// written at all.
///
/// # Safety
///
/// Non-NULL pointers must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn freestep_shb_init(
    opt: *mut freestep_optimizer,
    opt_size: usize,
    config: *const freestep_shb_config,
    precision: RawPrecision,
    n_params: usize,
    groups: *const freestep_group,
    n_groups: usize,
) -> freestep_status {
    boundary(|| {
        // SAFETY: this function's contract is `init`'s.
        unsafe { init(opt, opt_size, config, precision, n_params, groups, n_groups) }
    })
}
