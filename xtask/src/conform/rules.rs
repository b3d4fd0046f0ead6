//! From a fixture's official hyperparameters to a freestep rule.
//!
//! `hyperparameters` holds only the keyword arguments that were passed, with
//! the official names; `param_group_after_init` holds every resolved value
//! plus the optimizer's internal counters. A value is taken from the group
//! when it is there (and must then agree with the keyword argument), else
//! from the keyword argument, else from the official default.
//!
//! Nothing is silently ignored: a keyword argument that the official
//! constructor does not have, or a group key that is neither a resolved
//! argument nor a known counter, fails the fixture. The counters must hold
//! their initial values, since the replay starts from a fresh optimizer.

use std::collections::BTreeSet;

use freestep::mechanic::MAX_BETAS;
use freestep::{
    AdagradConfig, AdamConfig, DAdaptAdagradConfig, DAdaptAdamConfig, DAdaptAdanConfig,
    DAdaptLionConfig, DAdaptSgdConfig, MadgradConfig, MechanicConfig, MirrorMadgradConfig,
    MomoAdamConfig, MomoConfig, ProdigyConfig, RmspropConfig, ScheduleFreeAdamWConfig,
    ScheduleFreeRAdamConfig, ScheduleFreeSgdConfig, SgdConfig,
};
use serde_json::Value;

use super::fixture::Fixture;
use super::json::{self, Object};

/// A freestep rule with its configuration.
#[derive(Clone, Copy, Debug)]
pub enum Rule {
    /// `torch.optim.SGD`.
    Sgd(SgdConfig),
    /// `torch.optim.Adam` and `torch.optim.AdamW`.
    Adam(AdamConfig),
    /// `schedulefree.SGDScheduleFree`.
    ScheduleFreeSgd(ScheduleFreeSgdConfig),
    /// `schedulefree.AdamWScheduleFree`.
    ScheduleFreeAdamW(ScheduleFreeAdamWConfig),
    /// `schedulefree.RAdamScheduleFree`.
    ScheduleFreeRAdam(ScheduleFreeRAdamConfig),
    /// `prodigyopt.Prodigy`.
    Prodigy(ProdigyConfig),
    /// `torch.optim.Adagrad`.
    Adagrad(AdagradConfig),
    /// `torch.optim.RMSprop`.
    Rmsprop(RmspropConfig),
    /// `madgrad.MADGRAD`.
    Madgrad(MadgradConfig),
    /// `madgrad.MirrorMADGRAD`.
    MirrorMadgrad(MirrorMadgradConfig),
    /// `dadaptation.DAdaptAdam`.
    DAdaptAdam(DAdaptAdamConfig),
    /// `dadaptation.DAdaptSGD`.
    DAdaptSgd(DAdaptSgdConfig),
    /// `dadaptation.DAdaptLion`.
    DAdaptLion(DAdaptLionConfig),
    /// `dadaptation.DAdaptAdaGrad`.
    DAdaptAdagrad(DAdaptAdagradConfig),
    /// `dadaptation.DAdaptAdan`.
    DAdaptAdan(DAdaptAdanConfig),
    /// `momo.Momo`.
    Momo(MomoConfig),
    /// `momo.MomoAdam`.
    MomoAdam(MomoAdamConfig),
    /// `mechanic_pytorch.mechanize(Base)`: the tuner and its base rule.
    Mechanic(MechanicConfig, MechanicBase),
}

/// The base optimizers a Mechanic fixture may wrap.
#[derive(Clone, Copy, Debug)]
pub enum MechanicBase {
    /// `torch.optim.SGD`.
    Sgd(SgdConfig),
    /// `torch.optim.Adam` and `torch.optim.AdamW`.
    Adam(AdamConfig),
    /// `torch.optim.Adagrad`.
    Adagrad(AdagradConfig),
    /// `torch.optim.RMSprop`.
    Rmsprop(RmspropConfig),
}

