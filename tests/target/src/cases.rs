//! The rule cases every target runs: each rule of the library, in settings
//! that reach its option branches, one of them over several groups.
//!
//! Adding a rule to the library means adding it to [`Rule`], to
//! [`RULE_NAMES`] and to [`CASES`]; `cargo xtask cross` fails while the
//! number of rules covered here differs from the number the C ABI exports.

use freestep::rules::schedule_free::ScheduleFree;
use freestep::{
    Accelerated, AcceleratedConfig, Adagrad, AdagradConfig, Adam, AdamConfig, DAdaptAdagrad,
    DAdaptAdagradConfig, DAdaptAdam, DAdaptAdamConfig, DAdaptAdan, DAdaptAdanConfig, DAdaptLion,
    DAdaptLionConfig, DAdaptSgd, DAdaptSgdConfig, Error, Float, Group, Lion, LionConfig, Madgrad,
    MadgradConfig, MirrorMadgrad, MirrorMadgradConfig, Momo, MomoAdam, MomoAdamConfig, MomoConfig,
    Ngd, NgdConfig, Optimizer, Polyak, PolyakConfig, PrimalAveraging, PrimalAveragingConfig,
    Prodigy, ProdigyConfig, Rmsprop, RmspropConfig, Schedule, ScheduleFreeAdamW,
    ScheduleFreeAdamWConfig, ScheduleFreeRAdam, ScheduleFreeRAdamConfig, ScheduleFreeSgd,
    ScheduleFreeSgdConfig, Sgd, SgdConfig, Shb, ShbConfig, UpdateRule,
};

/// A rule of the library with its configuration.
#[derive(Clone, Copy, Debug)]
pub enum Rule {
    Sgd(SgdConfig),
    Adam(AdamConfig),
    ScheduleFreeSgd(ScheduleFreeSgdConfig),
    ScheduleFreeAdamW(ScheduleFreeAdamWConfig),
    ScheduleFreeRAdam(ScheduleFreeRAdamConfig),
    Prodigy(ProdigyConfig),
    Adagrad(AdagradConfig),
    Rmsprop(RmspropConfig),
    Madgrad(MadgradConfig),
    Lion(LionConfig),
    DAdaptAdam(DAdaptAdamConfig),
    DAdaptSgd(DAdaptSgdConfig),
    DAdaptLion(DAdaptLionConfig),
    DAdaptAdagrad(DAdaptAdagradConfig),
    DAdaptAdan(DAdaptAdanConfig),
    MirrorMadgrad(MirrorMadgradConfig),
    Momo(MomoConfig),
    MomoAdam(MomoAdamConfig),
    Polyak(PolyakConfig),
    Ngd(NgdConfig),
    Shb(ShbConfig),
    PrimalAveraging(PrimalAveragingConfig),
    Accelerated(AcceleratedConfig),
}

/// The rules, by their C ABI names (`FREESTEP_RULE_*`), where Adam with
/// decoupled weight decay is AdamW.
pub const RULE_NAMES: [&str; 24] = [
    "sgd",
    "adam",
    "adamw",
    "sgd-schedulefree",
    "adamw-schedulefree",
    "prodigy",
    "adagrad",
    "rmsprop",
    "madgrad",
    "lion",
    "dadapt-adam",
    "dadapt-sgd",
    "dadapt-lion",
    "dadapt-adagrad",
    "dadapt-adan",
    "mirror-madgrad",
    "momo",
    "momo-adam",
    "radam-schedulefree",
    "polyak",
    "ngd",
    "shb",
    "primal-averaging",
    "accelerated",
];

