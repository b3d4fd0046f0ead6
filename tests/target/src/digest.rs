//! The trajectory digest: every case's f32 trajectory on the fixed problem,
//! reduced to one FNV-1a hash of all its bits (train parameters and, for
//! Schedule-Free, eval weights, after every step). Three more `CASE` lines
//! hash what the library computes outside a step: the geometric-mean
//! initialiser's weights and the refined and factorial-power schedules, from
//! fixed inputs (libm's `exp` and `lgamma` included).
//!
//! Two targets print the same `DIGEST` only if every rule computes every
//! bit the same way on both: no fused multiply-add on one and not the other,
//! reductions in one fixed order, correctly rounded square roots.

use core::fmt::Write;

use freestep::init::{geometric_uniform, SplitMix64};
use freestep::schedule::{factorial, refined};
use freestep::{Error, Optimizer, Schedule, TILE};

use crate::cases::{self, Case, Job, Weights, CASES};
use crate::problem::{Fnv, Problem, N, STEPS};
use crate::report::{Failure, Report};

/// State capacity: five values per parameter (D-Adaptation Adan, the
/// largest) plus a few sampled values more, which slices rounded up per
/// group can need.
pub const STATE_CAP: usize = 5 * N + 2 * freestep::MAX_GROUPS;

/// The seed of the fixed problem, and the weight of its nonlinear term.
pub const SEED: u64 = 0x5eed_f00d;
pub const NONLINEAR: f32 = 0.5;

/// How a trajectory's steps are taken.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `Optimizer::step`.
    OneCall,
    /// Partial sums over `0..256` and `256..N`, combined in the other order,
    /// then the two updates, last range first.
    Phased,
}

/// Called after every step with the train parameters and the eval weights.
pub trait Observer {
    fn step(&mut self, step: usize, params: &[f32], eval: Option<&[f32]>);
}

/// Hashes what it observes, and notes the first step with a value that is
/// not finite: the fixed problem keeps every rule finite, and NaN bits
/// differ between targets (x86's default NaN is not Arm's), so a
/// non-finite trajectory is a failure, not a digest.
pub struct Hasher(pub Fnv, pub Option<usize>);

impl Hasher {
    pub const fn new() -> Self {
        Self(Fnv::new(), None)
    }
}

impl Observer for Hasher {
    fn step(&mut self, step: usize, params: &[f32], eval: Option<&[f32]>) {
        let eval = eval.unwrap_or(&[]);
        self.0.f32s(params);
        self.0.f32s(eval);
        let finite = params.iter().chain(eval).all(|x| x.is_finite());
        if !finite && self.1.is_none() {
            self.1 = Some(step);
        }
    }
}

/// Runs one case's trajectory in `mode`, showing each step to `observer`.
pub fn trajectory<O: Observer>(case: &Case, mode: Mode, observer: &mut O) -> Result<(), Error> {
    case.rule.with(Trajectory {
        case,
        mode,
        observer,
    })
}

struct Trajectory<'a, O> {
    case: &'a Case,
    mode: Mode,
    observer: &'a mut O,
}

impl<O: Observer> Job for Trajectory<'_, O> {
    type Output = Result<(), Error>;

    // Not inlined into `Rule::with`, whose arms would otherwise each keep
    // their own arrays in one frame: too much stack for a Cortex-M0.
    #[inline(never)]
    fn run<R: Weights>(self, rule: R) -> Self::Output {
        let problem = Problem::new(SEED, NONLINEAR);
        let mut opt = Optimizer::<f32, R>::with_groups(rule, N, self.case.groups)?;
        let mut params = [0.0f32; N];
        problem.start(&mut params);
        // The gradient buffer also receives the eval weights once the step
        // has used it: one array less on a 16 KiB core.
        let mut grads = [0.0f32; N];
        let mut buffer = [0.0f32; STATE_CAP];
        let len = opt.state_len();
        let state = buffer.get_mut(..len).ok_or(Error::StateLength)?;
        let base = opt.rule().lr();
        for step in 0..STEPS {
            self.case.apply_schedule(&mut opt, base, step, STEPS)?;
            problem.gradient(step, &params, &mut grads);
            // The loss for the rules that read one (others ignore it): the
            // quadratic part; these checks compare bits, not descent.
            let loss = problem.quadratic_value(&params);
            match self.mode {
                Mode::OneCall => opt.step_with_loss(&mut params, &grads, loss, state)?,
                Mode::Phased => phased_step(&mut opt, (&mut params, &grads, loss), state)?,
            }
            let has_eval = R::eval_weights(&opt, &params, state, &mut grads)?;
            self.observer
                .step(step, &params, if has_eval { Some(&grads) } else { None });
        }
        Ok(())
    }
}

// Its three partial sums stay out of the caller's frame (stack is short on a
// Cortex-M0).
#[inline(never)]
fn phased_step<R: Weights>(
    opt: &mut Optimizer<f32, R>,
    (params, grads, loss): (&mut [f32], &[f32], f64),
    state: &mut [f32],
) -> Result<(), Error> {
    let (s0, s1) = (opt.state_range(0, TILE)?, opt.state_range(TILE, N)?);
    let (p0, p1) = params.split_at_mut(TILE);
    let (g0, g1) = grads.split_at(TILE);
    let (st0, st1) = state.split_at_mut(s1.start);
    let st0 = st0.get_mut(s0).ok_or(Error::StateLength)?;
    let a = opt.partial(0, p0, g0, st0)?;
    let b = opt.partial(TILE, p1, g1, st1)?;
    opt.finish_with_loss(&b.combine(&a), loss)?;
    opt.update(TILE, p1, g1, st1)?;
    opt.update(0, p0, g0, st0)
}