/// Mechanic's scalars: the scale, its per-beta parts `s[j]`, the count.
pub const MECHANIC_SCALARS: [&str; 2 + MAX_BETAS] = [
    "s_sum",
    "iter_count",
    "s[0]",
    "s[1]",
    "s[2]",
    "s[3]",
    "s[4]",
    "s[5]",
    "s[6]",
    "s[7]",
];

impl Rule {
    /// True for the Schedule-Free rules, which have eval weights.
    pub fn is_schedule_free(&self) -> bool {
        matches!(
            self,
            Rule::ScheduleFreeSgd(_) | Rule::ScheduleFreeAdamW(_) | Rule::ScheduleFreeRAdam(_)
        )
    }

    /// The scalar names the rule reports, as in `expected.scalars`.
    pub fn scalar_names(&self) -> &'static [&'static str] {
        match self {
            Rule::Sgd(_) | Rule::Adam(_) | Rule::Adagrad(_) | Rule::Rmsprop(_) => &[],
            Rule::Madgrad(_) | Rule::MirrorMadgrad(_) => &["k"],
            Rule::DAdaptAdam(_) | Rule::DAdaptLion(_) => &["d", "k", "numerator_weighted"],
            Rule::DAdaptSgd(_) => &["d", "k", "numerator_weighted", "g0_norm"],
            Rule::DAdaptAdagrad(_) => &["d", "k", "gsq_weighted", "sksq_weighted", "skl1"],
            Rule::DAdaptAdan(_) => &["d", "k", "gsq_weighted"],
            Rule::ScheduleFreeSgd(_) | Rule::ScheduleFreeAdamW(_) | Rule::ScheduleFreeRAdam(_) => {
                &["k", "scheduled_lr", "lr_max", "weight_sum"]
            }
            Rule::Prodigy(_) => &["d", "d_hat", "d_max", "d_numerator", "d_denom", "k"],
            Rule::Momo(_) | Rule::MomoAdam(_) => &["lb", "loss_avg", "number_steps"],
            Rule::Mechanic(..) => &MECHANIC_SCALARS,
        }
    }
}

/// Keys that change how the reference computes, never what: accepted for
/// every rule. Prodigy's `fsdp_in_use` is read with its arguments and must be
/// false, since it changes the early return and needs a process group.
const MATH_FREE: [&str; 4] = ["foreach", "fused", "capturable", "differentiable"];

/// The fixture's rule, or why it cannot be built.
pub fn resolve(fixture: &Fixture) -> Result<Rule, String> {
    let mut r = Resolver::new(&fixture.hyperparameters, &fixture.param_group);
    r.math_free()?;
    if fixture.optimizer.starts_with("mechanic-") {
        let rule = mechanic(&mut r, fixture)?;
        r.finish(&fixture.optimizer)?;
        return Ok(rule);
    }
    let rule = match fixture.optimizer.as_str() {
        "torch-sgd" => Rule::Sgd(sgd(&mut r)?),
        "torch-adam" => Rule::Adam(adam(&mut r, AdamConfig::default(), true)?),
        "torch-adamw" => Rule::Adam(adam(&mut r, AdamConfig::adamw(), false)?),
        "sgd-schedulefree" => Rule::ScheduleFreeSgd(schedule_free_sgd(&mut r)?),
        "adamw-schedulefree" => Rule::ScheduleFreeAdamW(schedule_free_adamw(&mut r)?),
        "radam-schedulefree" => Rule::ScheduleFreeRAdam(schedule_free_radam(&mut r)?),
        "prodigy" => Rule::Prodigy(prodigy(&mut r)?),
        "torch-adagrad" => Rule::Adagrad(adagrad(&mut r)?),
        "torch-rmsprop" => Rule::Rmsprop(rmsprop(&mut r)?),
        "madgrad" => Rule::Madgrad(madgrad(&mut r)?),
        "mirror-madgrad" => Rule::MirrorMadgrad(mirror_madgrad(&mut r)?),
        "dadapt-adam" => Rule::DAdaptAdam(dadapt_adam(&mut r)?),
        "dadapt-sgd" => Rule::DAdaptSgd(dadapt_sgd(&mut r)?),
        "dadapt-lion" => Rule::DAdaptLion(dadapt_lion(&mut r)?),
        "dadapt-adagrad" => Rule::DAdaptAdagrad(dadapt_adagrad(&mut r)?),
        "dadapt-adan" => Rule::DAdaptAdan(dadapt_adan(&mut r)?),
        "momo" => Rule::Momo(momo(&mut r)?),
        "momo-adam" => Rule::MomoAdam(momo_adam(&mut r)?),
        other => return Err(format!("no rule for optimizer `{other}`")),
    };
    r.finish(&fixture.optimizer)?;
    Ok(rule)
}