impl Rule {
    /// The index of the rule in [`RULE_NAMES`].
    pub fn family(&self) -> usize {
        match self {
            Rule::Sgd(_) => 0,
            Rule::Adam(c) if !c.decoupled_weight_decay => 1,
            Rule::Adam(_) => 2,
            Rule::ScheduleFreeSgd(_) => 3,
            Rule::ScheduleFreeAdamW(_) => 4,
            Rule::Prodigy(_) => 5,
            Rule::Adagrad(_) => 6,
            Rule::Rmsprop(_) => 7,
            Rule::Madgrad(_) => 8,
            Rule::Lion(_) => 9,
            Rule::DAdaptAdam(_) => 10,
            Rule::DAdaptSgd(_) => 11,
            Rule::DAdaptLion(_) => 12,
            Rule::DAdaptAdagrad(_) => 13,
            Rule::DAdaptAdan(_) => 14,
            Rule::MirrorMadgrad(_) => 15,
            Rule::Momo(_) => 16,
            Rule::MomoAdam(_) => 17,
            Rule::ScheduleFreeRAdam(_) => 18,
            Rule::Polyak(_) => 19,
            Rule::Ngd(_) => 20,
            Rule::Shb(_) => 21,
            Rule::PrimalAveraging(_) => 22,
            Rule::Accelerated(_) => 23,
        }
    }

    /// Calls `job` with the rule's concrete type.
    pub fn with<J: Job>(&self, job: J) -> J::Output {
        match *self {
            Rule::Sgd(c) => job.run(Sgd::new(c)),
            Rule::Adam(c) => job.run(Adam::new(c)),
            Rule::ScheduleFreeSgd(c) => job.run(ScheduleFreeSgd::new(c)),
            Rule::ScheduleFreeAdamW(c) => job.run(ScheduleFreeAdamW::new(c)),
            Rule::ScheduleFreeRAdam(c) => job.run(ScheduleFreeRAdam::new(c)),
            Rule::Polyak(c) => job.run(Polyak::new(c)),
            Rule::Ngd(c) => job.run(Ngd::new(c)),
            Rule::Shb(c) => job.run(Shb::new(c)),
            Rule::PrimalAveraging(c) => job.run(PrimalAveraging::new(c)),
            Rule::Accelerated(c) => job.run(Accelerated::new(c)),
            Rule::Prodigy(c) => job.run(Prodigy::new(c)),
            Rule::Adagrad(c) => job.run(Adagrad::new(c)),
            Rule::Rmsprop(c) => job.run(Rmsprop::new(c)),
            Rule::Madgrad(c) => job.run(Madgrad::new(c)),
            Rule::Lion(c) => job.run(Lion::new(c)),
            Rule::DAdaptAdam(c) => job.run(DAdaptAdam::new(c)),
            Rule::DAdaptSgd(c) => job.run(DAdaptSgd::new(c)),
            Rule::DAdaptLion(c) => job.run(DAdaptLion::new(c)),
            Rule::DAdaptAdagrad(c) => job.run(DAdaptAdagrad::new(c)),
            Rule::DAdaptAdan(c) => job.run(DAdaptAdan::new(c)),
            Rule::MirrorMadgrad(c) => job.run(MirrorMadgrad::new(c)),
            Rule::Momo(c) => job.run(Momo::new(c)),
            Rule::MomoAdam(c) => job.run(MomoAdam::new(c)),
        }
    }
}

/// Work generic over the rule type (a closure cannot be generic).
pub trait Job {
    type Output;
    fn run<R: Weights>(self, rule: R) -> Self::Output;
}

/// What the checks need beyond [`UpdateRule`]: the weights a rule is judged
/// by. For Schedule-Free that is the average `x`, written to `out`.
pub trait Weights: UpdateRule {
    /// Sets the rule's learning rate (for schedules; `UpdateRule::lr`
    /// reads it).
    fn set_lr(&mut self, lr: f64);

    /// Writes the eval weights into `out` and returns true, or returns false
    /// when the rule has none (its parameters are its weights).
    fn eval_weights<T: Float>(
        _opt: &Optimizer<T, Self>,
        _params: &[T],
        _state: &[T],
        _out: &mut [T],
    ) -> Result<bool, Error> {
        Ok(false)
    }
}

/// Every rule keeps its learning rate in `config.lr`.
macro_rules! lr_access {
    () => {
        fn set_lr(&mut self, lr: f64) {
            self.config.lr = lr;
        }
    };
}

