//! `freestep-size`: the footprint firmware of `cargo xtask size`.
//!
//! Built once per rule, with `FREESTEP_SIZE_RULE=<rule>` (or `none`, the
//! empty firmware that the rules' flash is measured against), it steps that
//! one rule in f32 over caller-owned arrays. QEMU passes `<n> <steps>
//! <mode>` on the command line (`-append`):
//!
//! - mode `count`: take `steps` steps over `n` parameters, printing nothing,
//!   so that the executed instructions of runs with two `n` and two `steps`
//!   give the exact cost of one steady step per parameter;
//! - mode `stack`: paint the stack, take the steps, and print
//!   `STACK <bytes>`: how far below the caller's stack pointer the steps
//!   reached.
//!
//! The arrays are always filled for [`N_MAX`] parameters, whatever `n`, so
//! that only the steps depend on `n`.

#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
#[path = "bare/mod.rs"]
mod bare;

use freestep::{
    Accelerated, AcceleratedConfig, Adagrad, AdagradConfig, Adam, AdamConfig, DAdaptAdagrad,
    DAdaptAdagradConfig, DAdaptAdam, DAdaptAdamConfig, DAdaptAdan, DAdaptAdanConfig, DAdaptLion,
    DAdaptLionConfig, DAdaptSgd, DAdaptSgdConfig, Lion, LionConfig, Madgrad, MadgradConfig,
    MirrorMadgrad, MirrorMadgradConfig, Momo, MomoAdam, MomoAdamConfig, MomoConfig, Ngd, NgdConfig,
    Optimizer, Polyak, PolyakConfig, PrimalAveraging, PrimalAveragingConfig, Prodigy,
    ProdigyConfig, Rmsprop, RmspropConfig, ScheduleFreeAdamW, ScheduleFreeAdamWConfig,
    ScheduleFreeRAdam, ScheduleFreeRAdamConfig, ScheduleFreeSgd, ScheduleFreeSgdConfig, Sgd,
    SgdConfig, Shb, ShbConfig, UpdateRule,
};

/// The most parameters a run may ask for.
pub const N_MAX: usize = 256;