fn sgd(r: &mut Resolver) -> Result<SgdConfig, String> {
    let d = SgdConfig::default();
    Ok(SgdConfig {
        lr: r.float("lr", d.lr)?,
        momentum: r.float("momentum", d.momentum)?,
        dampening: r.float("dampening", d.dampening)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        nesterov: r.flag("nesterov", d.nesterov)?,
        maximize: r.flag("maximize", d.maximize)?,
    })
}

fn adagrad(r: &mut Resolver) -> Result<AdagradConfig, String> {
    let d = AdagradConfig::default();
    Ok(AdagradConfig {
        lr: r.float("lr", d.lr)?,
        lr_decay: r.float("lr_decay", d.lr_decay)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        initial_accumulator_value: r
            .float("initial_accumulator_value", d.initial_accumulator_value)?,
        eps: r.float("eps", d.eps)?,
        maximize: r.flag("maximize", d.maximize)?,
    })
}

fn rmsprop(r: &mut Resolver) -> Result<RmspropConfig, String> {
    let d = RmspropConfig::default();
    Ok(RmspropConfig {
        lr: r.float("lr", d.lr)?,
        alpha: r.float("alpha", d.alpha)?,
        eps: r.float("eps", d.eps)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        momentum: r.float("momentum", d.momentum)?,
        centered: r.flag("centered", d.centered)?,
        maximize: r.flag("maximize", d.maximize)?,
    })
}

fn mirror_madgrad(r: &mut Resolver) -> Result<MirrorMadgradConfig, String> {
    let d = MirrorMadgradConfig::default();
    Ok(MirrorMadgradConfig {
        lr: r.float("lr", d.lr)?,
        momentum: r.float("momentum", d.momentum)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        eps: r.float("eps", d.eps)?,
        decouple_decay: r.flag("decouple_decay", d.decouple_decay)?,
    })
}

fn madgrad(r: &mut Resolver) -> Result<MadgradConfig, String> {
    let d = MadgradConfig::default();
    Ok(MadgradConfig {
        lr: r.float("lr", d.lr)?,
        momentum: r.float("momentum", d.momentum)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        eps: r.float("eps", d.eps)?,
        decouple_decay: r.flag("decouple_decay", d.decouple_decay)?,
    })
}

/// Adam and AdamW. `decoupled_weight_decay` is a constructor argument of
/// `Adam` only; `AdamW` fixes it to true but still lists it in its group.
fn adam(
    r: &mut Resolver,
    d: AdamConfig,
    decoupling_is_argument: bool,
) -> Result<AdamConfig, String> {
    let (beta1, beta2) = r.betas((d.beta1, d.beta2))?;
    let decoupled = match decoupling_is_argument {
        true => r.flag("decoupled_weight_decay", d.decoupled_weight_decay)?,
        false => r.group_flag("decoupled_weight_decay", d.decoupled_weight_decay)?,
    };
    Ok(AdamConfig {
        lr: r.float("lr", d.lr)?,
        beta1,
        beta2,
        eps: r.float("eps", d.eps)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        amsgrad: r.flag("amsgrad", d.amsgrad)?,
        maximize: r.flag("maximize", d.maximize)?,
        decoupled_weight_decay: decoupled,
    })
}