impl Weights for Sgd {
    lr_access!();
}
impl Weights for Adam {
    lr_access!();
}
impl Weights for Prodigy {
    lr_access!();
}
impl Weights for Adagrad {
    lr_access!();
}
impl Weights for Rmsprop {
    lr_access!();
}
impl Weights for Madgrad {
    lr_access!();
}
impl Weights for Lion {
    lr_access!();
}
impl Weights for DAdaptAdam {
    lr_access!();
}
impl Weights for DAdaptSgd {
    lr_access!();
}
impl Weights for DAdaptLion {
    lr_access!();
}
impl Weights for DAdaptAdagrad {
    lr_access!();
}
impl Weights for DAdaptAdan {
    lr_access!();
}
impl Weights for MirrorMadgrad {
    lr_access!();
}
impl Weights for Momo {
    lr_access!();
}
impl Weights for Polyak {
    lr_access!();
}
impl Weights for Ngd {
    lr_access!();
}
impl Weights for Shb {
    lr_access!();
}
impl Weights for PrimalAveraging {
    lr_access!();
}
impl Weights for Accelerated {
    lr_access!();
}
impl Weights for MomoAdam {
    lr_access!();
}
impl Weights for ScheduleFreeSgd {
    lr_access!();
    fn eval_weights<T: Float>(
        opt: &Optimizer<T, Self>,
        params: &[T],
        state: &[T],
        out: &mut [T],
    ) -> Result<bool, Error> {
        averaged(opt, params, state, out)
    }
}
impl Weights for ScheduleFreeRAdam {
    lr_access!();
    fn eval_weights<T: Float>(
        opt: &Optimizer<T, Self>,
        params: &[T],
        state: &[T],
        out: &mut [T],
    ) -> Result<bool, Error> {
        averaged(opt, params, state, out)
    }
}
impl Weights for ScheduleFreeAdamW {
    lr_access!();
    fn eval_weights<T: Float>(
        opt: &Optimizer<T, Self>,
        params: &[T],
        state: &[T],
        out: &mut [T],
    ) -> Result<bool, Error> {
        averaged(opt, params, state, out)
    }
}

fn averaged<T: Float, R: ScheduleFree>(
    opt: &Optimizer<T, R>,
    params: &[T],
    state: &[T],
    out: &mut [T],
) -> Result<bool, Error> {
    opt.eval_params(params, state, out).map(|()| true)
}

/// One case: a named rule setting, over one group or several.
pub struct Case {
    pub name: &'static str,
    pub rule: Rule,
    /// Empty: one group of all parameters.
    pub groups: &'static [Group],
    /// A learning-rate schedule over a run of the given total steps, applied
    /// to the rule's `lr` before every step.
    pub schedule: Option<fn(u64) -> Schedule>,
}

impl Case {
    /// Before step `t` of a run of `total` steps: sets the rule's `lr` to
    /// `base` times the case's schedule (nothing without one).
    pub fn apply_schedule<T: Float, R: Weights>(
        &self,
        opt: &mut Optimizer<T, R>,
        base: f64,
        t: usize,
        total: usize,
    ) -> Result<(), Error> {
        if let Some(schedule) = self.schedule {
            let multiplier = schedule(total as u64).multiplier(t as u64)?;
            opt.rule_mut().set_lr(base * multiplier);
        }
        Ok(())
    }
}

/// Two groups over the f32 problem's 260 parameters: the second crosses the
/// tile boundary at 256, steps at half the rate and is not decayed.
const TWO_GROUPS: [Group; 2] = [
    Group::new(200),
    Group::new(60).lr_scale(0.5).weight_decay_scale(0.0),
];