/// The digest of one case's one-call trajectory, and the first step (if
/// any) at which it was not finite.
pub fn case_digest(case: &Case) -> Result<(Fnv, Option<usize>), Error> {
    let mut hasher = Hasher::new();
    trajectory(case, Mode::OneCall, &mut hasher)?;
    Ok((hasher.0, hasher.1))
}

/// Prints every bit of a trajectory: `TRACE <case> <step> <index> <bits>`,
/// indices `N..2N` being the eval weights.
struct Tracer<'a, W: Write> {
    name: &'static str,
    report: &'a mut Report<W>,
}

impl<W: Write> Observer for Tracer<'_, W> {
    fn step(&mut self, step: usize, params: &[f32], eval: Option<&[f32]>) {
        let eval = eval.unwrap_or(&[]);
        for (i, x) in params.iter().chain(eval).enumerate() {
            let (name, bits) = (self.name, x.to_bits());
            self.report
                .line(format_args!("TRACE {name} {step} {i} {bits:08x}"));
        }
    }
}

/// Prints a `CASE` line per case and the `DIGEST` line.
pub fn run<W: Write>(report: &mut Report<W>) {
    let mut all = Fnv::new();
    for case in &CASES {
        let name = case.name;
        match case_digest(case) {
            Ok((_, Some(step))) => report.check(
                format_args!("digest {name}"),
                Err(Failure::new("the trajectory is not finite").at(step + 1)),
            ),
            Ok((d, None)) => {
                let hex = d.0;
                report.line(format_args!("CASE {name} {hex:016x}"));
                all.word(d.0 as u32);
                all.word((d.0 >> 32) as u32);
            }
            Err(e) => report.check(
                format_args!("digest {name}"),
                Err(Failure::new(e.message())),
            ),
        }
        if option_env!("FREESTEP_TRACE") == Some(name) {
            let mut tracer = Tracer { name, report };
            if let Err(e) = trajectory(case, Mode::OneCall, &mut tracer) {
                report.line(format_args!("TRACE {name} failed: {}", e.message()));
            }
        }
    }
    for (name, digest) in [
        ("init-geometric", init_digest()),
        ("schedule-refined", refined_digest()),
        ("schedule-factorial", factorial_digest()),
    ] {
        match digest {
            Ok(d) => {
                report.line(format_args!("CASE {name} {:016x}", d.0));
                all.word(d.0 as u32);
                all.word((d.0 >> 32) as u32);
            }
            Err(e) => report.check(
                format_args!("digest {name}"),
                Err(Failure::new(e.message())),
            ),
        }
    }
    let (target, hex, rules) = (crate::TARGET_NAME, all.0, cases::rules_covered());
    report.line(format_args!("DIGEST {target} {hex:016x} rules={rules}"));
}

/// The weights of two layers of the geometric-mean initialisation, in f32
/// and f64, from one generator stream.
#[inline(never)]
fn init_digest() -> Result<Fnv, Error> {
    let mut hash = Fnv::new();
    let mut rng = SplitMix64::new(SEED);
    let mut w32 = [0.0f32; 256];
    geometric_uniform(&mut w32, 16, 16, 2.0, &mut rng)?;
    hash.f32s(&w32);
    let mut w64 = [0.0f64; 70];
    geometric_uniform(&mut w64, 7, 10, 1.0, &mut rng)?;
    hash.f64s(&w64);
    Ok(hash)
}

/// The refined schedule of 96 generated norms (a falling trend with
/// noise), filtered over a tenth of the run, in f32 and f64.
#[inline(never)]
fn refined_digest() -> Result<Fnv, Error> {
    let mut hash = Fnv::new();
    let mut rng = SplitMix64::new(SEED ^ 1);
    let mut norms = [0.0f64; 96];
    for (i, g) in norms.iter_mut().enumerate() {
        *g = (0.25 + rng.next_unit()) * 8.0 / (1.0 + i as f64 / 8.0);
    }
    let mut out = [0.0f64; 96];
    refined::refine(&norms, 0.1, &mut out)?;
    hash.f64s(&out);
    let norms32 = norms.map(|g| g as f32);
    let mut out32 = [0.0f32; 96];
    refined::refine(&norms32, 0.1, &mut out32)?;
    hash.f32s(&out32);
    Ok(hash)
}

/// The factorial-power schedule (a whole and a fractional exponent), the
/// factorial power itself through its Gamma-function path, and the
/// momentum constants.
#[inline(never)]
fn factorial_digest() -> Result<Fnv, Error> {
    let mut hash = Fnv::new();
    for (alpha, offset) in [(1.0, 2.0), (0.5, 3.5)] {
        let s = Schedule::FactorialPower {
            warmup: 3,
            alpha,
            offset,
        };
        for t in 0..64 {
            hash.f64s(&[s.multiplier(t)?]);
        }
    }
    for t in 0..64u64 {
        let x = t as f64 * 1.75 + 0.5;
        hash.f64s(&[
            factorial::factorial_power(x, 0.3)?,
            factorial::factorial_power(x, -1.6)?,
            factorial::momentum(t, 0.5)?,
            factorial::averaging_weight(t, 0.5)?,
        ]);
    }
    Ok(hash)
}