/// The counters both Schedule-Free optimizers keep in their group, with the
/// values a fresh optimizer has (the reference starts in eval mode and is put
/// in train mode before the first step, see the protocol check).
fn schedule_free_counters(r: &mut Resolver) -> Result<(), String> {
    for (key, start) in [
        ("k", 0.0),
        ("weight_sum", 0.0),
        ("lr_max", -1.0),
        ("scheduled_lr", 0.0),
    ] {
        r.counter(key, start)?;
    }
    if r.group_flag("train_mode", false)? {
        return Err("param_group_after_init.train_mode is true right after construction".into());
    }
    Ok(())
}

fn schedule_free_sgd(r: &mut Resolver) -> Result<ScheduleFreeSgdConfig, String> {
    let d = ScheduleFreeSgdConfig::default();
    schedule_free_counters(r)?;
    Ok(ScheduleFreeSgdConfig {
        lr: r.float("lr", d.lr)?,
        momentum: r.float("momentum", d.momentum)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        warmup_steps: r.steps("warmup_steps", d.warmup_steps)?,
        r: r.float("r", d.r)?,
        weight_lr_power: r.float("weight_lr_power", d.weight_lr_power)?,
    })
}

fn schedule_free_adamw(r: &mut Resolver) -> Result<ScheduleFreeAdamWConfig, String> {
    let d = ScheduleFreeAdamWConfig::default();
    schedule_free_counters(r)?;
    let (beta1, beta2) = r.betas((d.beta1, d.beta2))?;
    Ok(ScheduleFreeAdamWConfig {
        lr: r.float("lr", d.lr)?,
        beta1,
        beta2,
        eps: r.float("eps", d.eps)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        warmup_steps: r.steps("warmup_steps", d.warmup_steps)?,
        r: r.float("r", d.r)?,
        weight_lr_power: r.float("weight_lr_power", d.weight_lr_power)?,
    })
}

fn schedule_free_radam(r: &mut Resolver) -> Result<ScheduleFreeRAdamConfig, String> {
    let d = ScheduleFreeRAdamConfig::default();
    schedule_free_counters(r)?;
    let (beta1, beta2) = r.betas((d.beta1, d.beta2))?;
    Ok(ScheduleFreeRAdamConfig {
        lr: r.float("lr", d.lr)?,
        beta1,
        beta2,
        eps: r.float("eps", d.eps)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        r: r.float("r", d.r)?,
        weight_lr_power: r.float("weight_lr_power", d.weight_lr_power)?,
        silent_sgd_phase: r.flag("silent_sgd_phase", d.silent_sgd_phase)?,
    })
}

fn prodigy(r: &mut Resolver) -> Result<ProdigyConfig, String> {
    let d = ProdigyConfig::default();
    let (beta1, beta2) = r.betas((d.beta1, d.beta2))?;
    let config = ProdigyConfig {
        lr: r.float("lr", d.lr)?,
        beta1,
        beta2,
        beta3: r.optional_float("beta3")?,
        eps: r.float("eps", d.eps)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        decouple: r.flag("decouple", d.decouple)?,
        use_bias_correction: r.flag("use_bias_correction", d.use_bias_correction)?,
        safeguard_warmup: r.flag("safeguard_warmup", d.safeguard_warmup)?,
        d0: r.float("d0", d.d0)?,
        d_coef: r.float("d_coef", d.d_coef)?,
        growth_rate: r.float("growth_rate", d.growth_rate)?,
        slice_p: r.count("slice_p", d.slice_p)?,
    };
    not_sharded(r)?;
    for key in ["d", "d_max"] {
        r.counter(key, config.d0)?;
    }
    r.counter("d_numerator", 0.0)?;
    r.counter("k", 0.0)?;
    Ok(config)
}

/// Refuses a fixture of a sharded run (`fsdp_in_use`), which needs a
/// process group to replay.
fn not_sharded(r: &mut Resolver) -> Result<(), String> {
    match r.flag("fsdp_in_use", false)? {
        true => Err("fsdp_in_use = true: sharded runs are not replayed".into()),
        false => Ok(()),
    }
}