/// The cases, tuned so that each also descends on the quadratic within the
/// steps of [`crate::properties`].
pub const CASES: [Case; 47] = [
    Case {
        name: "sgd",
        rule: Rule::Sgd(SgdConfig {
            lr: 0.2,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "sgd-nesterov-decay",
        rule: Rule::Sgd(SgdConfig {
            lr: 0.05,
            momentum: 0.9,
            dampening: 0.0,
            weight_decay: 0.01,
            nesterov: true,
            maximize: false,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "sgd-momentum-dampening-groups",
        rule: Rule::Sgd(SgdConfig {
            lr: 0.05,
            momentum: 0.8,
            dampening: 0.3,
            weight_decay: 0.01,
            nesterov: false,
            maximize: false,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "adam",
        rule: Rule::Adam(AdamConfig {
            lr: 0.05,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "adamw-amsgrad-groups",
        rule: Rule::Adam(AdamConfig {
            lr: 0.05,
            beta1: 0.8,
            beta2: 0.99,
            eps: 1e-6,
            weight_decay: 0.01,
            amsgrad: true,
            maximize: false,
            decoupled_weight_decay: true,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "sgd-schedulefree-warmup",
        rule: Rule::ScheduleFreeSgd(ScheduleFreeSgdConfig {
            lr: 0.2,
            momentum: 0.9,
            weight_decay: 0.001,
            warmup_steps: 5,
            r: 0.5,
            weight_lr_power: 2.0,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "adamw-schedulefree",
        rule: Rule::ScheduleFreeAdamW(ScheduleFreeAdamWConfig {
            lr: 0.05,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            warmup_steps: 0,
            r: 0.0,
            weight_lr_power: 2.0,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        // RAdam's rectification keeps the lr small for hundreds of steps at
        // beta2 = 0.999; 0.99 lets it descend within the check's steps.
        name: "radam-schedulefree",
        rule: Rule::ScheduleFreeRAdam(ScheduleFreeRAdamConfig {
            lr: 0.2,
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            r: 0.0,
            weight_lr_power: 2.0,
            silent_sgd_phase: true,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "radam-schedulefree-sgd-phase-groups",
        rule: Rule::ScheduleFreeRAdam(ScheduleFreeRAdamConfig {
            lr: 0.05,
            beta1: 0.95,
            beta2: 0.99,
            eps: 1e-6,
            weight_decay: 0.01,
            r: 1.0,
            weight_lr_power: 1.0,
            silent_sgd_phase: false,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "adamw-schedulefree-warmup-groups",
        rule: Rule::ScheduleFreeAdamW(ScheduleFreeAdamWConfig {
            lr: 0.05,
            beta1: 0.95,
            beta2: 0.99,
            eps: 1e-6,
            weight_decay: 0.01,
            warmup_steps: 4,
            r: 1.0,
            weight_lr_power: 1.0,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "prodigy",
        rule: Rule::Prodigy(ProdigyConfig {
            lr: 1.0,
            beta1: 0.9,
            beta2: 0.999,
            beta3: None,
            eps: 1e-8,
            weight_decay: 0.0,
            decouple: true,
            use_bias_correction: false,
            safeguard_warmup: false,
            d0: 1e-6,
            d_coef: 1.0,
            growth_rate: f64::INFINITY,
            slice_p: 1,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "prodigy-options-groups",
        rule: Rule::Prodigy(ProdigyConfig {
            lr: 1.0,
            beta1: 0.9,
            beta2: 0.99,
            beta3: Some(0.9),
            eps: 1e-8,
            weight_decay: 0.01,
            decouple: false,
            use_bias_correction: true,
            safeguard_warmup: true,
            d0: 1e-4,
            d_coef: 0.5,
            growth_rate: 1.5,
            slice_p: 3,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "sgd-momentum-linear-warmup",
        rule: Rule::Sgd(SgdConfig {
            lr: 0.05,
            momentum: 0.9,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }),
        groups: &[],
        schedule: Some(|_| Schedule::LinearWarmup { warmup: 6 }),
    },
    Case {
        name: "adamw-linear-decay",
        rule: Rule::Adam(AdamConfig {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: true,
        }),
        groups: &[],
        schedule: Some(|total| Schedule::LinearDecay { warmup: 3, total }),
    },
    Case {
        name: "adam-cosine-groups",
        rule: Rule::Adam(AdamConfig {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
        }),
        groups: &TWO_GROUPS,
        schedule: Some(|total| Schedule::Cosine {
            warmup: 2,
            total,
            final_value: 0.1,
        }),
    },
    Case {
        name: "sgd-warmup-stable-decay",
        rule: Rule::Sgd(SgdConfig {
            lr: 0.3,
            momentum: 0.5,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: true,
            maximize: false,
        }),
        groups: &[],
        schedule: Some(|total| Schedule::WarmupStableDecay {
            warmup: 2,
            decay: total / 3,
            total,
        }),
    },
    Case {
        name: "prodigy-polynomial",
        rule: Rule::Prodigy(ProdigyConfig {
            lr: 1.0,
            beta1: 0.9,
            beta2: 0.999,
            beta3: None,
            eps: 1e-8,
            weight_decay: 0.0,
            decouple: true,
            use_bias_correction: false,
            safeguard_warmup: true,
            d0: 1e-6,
            d_coef: 1.0,
            growth_rate: f64::INFINITY,
            slice_p: 1,
        }),
        groups: &[],
        schedule: Some(|total| Schedule::Polynomial {
            warmup: 0,
            total,
            power: 0.5,
        }),
    },
    Case {
        name: "adagrad-decay",
        rule: Rule::Adagrad(AdagradConfig {
            lr: 0.5,
            lr_decay: 0.01,
            weight_decay: 0.001,
            initial_accumulator_value: 0.1,
            eps: 1e-10,
            maximize: false,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "rmsprop",
        rule: Rule::Rmsprop(RmspropConfig {
            lr: 0.01,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "rmsprop-centered-momentum",
        rule: Rule::Rmsprop(RmspropConfig {
            lr: 0.005,
            alpha: 0.9,
            eps: 1e-6,
            weight_decay: 0.001,
            momentum: 0.8,
            centered: true,
            maximize: false,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "madgrad",
        rule: Rule::Madgrad(MadgradConfig {
            lr: 0.05,
            momentum: 0.9,
            weight_decay: 0.0,
            eps: 1e-6,
            decouple_decay: false,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "madgrad-no-momentum-decoupled-groups",
        rule: Rule::Madgrad(MadgradConfig {
            lr: 0.3,
            momentum: 0.0,
            weight_decay: 0.0001,
            eps: 0.0,
            decouple_decay: true,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "lion",
        rule: Rule::Lion(LionConfig {
            lr: 0.03,
            beta1: 0.9,
            beta2: 0.99,
            weight_decay: 0.0,
            maximize: false,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "lion-decay-cosine-groups",
        rule: Rule::Lion(LionConfig {
            lr: 0.06,
            beta1: 0.8,
            beta2: 0.98,
            weight_decay: 0.01,
            maximize: false,
        }),
        groups: &TWO_GROUPS,
        schedule: Some(|total| Schedule::Cosine {
            warmup: 0,
            total,
            final_value: 0.0,
        }),
    },
    Case {
        name: "dadapt-adam",
        rule: Rule::DAdaptAdam(DAdaptAdamConfig {
            lr: 1.0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decouple: false,
            use_bias_correction: false,
            d0: 1e-6,
            growth_rate: f64::INFINITY,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "dadapt-adam-options-groups",
        rule: Rule::DAdaptAdam(DAdaptAdamConfig {
            lr: 1.0,
            beta1: 0.8,
            beta2: 0.99,
            eps: 1e-8,
            weight_decay: 0.001,
            decouple: true,
            use_bias_correction: true,
            d0: 1e-4,
            growth_rate: 2.0,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "dadapt-sgd-momentum",
        rule: Rule::DAdaptSgd(DAdaptSgdConfig {
            lr: 1.0,
            momentum: 0.9,
            weight_decay: 0.0,
            d0: 1e-6,
            growth_rate: f64::INFINITY,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "dadapt-sgd-options-groups",
        rule: Rule::DAdaptSgd(DAdaptSgdConfig {
            lr: 1.0,
            momentum: 0.5,
            weight_decay: 0.001,
            d0: 1e-3,
            growth_rate: 1.5,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "dadapt-lion-cosine",
        rule: Rule::DAdaptLion(DAdaptLionConfig {
            lr: 1.0,
            beta1: 0.9,
            beta2: 0.99,
            weight_decay: 0.0,
            d0: 1e-2,
        }),
        groups: &[],
        schedule: Some(|total| Schedule::Cosine {
            warmup: 0,
            total,
            final_value: 0.0,
        }),
    },
    Case {
        name: "dadapt-lion-decay-groups",
        rule: Rule::DAdaptLion(DAdaptLionConfig {
            lr: 0.5,
            beta1: 0.8,
            beta2: 0.95,
            weight_decay: 0.001,
            d0: 1e-2,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "dadapt-adagrad",
        rule: Rule::DAdaptAdagrad(DAdaptAdagradConfig {
            lr: 1.0,
            momentum: 0.0,
            weight_decay: 0.0,
            eps: 1e-6,
            d0: 1e-6,
            growth_rate: f64::INFINITY,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "dadapt-adagrad-options-groups",
        rule: Rule::DAdaptAdagrad(DAdaptAdagradConfig {
            lr: 1.0,
            momentum: 0.9,
            weight_decay: 0.001,
            eps: 1e-4,
            d0: 1e-3,
            growth_rate: 2.0,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "dadapt-adan",
        rule: Rule::DAdaptAdan(DAdaptAdanConfig {
            lr: 0.5,
            beta1: 0.98,
            beta2: 0.92,
            beta3: 0.99,
            eps: 1e-8,
            weight_decay: 0.02,
            no_prox: false,
            d0: 1e-6,
            growth_rate: f64::INFINITY,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "dadapt-adan-no-prox-groups",
        rule: Rule::DAdaptAdan(DAdaptAdanConfig {
            lr: 0.3,
            beta1: 0.9,
            beta2: 0.9,
            beta3: 0.95,
            eps: 1e-8,
            weight_decay: 0.01,
            no_prox: true,
            d0: 1e-3,
            growth_rate: 2.0,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "mirror-madgrad",
        rule: Rule::MirrorMadgrad(MirrorMadgradConfig {
            lr: 0.05,
            momentum: 0.9,
            weight_decay: 0.0,
            eps: 0.0,
            decouple_decay: false,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "mirror-madgrad-decoupled-groups",
        rule: Rule::MirrorMadgrad(MirrorMadgradConfig {
            lr: 0.05,
            momentum: 0.5,
            weight_decay: 0.01,
            eps: 1e-6,
            decouple_decay: true,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "momo",
        rule: Rule::Momo(MomoConfig {
            lr: 1.0,
            weight_decay: 0.0,
            beta: 0.9,
            lb: 0.0,
            bias_correction: false,
            use_fstar: false,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "momo-bias-correction-fstar-decay-groups",
        rule: Rule::Momo(MomoConfig {
            lr: 0.5,
            weight_decay: 1e-3,
            beta: 0.8,
            lb: -1.0,
            bias_correction: true,
            use_fstar: true,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "momo-adam",
        rule: Rule::MomoAdam(MomoAdamConfig {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            lb: 0.0,
            divide: true,
            use_fstar: false,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "momo-adam-decay-no-divide-fstar-groups",
        rule: Rule::MomoAdam(MomoAdamConfig {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            weight_decay: 1e-3,
            lb: 0.0,
            divide: false,
            use_fstar: true,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        // f* = 0 is the minimum of the descent check's quadratic.
        name: "polyak",
        rule: Rule::Polyak(PolyakConfig {
            lr: 1.0,
            f_star: 0.0,
            max_lr: f64::INFINITY,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "polyak-capped-groups",
        rule: Rule::Polyak(PolyakConfig {
            lr: 0.9,
            f_star: -0.5,
            max_lr: 0.5,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        name: "ngd",
        rule: Rule::Ngd(NgdConfig { lr: 0.2 }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "shb",
        rule: Rule::Shb(ShbConfig {
            lr: 0.3,
            lr_power: 0.0,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "primal-averaging",
        rule: Rule::PrimalAveraging(PrimalAveragingConfig {
            lr: 0.3,
            momentum: 0.9,
            uniform: false,
            lr_power: 0.0,
        }),
        groups: &[],
        schedule: None,
    },
    Case {
        name: "primal-averaging-uniform-groups",
        rule: Rule::PrimalAveraging(PrimalAveragingConfig {
            lr: 0.5,
            momentum: 0.9,
            uniform: true,
            lr_power: 0.5,
        }),
        groups: &TWO_GROUPS,
        schedule: None,
    },
    Case {
        // The quadratic's curvatures lie in [0.5, 2.5].
        name: "accelerated",
        rule: Rule::Accelerated(AcceleratedConfig {
            lr: 1.0,
            l: 2.5,
            mu: 0.5,
        }),
        groups: &[],
        schedule: None,
    },
];

/// How many of [`RULE_NAMES`] the cases cover.
pub fn rules_covered() -> usize {
    let mut seen = [false; RULE_NAMES.len()];
    for case in &CASES {
        seen[case.rule.family()] = true;
    }
    seen.iter().filter(|&&s| s).count()
}
