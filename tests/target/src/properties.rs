//! Property checks of every case, in f32 on the fixed problem: the expected
//! values come from the problem (its optimum) or from the library's own
//! contract (a refused call changes no bit; a phased step gives the bits of
//! the one-call step), never from a recorded run.

use core::fmt::Write;

use freestep::{Error, Optimizer};

use crate::cases::{Case, Job, Weights, CASES};
use crate::digest::{self, Hasher, Mode, STATE_CAP};
use crate::problem::{Fnv, Problem, N};
use crate::report::{Failure, Report};

/// Steps of the descent check, and the fraction of the starting suboptimality
/// that must remain at most.
const DESCENT_STEPS: usize = 150;
const DESCENT_FACTOR: f64 = 0.05;

pub fn run<W: Write>(report: &mut Report<W>) {
    for case in &CASES {
        let name = case.name;
        report.check(format_args!("{name} phased-equals-one-call"), phased(case));
        report.check(
            format_args!("{name} descends"),
            case.rule.with(Descends(case)),
        );
        report.check(
            format_args!("{name} refusals-change-nothing"),
            case.rule.with(Refusals(case)),
        );
    }
}

/// Split across two tiles, the step gives the same bits.
fn phased(case: &Case) -> Result<(), Failure> {
    let (one, _) = digest::case_digest(case).map_err(|e| Failure::new(e.message()))?;
    let mut hasher = Hasher::new();
    digest::trajectory(case, Mode::Phased, &mut hasher).map_err(|e| Failure::new(e.message()))?;
    match hasher.0 == one {
        true => Ok(()),
        false => Err(Failure::new("phased trajectory differs from one-call")),
    }
}

fn failed(e: Error) -> Failure {
    Failure::new(e.message())
}

/// On the pure quadratic (optimum `c`), the weights get close to it.
struct Descends<'a>(&'a Case);

impl Job for Descends<'_> {
    type Output = Result<(), Failure>;

    // Not inlined into `Rule::with`, whose arms would otherwise each keep
    // their own arrays in one frame: too much stack for a Cortex-M0.
    #[inline(never)]
    fn run<R: Weights>(self, rule: R) -> Self::Output {
        let problem = Problem::new(0x00de_5ce7, 0.0);
        let mut opt = Optimizer::<f32, R>::with_groups(rule, N, self.0.groups).map_err(failed)?;
        let mut params = [0.0f32; N];
        problem.start(&mut params);
        let mut grads = [0.0f32; N];
        let mut buffer = [0.0f32; STATE_CAP];
        let state = buffer
            .get_mut(..opt.state_len())
            .ok_or(Failure::new("state buffer too small"))?;
        let base = opt.rule().lr();
        for step in 0..DESCENT_STEPS {
            self.0
                .apply_schedule(&mut opt, base, step, DESCENT_STEPS)
                .map_err(failed)?;
            // A step number past the special ones: plain gradients.
            problem.gradient(usize::MAX, &params, &mut grads);
            let loss = problem.quadratic_value(&params);
            opt.step_with_loss(&mut params, &grads, loss, state)
                .map_err(failed)?;
        }
        // The gradients are spent: their buffer takes the eval weights.
        let judged = match R::eval_weights(&opt, &params, state, &mut grads).map_err(failed)? {
            true => &grads,
            false => &params,
        };
        let ratio = problem.quadratic_value(judged) / problem.start_value(N);
        match ratio <= DESCENT_FACTOR {
            true => Ok(()),
            false => Err(Failure::new("suboptimality ratio too high").value(ratio)),
        }
    }
}

/// Every refused call leaves parameters, state and the optimizer as they
/// were: a NaN or an infinity in the gradient, wrong lengths.
struct Refusals<'a>(&'a Case);

impl Job for Refusals<'_> {
    type Output = Result<(), Failure>;

    // Not inlined into `Rule::with`, whose arms would otherwise each keep
    // their own arrays in one frame: too much stack for a Cortex-M0.
    #[inline(never)]
    fn run<R: Weights>(self, rule: R) -> Self::Output {
        let problem = Problem::new(0x0bad_1a7e, 0.5);
        let mut opt = Optimizer::<f32, R>::with_groups(rule, N, self.0.groups).map_err(failed)?;
        let mut params = [0.0f32; N];
        problem.start(&mut params);
        let mut grads = [0.0f32; N];
        let mut buffer = [0.0f32; STATE_CAP];
        let len = opt.state_len();
        let state = buffer
            .get_mut(..len)
            .ok_or(Failure::new("state buffer too small"))?;
        for step in 0..3 {
            problem.gradient(step, &params, &mut grads);
            let loss = problem.quadratic_value(&params);
            opt.step_with_loss(&mut params, &grads, loss, state)
                .map_err(failed)?;
        }
        let before = snapshot(&opt, &params, state);
        problem.gradient(3, &params, &mut grads);

        grads[N - 1] = f32::NAN;
        let r = opt.step_with_loss(&mut params, &grads, 1.0, state);
        check(
            &opt,
            &params,
            state,
            before,
            r,
            Error::NonFiniteGradient,
            "NaN not refused",
        )?;
        problem.gradient(3, &params, &mut grads);
        grads[0] = f32::INFINITY;
        let r = opt.step_with_loss(&mut params, &grads, 1.0, state);
        check(
            &opt,
            &params,
            state,
            before,
            r,
            Error::NonFiniteGradient,
            "Inf not refused",
        )?;
        problem.gradient(3, &params, &mut grads);
        let r = opt.step_with_loss(&mut params, &grads, f64::NAN, state);
        check(
            &opt,
            &params,
            state,
            before,
            r,
            Error::NonFiniteLoss,
            "NaN loss not refused",
        )?;
        let r = opt.step_with_loss(&mut params, &grads[..N - 1], 1.0, state);
        check(
            &opt,
            &params,
            state,
            before,
            r,
            Error::Length,
            "short gradient not refused",
        )?;
        if let Some(short) = len.checked_sub(1) {
            let r = opt.step_with_loss(&mut params, &grads, 1.0, &mut state[..short]);
            check(
                &opt,
                &params,
                state,
                before,
                r,
                Error::StateLength,
                "short state not refused",
            )?;
        }
        // After all that, the good step is still taken.
        opt.step_with_loss(&mut params, &grads, 1.0, state)
            .map_err(failed)?;
        match snapshot(&opt, &params, state) != before {
            true => Ok(()),
            false => Err(Failure::new("the good step after refusals did nothing")),
        }
    }
}

fn check<R: Weights>(
    opt: &Optimizer<f32, R>,
    params: &[f32],
    state: &[f32],
    before: Fnv,
    got: Result<(), Error>,
    want: Error,
    what: &'static str,
) -> Result<(), Failure> {
    if snapshot(opt, params, state) != before {
        return Err(Failure::new("a refused call changed something"));
    }
    match got {
        Err(e) if e == want => Ok(()),
        _ => Err(Failure::new(what)),
    }
}

/// A hash of everything a step may change.
fn snapshot<R: Weights>(opt: &Optimizer<f32, R>, params: &[f32], state: &[f32]) -> Fnv {
    let mut h = Fnv::new();
    h.f32s(params);
    h.f32s(state);
    let p = opt.progress();
    h.f64s(&[p.k as f64, p.lr, p.d.unwrap_or(-1.0)]);
    h
}