/// The group keys every D-Adaptation rule keeps: `log_every` (logging only,
/// read and ignored), `d` at `d0`, `k` at 0, and the rule's running sums at 0.
fn d_adaptation_counters(r: &mut Resolver, d0: f64, sums: &[&str]) -> Result<(), String> {
    r.float("log_every", 0.0)?;
    r.counter("d", d0)?;
    r.counter("k", 0.0)?;
    for key in sums {
        r.counter(key, 0.0)?;
    }
    Ok(())
}

fn dadapt_adam(r: &mut Resolver) -> Result<DAdaptAdamConfig, String> {
    let d = DAdaptAdamConfig::default();
    let (beta1, beta2) = r.betas((d.beta1, d.beta2))?;
    let config = DAdaptAdamConfig {
        lr: r.float("lr", d.lr)?,
        beta1,
        beta2,
        eps: r.float("eps", d.eps)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        decouple: r.flag("decouple", d.decouple)?,
        use_bias_correction: r.flag("use_bias_correction", d.use_bias_correction)?,
        d0: r.float("d0", d.d0)?,
        growth_rate: r.float("growth_rate", d.growth_rate)?,
    };
    not_sharded(r)?;
    d_adaptation_counters(r, config.d0, &["numerator_weighted"])?;
    r.counter("layer_scale", 1.0)?;
    Ok(config)
}

/// A Mechanic fixture: the base optimizer from `hyperparameters` and the
/// group, the tuner from `mechanize_kwargs`.
fn mechanic(r: &mut Resolver, fixture: &Fixture) -> Result<Rule, String> {
    let Some((class, kwargs)) = &fixture.mechanic else {
        return Err("a Mechanic fixture needs `base_optimizer`".into());
    };
    let base = match class.as_str() {
        "torch.optim.SGD" => MechanicBase::Sgd(sgd(r)?),
        "torch.optim.Adam" => MechanicBase::Adam(adam(r, AdamConfig::default(), true)?),
        "torch.optim.AdamW" => MechanicBase::Adam(adam(r, AdamConfig::adamw(), false)?),
        "torch.optim.Adagrad" => MechanicBase::Adagrad(adagrad(r)?),
        "torch.optim.RMSprop" => MechanicBase::Rmsprop(rmsprop(r)?),
        other => return Err(format!("Mechanic over `{other}` is not replayed")),
    };
    let empty = Object::new();
    let mut m = Resolver::new(kwargs, &empty);
    let d = MechanicConfig::default();
    let (betas, n_betas) = m.float_list("betas", d.betas.get(..d.n_betas).unwrap_or(&[]))?;
    let config = MechanicConfig {
        s_decay: m.float("s_decay", d.s_decay)?,
        betas,
        n_betas,
        s_init: m.float("s_init", d.s_init)?,
        eps: m.float("eps", d.eps)?,
        store_delta: m.flag("store_delta", d.store_delta)?,
    };
    // Only logs in the reference.
    m.count("log_every", 0)?;
    m.finish("mechanize")?;
    Ok(Rule::Mechanic(config, base))
}

/// MoMo's constructor keeps `beta`, `lb`, `bias_correction` and
/// `use_fstar` on the optimizer, not in the group.
fn momo(r: &mut Resolver) -> Result<MomoConfig, String> {
    let d = MomoConfig::default();
    Ok(MomoConfig {
        lr: r.float("lr", d.lr)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        beta: r.float("beta", d.beta)?,
        lb: r.float("lb", d.lb)?,
        bias_correction: r.flag("bias_correction", d.bias_correction)?,
        use_fstar: r.flag("use_fstar", d.use_fstar)?,
    })
}