/// The rules measured, by name; `none` builds the empty firmware.
pub const RULES: [&str; 27] = [
    "none",
    "sgd",
    "sgd-momentum",
    "adam",
    "adamw",
    "adamw-amsgrad",
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

const RULE: &str = match option_env!("FREESTEP_SIZE_RULE") {
    Some(rule) => rule,
    None => "none",
};

/// The index of [`RULE`] in [`RULES`], found at compile time so that the
/// other rules' code is not in the binary.
const RULE_INDEX: usize = index_of(RULE);

const fn index_of(name: &str) -> usize {
    let mut i = 0;
    while i < RULES.len() {
        if same(RULES[i].as_bytes(), name.as_bytes()) {
            return i;
        }
        i += 1;
    }
    panic!("FREESTEP_SIZE_RULE names no rule of size.rs")
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// State for [`N_MAX`] parameters of the largest rule (D-Adaptation Adan:
/// five values per parameter).
const STATE_MAX: usize = 5 * N_MAX;

/// Steps one rule. Returns `None` when a step was refused, else the stack
/// the steps used (0 unless `measure`).
///
/// With `measure`, the stack is painted once the optimizer exists and the
/// arrays are sliced, right before the first step, and read right after the
/// last: what is reported is what the `step` calls themselves used below
/// this frame, not the optimizer object or the caller's frames.
#[inline(never)]
fn steps<R: UpdateRule>(
    rule: R,
    n: usize,
    count: usize,
    bufs: &mut Buffers,
    measure: bool,
) -> Option<usize> {
    let mut opt = Optimizer::<f32, R>::new(rule, n).ok()?;
    let len = opt.state_len();
    let params = bufs.params.get_mut(..n)?;
    let grads = bufs.grads.get(..n)?;
    let state = bufs.state.get_mut(..len)?;
    let base = stack::begin(measure);
    for _ in 0..count {
        one_step(&mut opt, params, grads, state).ok()?;
    }
    Some(stack::end(measure, base))
}

/// One `step` call in a frame of its own, below the measuring frame: what a
/// caller's `opt.step(...)` needs, whatever the compiler inlines into it.
/// The step carries a loss, which only the rules that read it (MoMo) use.
#[inline(never)]
fn one_step<R: UpdateRule>(
    opt: &mut Optimizer<f32, R>,
    params: &mut [f32],
    grads: &[f32],
    state: &mut [f32],
) -> Result<(), freestep::Error> {
    opt.step_with_loss(params, grads, 1.0, state)
}

/// Stack painting on bare metal; nothing on a host.
mod stack {
    #[cfg(target_os = "none")]
    pub fn begin(measure: bool) -> usize {
        if measure {
            crate::bare::paint_stack();
        }
        crate::bare::stack_pointer()
    }

    #[cfg(target_os = "none")]
    pub fn end(measure: bool, base: usize) -> usize {
        match measure {
            true => base.saturating_sub(crate::bare::deepest_stack()),
            false => 0,
        }
    }

    #[cfg(not(target_os = "none"))]
    pub fn begin(_: bool) -> usize {
        0
    }

    #[cfg(not(target_os = "none"))]
    pub fn end(_: bool, _: usize) -> usize {
        0
    }
}

pub struct Buffers {
    params: [f32; N_MAX],
    grads: [f32; N_MAX],
    state: [f32; STATE_MAX],
}

/// Takes `count` steps of the built-in rule; `None` when one was refused,
/// else the stack the steps used (see [`steps`]).
fn run(n: usize, count: usize, bufs: &mut Buffers, measure: bool) -> Option<usize> {
    match RULE_INDEX {
        1 => steps(Sgd::new(SgdConfig::default()), n, count, bufs, measure),
        2 => {
            let config = SgdConfig {
                momentum: 0.9,
                ..SgdConfig::default()
            };
            steps(Sgd::new(config), n, count, bufs, measure)
        }
        3 => steps(Adam::new(AdamConfig::default()), n, count, bufs, measure),
        4 => steps(Adam::new(AdamConfig::adamw()), n, count, bufs, measure),
        5 => {
            let config = AdamConfig {
                amsgrad: true,
                ..AdamConfig::adamw()
            };
            steps(Adam::new(config), n, count, bufs, measure)
        }
        6 => steps(
            ScheduleFreeSgd::new(ScheduleFreeSgdConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        7 => steps(
            ScheduleFreeAdamW::new(ScheduleFreeAdamWConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        8 => steps(
            Prodigy::new(ProdigyConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        9 => steps(
            Adagrad::new(AdagradConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        10 => steps(
            Rmsprop::new(RmspropConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        11 => steps(
            Madgrad::new(MadgradConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        12 => steps(Lion::new(LionConfig::default()), n, count, bufs, measure),
        13 => steps(
            DAdaptAdam::new(DAdaptAdamConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        14 => steps(
            DAdaptSgd::new(DAdaptSgdConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        15 => steps(
            DAdaptLion::new(DAdaptLionConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        16 => steps(
            DAdaptAdagrad::new(DAdaptAdagradConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        17 => steps(
            DAdaptAdan::new(DAdaptAdanConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        18 => steps(
            MirrorMadgrad::new(MirrorMadgradConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        19 => steps(Momo::new(MomoConfig::default()), n, count, bufs, measure),
        20 => steps(
            MomoAdam::new(MomoAdamConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        21 => steps(
            ScheduleFreeRAdam::new(ScheduleFreeRAdamConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        22 => steps(
            Polyak::new(PolyakConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        23 => steps(Ngd::new(NgdConfig::default()), n, count, bufs, measure),
        24 => steps(Shb::new(ShbConfig::default()), n, count, bufs, measure),
        25 => steps(
            PrimalAveraging::new(PrimalAveragingConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        26 => steps(
            Accelerated::new(AcceleratedConfig::default()),
            n,
            count,
            bufs,
            measure,
        ),
        _ => Some(0),
    }
}

/// Fills the arrays for [`N_MAX`] parameters: integers turned into floats,
/// the same work whatever `n`.
fn fill(bufs: &mut Buffers) {
    for (i, (p, g)) in bufs
        .params
        .iter_mut()
        .zip(bufs.grads.iter_mut())
        .enumerate()
    {
        let k = (i % 17) as f32;
        *p = 0.25 * k - 2.0;
        *g = 0.125 * k - 1.0;
    }
}

/// Reads `<n> <steps> <mode>`.
#[cfg(not(target_os = "none"))]
fn parse(line: &str) -> Option<(usize, usize, &str)> {
    let mut words = line.split_ascii_whitespace();
    parse_words(words.next()?, words.next()?, words.next()?)
}

fn parse_words<'a>(n: &str, count: &str, mode: &'a str) -> Option<(usize, usize, &'a str)> {
    let n = n.parse().ok()?;
    let count = count.parse().ok()?;
    (n <= N_MAX && (mode == "count" || mode == "stack")).then_some((n, count, mode))
}

#[cfg(target_os = "none")]
pub fn entry(console: &mut bare::Console) -> bool {
    use core::fmt::Write;
    // Room for the kernel's path, which comes first.
    let mut line = [0u8; 512];
    // QEMU passes the kernel's path, then the `-append` string: the run's
    // three words are the last three (the path may hold spaces).
    let cmdline = bare::command_line(&mut line);
    let Some((n, count, mode)) = parse_last_three(cmdline) else {
        let _ = writeln!(
            console,
            "usage: -append \"<n> <steps> count|stack\" (got `{cmdline}`)"
        );
        return false;
    };
    // The buffers live in this frame, above everything the steps use.
    let mut bufs = Buffers {
        params: [0.0; N_MAX],
        grads: [0.0; N_MAX],
        state: [0.0; STATE_MAX],
    };
    fill(&mut bufs);
    let measure = mode == "stack";
    let Some(used) = run(n, count, &mut bufs, measure) else {
        return false;
    };
    if measure {
        let _ = writeln!(console, "STACK {used}");
    }
    true
}

/// The last three words of `line`, read as `<n> <steps> <mode>`.
#[cfg(target_os = "none")]
fn parse_last_three(line: &str) -> Option<(usize, usize, &str)> {
    let mut words = line.rsplitn(4, ' ');
    let mode = words.next()?;
    let count = words.next()?;
    let n = words.next()?;
    let (n, count, _) = parse_words(n, count, mode)?;
    Some((n, count, mode))
}

/// On a host the firmware's command line is the process's.
#[cfg(not(target_os = "none"))]
fn main() -> std::process::ExitCode {
    let line: Vec<String> = std::env::args().skip(1).collect();
    let Some((n, count, _)) = parse(&line.join(" ")) else {
        eprintln!("usage: freestep-size <n> <steps> count|stack");
        return std::process::ExitCode::FAILURE;
    };
    let mut bufs = Box::new(Buffers {
        params: [0.0; N_MAX],
        grads: [0.0; N_MAX],
        state: [0.0; STATE_MAX],
    });
    fill(&mut bufs);
    match run(n, count, &mut bufs, false) {
        Some(_) => std::process::ExitCode::SUCCESS,
        None => std::process::ExitCode::FAILURE,
    }
}