fn momo_adam(r: &mut Resolver) -> Result<MomoAdamConfig, String> {
    let d = MomoAdamConfig::default();
    let (beta1, beta2) = r.betas((d.beta1, d.beta2))?;
    Ok(MomoAdamConfig {
        lr: r.float("lr", d.lr)?,
        beta1,
        beta2,
        eps: r.float("eps", d.eps)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        lb: r.float("lb", d.lb)?,
        divide: r.flag("divide", d.divide)?,
        use_fstar: r.flag("use_fstar", d.use_fstar)?,
    })
}

fn dadapt_sgd(r: &mut Resolver) -> Result<DAdaptSgdConfig, String> {
    let d = DAdaptSgdConfig::default();
    let config = DAdaptSgdConfig {
        lr: r.float("lr", d.lr)?,
        momentum: r.float("momentum", d.momentum)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        d0: r.float("d0", d.d0)?,
        growth_rate: r.float("growth_rate", d.growth_rate)?,
    };
    not_sharded(r)?;
    d_adaptation_counters(r, config.d0, &["numerator_weighted"])?;
    Ok(config)
}

fn dadapt_lion(r: &mut Resolver) -> Result<DAdaptLionConfig, String> {
    let d = DAdaptLionConfig::default();
    let (beta1, beta2) = r.betas((d.beta1, d.beta2))?;
    let config = DAdaptLionConfig {
        lr: r.float("lr", d.lr)?,
        beta1,
        beta2,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        d0: r.float("d0", d.d0)?,
    };
    not_sharded(r)?;
    d_adaptation_counters(r, config.d0, &["numerator_weighted"])?;
    Ok(config)
}

fn dadapt_adagrad(r: &mut Resolver) -> Result<DAdaptAdagradConfig, String> {
    let d = DAdaptAdagradConfig::default();
    let config = DAdaptAdagradConfig {
        lr: r.float("lr", d.lr)?,
        momentum: r.float("momentum", d.momentum)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        eps: r.float("eps", d.eps)?,
        d0: r.float("d0", d.d0)?,
        growth_rate: r.float("growth_rate", d.growth_rate)?,
    };
    d_adaptation_counters(r, config.d0, &["gsq_weighted", "sksq_weighted", "skl1"])?;
    Ok(config)
}

fn dadapt_adan(r: &mut Resolver) -> Result<DAdaptAdanConfig, String> {
    let d = DAdaptAdanConfig::default();
    let [beta1, beta2, beta3] = r.three_betas([d.beta1, d.beta2, d.beta3])?;
    let config = DAdaptAdanConfig {
        lr: r.float("lr", d.lr)?,
        beta1,
        beta2,
        beta3,
        eps: r.float("eps", d.eps)?,
        weight_decay: r.float("weight_decay", d.weight_decay)?,
        no_prox: r.flag("no_prox", d.no_prox)?,
        d0: r.float("d0", d.d0)?,
        growth_rate: r.float("growth_rate", d.growth_rate)?,
    };
    d_adaptation_counters(r, config.d0, &["gsq_weighted"])?;
    Ok(config)
}

/// Looks values up in the keyword arguments and the group, and remembers
/// which keys were used so that [`Resolver::finish`] can refuse the rest.
struct Resolver<'a> {
    given: &'a Object,
    group: &'a Object,
    /// Keys that are constructor arguments of the rule.
    arguments: BTreeSet<String>,
    /// Keys of the group that were read.
    read: BTreeSet<String>,
}

impl<'a> Resolver<'a> {
    fn new(given: &'a Object, group: &'a Object) -> Self {
        Self {
            given,
            group,
            arguments: BTreeSet::new(),
            read: BTreeSet::new(),
        }
    }

    /// The resolved value of constructor argument `key`, if any.
    fn value(&mut self, key: &str) -> Result<Option<&'a Value>, String> {
        self.arguments.insert(key.to_string());
        self.read.insert(key.to_string());
        match (self.given.get(key), self.group.get(key)) {
            (Some(g), Some(v)) if !json::same(g, v) => Err(format!(
                "hyperparameters.{key} = {g} disagrees with param_group_after_init.{key} = {v}"
            )),
            (_, Some(v)) => Ok(Some(v)),
            (given, None) => Ok(given),
        }
    }

    /// A group key that is not a constructor argument.
    fn group_value(&mut self, key: &str) -> Option<&'a Value> {
        self.read.insert(key.to_string());
        self.group.get(key)
    }

    fn float(&mut self, key: &str, default: f64) -> Result<f64, String> {
        match self.value(key)? {
            Some(v) => json::number(v, key),
            None => Ok(default),
        }
    }

    /// A float that may be null (Prodigy's `beta3`: null means √β2).
    fn optional_float(&mut self, key: &str) -> Result<Option<f64>, String> {
        match self.value(key)? {
            Some(v) if !v.is_null() => json::number(v, key).map(Some),
            _ => Ok(None),
        }
    }

    fn flag(&mut self, key: &str, default: bool) -> Result<bool, String> {
        match self.value(key)? {
            Some(v) => json::boolean(v, key),
            None => Ok(default),
        }
    }

    fn group_flag(&mut self, key: &str, default: bool) -> Result<bool, String> {
        match self.group_value(key) {
            Some(v) => json::boolean(v, &format!("param_group_after_init.{key}")),
            None => Ok(default),
        }
    }

    fn count(&mut self, key: &str, default: usize) -> Result<usize, String> {
        match self.value(key)? {
            Some(v) => json::count(v, key),
            None => Ok(default),
        }
    }

    fn steps(&mut self, key: &str, default: u64) -> Result<u64, String> {
        match self.value(key)? {
            Some(v) => Ok(json::count(v, key)? as u64),
            None => Ok(default),
        }
    }

    /// A list of up to [`MAX_BETAS`] numbers, in a fixed array.
    fn float_list(
        &mut self,
        key: &str,
        default: &[f64],
    ) -> Result<([f64; MAX_BETAS], usize), String> {
        let mut out = [0.0; MAX_BETAS];
        let values: Vec<f64> = match self.value(key)? {
            Some(v) => json::array(v, key)?
                .iter()
                .enumerate()
                .map(|(i, x)| json::number(x, &format!("{key}[{i}]")))
                .collect::<Result<_, _>>()?,
            None => default.to_vec(),
        };
        if values.is_empty() || values.len() > MAX_BETAS {
            return Err(format!(
                "`{key}` has {} values; 1 to {MAX_BETAS} are supported",
                values.len()
            ));
        }
        out.iter_mut().zip(&values).for_each(|(o, v)| *o = *v);
        Ok((out, values.len()))
    }

    /// `betas`, a list `[β1, β2]`.
    fn betas(&mut self, default: (f64, f64)) -> Result<(f64, f64), String> {
        let Some(v) = self.value("betas")? else {
            return Ok(default);
        };
        match json::array(v, "betas")? {
            [b1, b2] => Ok((json::number(b1, "betas[0]")?, json::number(b2, "betas[1]")?)),
            other => Err(format!("`betas` has {} values, expected 2", other.len())),
        }
    }

    /// Adan's three betas.
    fn three_betas(&mut self, default: [f64; 3]) -> Result<[f64; 3], String> {
        let Some(v) = self.value("betas")? else {
            return Ok(default);
        };
        match json::array(v, "betas")? {
            [b1, b2, b3] => Ok([
                json::number(b1, "betas[0]")?,
                json::number(b2, "betas[1]")?,
                json::number(b3, "betas[2]")?,
            ]),
            other => Err(format!("`betas` has {} values, expected 3", other.len())),
        }
    }

    /// A counter of the group, which must hold its initial value.
    fn counter(&mut self, key: &str, start: f64) -> Result<(), String> {
        let Some(v) = self.group_value(key) else {
            return Ok(());
        };
        let what = format!("param_group_after_init.{key}");
        let value = json::number(v, &what)?;
        match value == start {
            true => Ok(()),
            false => Err(format!(
                "{what} is {value}, not {start}: the replay starts from a fresh optimizer"
            )),
        }
    }

    /// Accepts the math-free keys, checking only their types.
    fn math_free(&mut self) -> Result<(), String> {
        for key in MATH_FREE {
            if let Some(v) = self.value(key)? {
                if !v.is_null() {
                    json::boolean(v, key)?;
                }
            }
        }
        Ok(())
    }

    /// Refuses every key that no lookup used.
    fn finish(self, optimizer: &str) -> Result<(), String> {
        if let Some(key) = self.given.keys().find(|k| !self.arguments.contains(*k)) {
            return Err(format!("unknown hyperparameter `{key}` for {optimizer}"));
        }
        if let Some(key) = self.group.keys().find(|k| !self.read.contains(*k)) {
            return Err(format!(
                "unknown key `{key}` in param_group_after_init for {optimizer}"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conform::fixture::{Expected, Problem};
    use serde_json::json;

    fn fixture(optimizer: &str, given: Value, group: Value) -> Fixture {
        let object = |v: Value| v.as_object().cloned().unwrap_or_default();
        Fixture {
            optimizer: optimizer.to_string(),
            hyperparameters: object(given),
            param_group: object(group),
            tensors: vec![1],
            x0: vec![0.0],
            problem: Problem::OpenLoop(Vec::new()),
            losses: None,
            mechanic: None,
            expected: Expected {
                params: Vec::new(),
                eval_params: None,
                scalars: None,
            },
            eval_train_each_step: false,
            train_before_first_step: true,
        }
    }

    #[test]
    fn resolved_values_come_from_the_group() {
        let group = json!({"lr": 1.0, "betas": [0.0, 0.99], "beta3": null,
                           "growth_rate": "inf", "d": 1e-6, "d0": 1e-6, "k": 0});
        let rule = resolve(&fixture("prodigy", json!({"betas": [0, 0.99]}), group));
        let Ok(Rule::Prodigy(c)) = rule else {
            panic!("{rule:?}");
        };
        assert_eq!((c.beta1, c.beta2, c.beta3), (0.0, 0.99, None));
        assert!(c.growth_rate.is_infinite() && c.decouple);
    }

    #[test]
    fn unknown_keys_fail() {
        let rule = resolve(&fixture(
            "torch-sgd",
            json!({"lr": 0.1, "foo": 1}),
            json!({}),
        ));
        assert_eq!(
            rule.err().as_deref(),
            Some("unknown hyperparameter `foo` for torch-sgd")
        );
        let group = json!({"decoupled_weight_decay": true});
        let adamw = resolve(&fixture("torch-adamw", json!({}), group.clone()));
        assert!(matches!(adamw, Ok(Rule::Adam(c)) if c.decoupled_weight_decay));
        // AdamW fixes decoupling; its constructor has no such argument.
        let passed = resolve(&fixture("torch-adamw", group.clone(), group));
        assert!(passed.is_err_and(|e| e.contains("unknown hyperparameter")));
        let stray = resolve(&fixture("torch-adam", json!({}), json!({"k": 0})));
        assert!(stray.is_err_and(|e| e.contains("param_group_after_init")));
    }

    #[test]
    fn arguments_and_group_must_agree() {
        let rule = resolve(&fixture(
            "torch-sgd",
            json!({"lr": 0.1}),
            json!({"lr": 0.2}),
        ));
        assert!(rule.is_err_and(|e| e.contains("disagrees")));
        let sf = fixture("sgd-schedulefree", json!({}), json!({"k": 3}));
        assert!(resolve(&sf).is_err_and(|e| e.contains("fresh optimizer")));
    }

    #[test]
    fn math_free_keys_are_accepted_but_typed() {
        let given = json!({"foreach": null, "fused": true, "differentiable": false});
        assert!(resolve(&fixture("torch-adam", given, json!({}))).is_ok());
        let wrong = json!({"foreach": "yes"});
        assert!(resolve(&fixture("torch-adam", wrong, json!({}))).is_err());
        let fsdp = json!({"fsdp_in_use": true});
        assert!(resolve(&fixture("prodigy", fsdp, json!({}))).is_err());
    }
}
