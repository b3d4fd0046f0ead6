//! Replaying a fixture with freestep at element type `T` and measuring how
//! far it strays from the reference, step by step.

use freestep::mechanic::{Mechanic, Mechanized};
use freestep::rules::schedule_free::Averaging;
use freestep::{
    Adagrad, Adam, DAdaptAdagrad, DAdaptAdam, DAdaptAdan, DAdaptLion, DAdaptSgd, Error, Float,
    Group, Madgrad, MirrorMadgrad, Momo, MomoAdam, Optimizer, Prodigy, Rmsprop, ScheduleFreeAdamW,
    ScheduleFreeRAdam, ScheduleFreeSgd, Sgd,
};

use super::fixture::{Fixture, Logistic, Problem};
use super::rules::{MechanicBase, Rule, MECHANIC_SCALARS};

/// How a replay ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every compared step was within its tolerance; the worst deviation.
    Pass(f64),
    /// Step `step` (1-based; 0 is before the first step) deviated by
    /// `rel_dev`, or freestep refused it with `error`.
    Fail {
        step: usize,
        rel_dev: f64,
        error: Option<String>,
    },
}

/// Where a replay keeps its numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// In the element type, as a user would.
    Native,
    /// Rounded to `f32` after every write (x0, each gradient, parameters and
    /// state after each step) while computing in `T`: with `T = f64`, this
    /// is the reference's trajectory as far as `f32` storage lets it be
    /// followed, which sets the `f32` tolerance.
    F32,
}

impl Storage {
    fn apply<T: Float>(self, xs: &mut [T]) {
        if self == Storage::F32 {
            xs.iter_mut()
                .for_each(|x| *x = T::from_f64(f64::from(x.to_f64() as f32)));
        }
    }
}

/// The per-step deviations of a replay, and the step freestep refused, if
/// any (the replay stops there).
#[derive(Debug)]
pub struct Trajectory {
    /// `deviations[t]` is the deviation after step `t + 1`.
    pub deviations: Vec<Deviation>,
    /// The refused step (1-based; 0 is the construction) and the error text.
    pub refused: Option<(usize, String)>,
}

impl Trajectory {
    fn refused(deviations: Vec<Deviation>, step: usize, error: Error) -> Self {
        Self {
            deviations,
            refused: Some((step, error.to_string())),
        }
    }

    /// Judges the first `tolerances.len()` steps: the first step that was
    /// refused or deviates beyond its tolerance fails the replay.
    pub fn judge(&self, tolerances: &[f64]) -> Outcome {
        let mut worst = 0.0f64;
        for (t, &tol) in tolerances.iter().enumerate() {
            let Some(dev) = self.deviations.get(t).map(|d| d.value) else {
                let missing = || (t + 1, "the replay stopped before this step".to_string());
                let (step, error) = self.refused.clone().unwrap_or_else(missing);
                return Outcome::Fail {
                    step,
                    rel_dev: f64::INFINITY,
                    error: Some(error),
                };
            };
            if exceeds(dev, tol) {
                return Outcome::Fail {
                    step: t + 1,
                    rel_dev: dev,
                    error: None,
                };
            }
            worst = worst.max(dev);
        }
        Outcome::Pass(worst)
    }
}

/// True when `dev` is beyond `bound`; a NaN deviation always is, so that it
/// can never pass.
pub fn exceeds(dev: f64, bound: f64) -> bool {
    dev.is_nan() || dev > bound
}

/// A freestep optimizer of any of the replayed rules.
enum Driver<T: Float> {
    Sgd(Optimizer<T, Sgd>),
    Adam(Optimizer<T, Adam>),
    ScheduleFreeSgd(Optimizer<T, ScheduleFreeSgd>),
    ScheduleFreeAdamW(Optimizer<T, ScheduleFreeAdamW>),
    ScheduleFreeRAdam(Optimizer<T, ScheduleFreeRAdam>),
    Prodigy(Optimizer<T, Prodigy>),
    Adagrad(Optimizer<T, Adagrad>),
    Rmsprop(Optimizer<T, Rmsprop>),
    Madgrad(Optimizer<T, Madgrad>),
    MirrorMadgrad(Optimizer<T, MirrorMadgrad>),
    DAdaptAdam(Optimizer<T, DAdaptAdam>),
    DAdaptSgd(Optimizer<T, DAdaptSgd>),
    DAdaptLion(Optimizer<T, DAdaptLion>),
    DAdaptAdagrad(Optimizer<T, DAdaptAdagrad>),
    DAdaptAdan(Optimizer<T, DAdaptAdan>),
    Momo(Optimizer<T, Momo>),
    MomoAdam(Optimizer<T, MomoAdam>),
    MechanicSgd(Mechanized<T, Sgd>),
    MechanicAdam(Mechanized<T, Adam>),
    MechanicAdagrad(Mechanized<T, Adagrad>),
    MechanicRmsprop(Mechanized<T, Rmsprop>),
}

impl<T: Float> Driver<T> {
    fn new(rule: Rule, n: usize, groups: &[Group]) -> Result<Self, Error> {
        Ok(match rule {
            Rule::Sgd(c) => Self::Sgd(Optimizer::with_groups(Sgd::new(c), n, groups)?),
            Rule::Adam(c) => Self::Adam(Optimizer::with_groups(Adam::new(c), n, groups)?),
            Rule::ScheduleFreeSgd(c) => {
                Self::ScheduleFreeSgd(Optimizer::with_groups(ScheduleFreeSgd::new(c), n, groups)?)
            }
            Rule::ScheduleFreeAdamW(c) => Self::ScheduleFreeAdamW(Optimizer::with_groups(
                ScheduleFreeAdamW::new(c),
                n,
                groups,
            )?),
            Rule::ScheduleFreeRAdam(c) => Self::ScheduleFreeRAdam(Optimizer::with_groups(
                ScheduleFreeRAdam::new(c),
                n,
                groups,
            )?),
            Rule::Prodigy(c) => Self::Prodigy(Optimizer::with_groups(Prodigy::new(c), n, groups)?),
            Rule::Adagrad(c) => Self::Adagrad(Optimizer::with_groups(Adagrad::new(c), n, groups)?),
            Rule::Rmsprop(c) => Self::Rmsprop(Optimizer::with_groups(Rmsprop::new(c), n, groups)?),
            Rule::Madgrad(c) => Self::Madgrad(Optimizer::with_groups(Madgrad::new(c), n, groups)?),
            Rule::MirrorMadgrad(c) => {
                Self::MirrorMadgrad(Optimizer::with_groups(MirrorMadgrad::new(c), n, groups)?)
            }
            Rule::DAdaptAdam(c) => {
                Self::DAdaptAdam(Optimizer::with_groups(DAdaptAdam::new(c), n, groups)?)
            }
            Rule::DAdaptSgd(c) => {
                Self::DAdaptSgd(Optimizer::with_groups(DAdaptSgd::new(c), n, groups)?)
            }
            Rule::DAdaptLion(c) => {
                Self::DAdaptLion(Optimizer::with_groups(DAdaptLion::new(c), n, groups)?)
            }
            Rule::DAdaptAdagrad(c) => {
                Self::DAdaptAdagrad(Optimizer::with_groups(DAdaptAdagrad::new(c), n, groups)?)
            }
            Rule::DAdaptAdan(c) => {
                Self::DAdaptAdan(Optimizer::with_groups(DAdaptAdan::new(c), n, groups)?)
            }
            Rule::Momo(c) => Self::Momo(Optimizer::with_groups(Momo::new(c), n, groups)?),
            Rule::MomoAdam(c) => {
                Self::MomoAdam(Optimizer::with_groups(MomoAdam::new(c), n, groups)?)
            }
            Rule::Mechanic(m, base) => match base {
                MechanicBase::Sgd(c) => {
                    Self::MechanicSgd(Mechanized::new(Sgd::new(c), n, groups, m)?)
                }
                MechanicBase::Adam(c) => {
                    Self::MechanicAdam(Mechanized::new(Adam::new(c), n, groups, m)?)
                }
                MechanicBase::Adagrad(c) => {
                    Self::MechanicAdagrad(Mechanized::new(Adagrad::new(c), n, groups, m)?)
                }
                MechanicBase::Rmsprop(c) => {
                    Self::MechanicRmsprop(Mechanized::new(Rmsprop::new(c), n, groups, m)?)
                }
            },
        })
    }

    fn state_len(&self) -> usize {
        match self {
            Self::Sgd(o) => o.state_len(),
            Self::Adam(o) => o.state_len(),
            Self::ScheduleFreeSgd(o) => o.state_len(),
            Self::ScheduleFreeAdamW(o) => o.state_len(),
            Self::ScheduleFreeRAdam(o) => o.state_len(),
            Self::Prodigy(o) => o.state_len(),
            Self::Adagrad(o) => o.state_len(),
            Self::Rmsprop(o) => o.state_len(),
            Self::Madgrad(o) => o.state_len(),
            Self::MirrorMadgrad(o) => o.state_len(),
            Self::DAdaptAdam(o) => o.state_len(),
            Self::DAdaptSgd(o) => o.state_len(),
            Self::DAdaptLion(o) => o.state_len(),
            Self::DAdaptAdagrad(o) => o.state_len(),
            Self::DAdaptAdan(o) => o.state_len(),
            Self::Momo(o) => o.state_len(),
            Self::MomoAdam(o) => o.state_len(),
            Self::MechanicSgd(o) => o.state_len(),
            Self::MechanicAdam(o) => o.state_len(),
            Self::MechanicAdagrad(o) => o.state_len(),
            Self::MechanicRmsprop(o) => o.state_len(),
        }
    }

    /// One step; the loss goes to the rules that read it (a missing one
    /// makes them refuse the step).
    fn step(
        &mut self,
        params: &mut [T],
        grads: &[T],
        loss: Option<f64>,
        state: &mut [T],
    ) -> Result<(), Error> {
        let with_loss = |l: Option<f64>| l.ok_or(Error::MissingLoss);
        match self {
            Self::Momo(o) => o.step_with_loss(params, grads, with_loss(loss)?, state),
            Self::MomoAdam(o) => o.step_with_loss(params, grads, with_loss(loss)?, state),
            Self::MechanicSgd(o) => o.step(params, grads, state),
            Self::MechanicAdam(o) => o.step(params, grads, state),
            Self::MechanicAdagrad(o) => o.step(params, grads, state),
            Self::MechanicRmsprop(o) => o.step(params, grads, state),
            Self::Sgd(o) => o.step(params, grads, state),
            Self::Adam(o) => o.step(params, grads, state),
            Self::ScheduleFreeSgd(o) => o.step(params, grads, state),
            Self::ScheduleFreeAdamW(o) => o.step(params, grads, state),
            Self::ScheduleFreeRAdam(o) => o.step(params, grads, state),
            Self::Prodigy(o) => o.step(params, grads, state),
            Self::Adagrad(o) => o.step(params, grads, state),
            Self::Rmsprop(o) => o.step(params, grads, state),
            Self::Madgrad(o) => o.step(params, grads, state),
            Self::MirrorMadgrad(o) => o.step(params, grads, state),
            Self::DAdaptAdam(o) => o.step(params, grads, state),
            Self::DAdaptSgd(o) => o.step(params, grads, state),
            Self::DAdaptLion(o) => o.step(params, grads, state),
            Self::DAdaptAdagrad(o) => o.step(params, grads, state),
            Self::DAdaptAdan(o) => o.step(params, grads, state),
        }
    }

    /// Writes the eval weights into `out`; `None` for rules without them.
    fn eval_params(&self, params: &[T], state: &[T], out: &mut [T]) -> Option<Result<(), Error>> {
        match self {
            Self::ScheduleFreeSgd(o) => Some(o.eval_params(params, state, out)),
            Self::ScheduleFreeAdamW(o) => Some(o.eval_params(params, state, out)),
            Self::ScheduleFreeRAdam(o) => Some(o.eval_params(params, state, out)),
            _ => None,
        }
    }

    /// Switches to the eval weights and returns them, then switches back, as
    /// the reference's `eval(); train()` round trip does. Rules without eval
    /// weights return the parameters.
    fn eval_then_train(&mut self, params: &mut [T], state: &[T]) -> Result<Vec<f64>, Error> {
        match self {
            Self::ScheduleFreeSgd(o) => o.eval(params, state)?,
            Self::ScheduleFreeAdamW(o) => o.eval(params, state)?,
            Self::ScheduleFreeRAdam(o) => o.eval(params, state)?,
            _ => {}
        }
        let x = widen(params);
        match self {
            Self::ScheduleFreeSgd(o) => o.train(params, state)?,
            Self::ScheduleFreeAdamW(o) => o.train(params, state)?,
            Self::ScheduleFreeRAdam(o) => o.train(params, state)?,
            _ => {}
        }
        Ok(x)
    }

    /// The rule's user-visible scalars, named as in `expected.scalars`.
    fn scalars(&self) -> Vec<(&'static str, Option<f64>)> {
        match self {
            Self::Sgd(_) | Self::Adam(_) | Self::Adagrad(_) | Self::Rmsprop(_) => Vec::new(),
            Self::Madgrad(o) => vec![("k", Some(o.rule().k() as f64))],
            Self::MirrorMadgrad(o) => vec![("k", Some(o.rule().k() as f64))],
            Self::DAdaptAdam(o) => {
                let r = o.rule();
                vec![
                    ("d", Some(r.d())),
                    ("k", Some(r.k() as f64)),
                    ("numerator_weighted", Some(r.numerator_weighted())),
                ]
            }
            Self::DAdaptAdan(o) => {
                let r = o.rule();
                vec![
                    ("d", Some(r.d())),
                    ("k", Some(r.k() as f64)),
                    ("gsq_weighted", Some(r.gsq_weighted())),
                ]
            }
            Self::DAdaptAdagrad(o) => {
                let r = o.rule();
                vec![
                    ("d", Some(r.d())),
                    ("k", Some(r.k() as f64)),
                    ("gsq_weighted", Some(r.gsq_weighted())),
                    ("sksq_weighted", Some(r.sksq_weighted())),
                    ("skl1", Some(r.skl1())),
                ]
            }
            Self::DAdaptLion(o) => {
                let r = o.rule();
                vec![
                    ("d", Some(r.d())),
                    ("k", Some(r.k() as f64)),
                    ("numerator_weighted", Some(r.numerator_weighted())),
                ]
            }
            Self::DAdaptSgd(o) => {
                let r = o.rule();
                vec![
                    ("d", Some(r.d())),
                    ("k", Some(r.k() as f64)),
                    ("numerator_weighted", Some(r.numerator_weighted())),
                    ("g0_norm", r.g0_norm()),
                ]
            }
            Self::ScheduleFreeSgd(o) => averaging_scalars(&o.rule().averaging),
            Self::ScheduleFreeAdamW(o) => averaging_scalars(&o.rule().averaging),
            Self::ScheduleFreeRAdam(o) => averaging_scalars(&o.rule().averaging),
            Self::Momo(o) => {
                let r = o.rule();
                momo_scalars(r.lb(), r.loss_avg(), r.k())
            }
            Self::MechanicSgd(o) => mechanic_scalars(o.tuner()),
            Self::MechanicAdam(o) => mechanic_scalars(o.tuner()),
            Self::MechanicAdagrad(o) => mechanic_scalars(o.tuner()),
            Self::MechanicRmsprop(o) => mechanic_scalars(o.tuner()),
            Self::MomoAdam(o) => {
                let r = o.rule();
                momo_scalars(r.lb(), r.loss_avg(), r.k())
            }
            Self::Prodigy(o) => {
                let p = o.rule();
                vec![
                    ("d", Some(p.d())),
                    ("d_hat", p.d_hat()),
                    ("d_max", Some(p.d_max())),
                    ("d_numerator", Some(p.d_numerator())),
                    ("d_denom", p.d_denom()),
                    ("k", Some(p.k() as f64)),
                ]
            }
        }
    }
}

fn averaging_scalars(a: &Averaging) -> Vec<(&'static str, Option<f64>)> {
    vec![
        ("k", Some(a.k as f64)),
        ("scheduled_lr", Some(a.scheduled_lr)),
        ("lr_max", Some(a.lr_max)),
        ("weight_sum", Some(a.weight_sum)),
    ]
}

/// `s_sum`, `iter_count` and each `s[j]`, named as the runner expands the
/// reference's `s` vector.
fn mechanic_scalars(m: &Mechanic) -> Vec<(&'static str, Option<f64>)> {
    let mut out = vec![
        ("s_sum", Some(m.s_sum())),
        ("iter_count", Some(m.iter_count() as f64)),
    ];
    let names = MECHANIC_SCALARS.iter().skip(2);
    out.extend(names.zip(m.s()).map(|(name, &s)| (*name, Some(s))));
    out
}

fn momo_scalars(lb: f64, loss_avg: f64, k: u64) -> Vec<(&'static str, Option<f64>)> {
    vec![
        ("lb", Some(lb)),
        ("loss_avg", Some(loss_avg)),
        ("number_steps", Some(k as f64)),
    ]
}

fn widen<T: Float>(xs: &[T]) -> Vec<f64> {
    xs.iter().map(|x| x.to_f64()).collect()
}

fn narrow<T: Float>(xs: &[f64]) -> Vec<T> {
    xs.iter().map(|&x| T::from_f64(x)).collect()
}

/// What freestep holds after one step, in `f64`.
struct Observed {
    params: Vec<f64>,
    eval_params: Option<Vec<f64>>,
    scalars: Vec<(&'static str, Option<f64>)>,
}

/// Replays `fixture` with `rule` at element type `T`, every step until the
/// end or until freestep refuses one.
pub fn trajectory<T: Float>(fixture: &Fixture, rule: Rule, storage: Storage) -> Trajectory {
    let groups: Vec<Group> = fixture.tensors.iter().map(|&n| Group::new(n)).collect();
    let mut deviations = Vec::with_capacity(fixture.steps());
    let mut driver = match Driver::<T>::new(rule, fixture.dim(), &groups) {
        Ok(d) => d,
        Err(e) => return Trajectory::refused(deviations, 0, e),
    };
    let mut params: Vec<T> = narrow(&fixture.x0);
    storage.apply(&mut params);
    let mut state = vec![T::ZERO; driver.state_len()];
    for t in 0..fixture.steps() {
        let mut grads = gradient::<T>(fixture, t, &params);
        storage.apply(&mut grads);
        let loss = loss(fixture, t, &params);
        if let Err(e) = driver.step(&mut params, &grads, loss, &mut state) {
            return Trajectory::refused(deviations, t + 1, e);
        }
        storage.apply(&mut params);
        storage.apply(&mut state);
        // Rounding to f32 can overflow what f64 still holds: from here on
        // the reference's trajectory does not exist in f32.
        let overflowed = |xs: &[T]| xs.iter().any(|x| !x.is_finite());
        if storage == Storage::F32 && (overflowed(&params) || overflowed(&state)) {
            return Trajectory {
                deviations,
                refused: Some((t + 1, "its values leave f32's range".into())),
            };
        }
        match observe(&mut driver, fixture, &mut params, &state) {
            Ok(observed) => deviations.push(step_deviation(fixture, t, &observed)),
            Err(e) => return Trajectory::refused(deviations, t + 1, e),
        }
        // The eval/train round trip rewrites the parameters.
        storage.apply(&mut params);
    }
    Trajectory {
        deviations,
        refused: None,
    }
}

/// The gradient before step `t + 1`: the given row (open loop) or the
/// logistic-regression gradient at the current train-mode parameters.
fn gradient<T: Float>(fixture: &Fixture, t: usize, params: &[T]) -> Vec<T> {
    match &fixture.problem {
        Problem::OpenLoop(rows) => rows.get(t).map(|r| narrow(r)).unwrap_or_default(),
        Problem::ClosedLoop(problem) => narrow(&logistic_gradient(problem, &widen(params))),
    }
}

/// The loss before step `t + 1`: the given value (open loop, if the fixture
/// has losses) or the logistic-regression loss at the current parameters.
fn loss<T: Float>(fixture: &Fixture, t: usize, params: &[T]) -> Option<f64> {
    match &fixture.problem {
        Problem::OpenLoop(_) => fixture.losses.as_ref().and_then(|l| l.get(t).copied()),
        Problem::ClosedLoop(problem) => Some(logistic_loss(problem, &widen(params))),
    }
}

/// Reads the parameters, eval weights and scalars after a step, following
/// the fixture's protocol for the eval weights.
fn observe<T: Float>(
    driver: &mut Driver<T>,
    fixture: &Fixture,
    params: &mut [T],
    state: &[T],
) -> Result<Observed, Error> {
    let eval_params = if fixture.eval_train_each_step {
        Some(driver.eval_then_train(params, state)?)
    } else {
        let mut out = vec![T::ZERO; params.len()];
        match driver.eval_params(params, state, &mut out) {
            Some(result) => result.map(|()| Some(widen(&out)))?,
            None => None,
        }
    };
    Ok(Observed {
        params: widen(params),
        eval_params,
        scalars: driver.scalars(),
    })
}

/// The loss gradient of SCHEMA.md's logistic regression at `[w, b]`:
/// `dw = Xᵀ(σ(z) - y)/n + l2 w`, `db = mean(σ(z) - y)`, `z = X w + b`.
/// Computed in `f64` whatever the replay's precision, since it stands for
/// the user's model, not for the optimizer under test.
pub fn logistic_gradient(problem: &Logistic, params: &[f64]) -> Vec<f64> {
    let features = params.len().saturating_sub(1);
    let (w, b) = params.split_at(features);
    let b = b.first().copied().unwrap_or(0.0);
    let n = problem.labels.len() as f64;
    let mut grad = vec![0.0; params.len()];
    for (x, &y) in problem.features.iter().zip(&problem.labels) {
        let z = x.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + b;
        let residual = sigmoid(z) - y;
        for (g, &xi) in grad.iter_mut().zip(x) {
            *g += xi * residual;
        }
        if let Some(gb) = grad.last_mut() {
            *gb += residual;
        }
    }
    for (g, &wi) in grad.iter_mut().zip(w) {
        *g = *g / n + problem.l2 * wi;
    }
    if let Some(gb) = grad.last_mut() {
        *gb /= n;
    }
    grad
}

/// The loss of SCHEMA.md's logistic regression at `[w, b]`:
/// `mean(max(z, 0) + log1p(exp(-|z|)) - y z) + l2/2 ||w||²`, in `f64`.
pub fn logistic_loss(problem: &Logistic, params: &[f64]) -> f64 {
    let features = params.len().saturating_sub(1);
    let (w, b) = params.split_at(features);
    let b = b.first().copied().unwrap_or(0.0);
    let n = problem.labels.len() as f64;
    let mut total = 0.0;
    for (x, &y) in problem.features.iter().zip(&problem.labels) {
        let z = x.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + b;
        total += z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z;
    }
    let penalty = 0.5 * problem.l2 * w.iter().map(|v| v * v).sum::<f64>();
    total / n + penalty
}

/// The logistic function, without overflow for large `|z|`.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// How far one step is from the reference, and in which part.
#[derive(Clone, Debug)]
pub struct Deviation {
    /// The relative deviation.
    pub value: f64,
    /// What deviates most: `params`, `eval_params`, `scalars` (as a vector)
    /// or `scalar <name>`.
    pub part: String,
}

impl Deviation {
    fn of(part: impl Into<String>, value: f64) -> Self {
        Self {
            value,
            part: part.into(),
        }
    }

    /// The larger of two deviations; a NaN one wins, so it is never lost.
    fn max(self, other: Self) -> Self {
        if other.value > self.value || other.value.is_nan() {
            other
        } else {
            self
        }
    }
}

/// The deviation of one step: the worst of params, eval params and scalars.
fn step_deviation(fixture: &Fixture, t: usize, observed: &Observed) -> Deviation {
    let expected = &fixture.expected;
    let row_dev =
        |rows: &[Vec<f64>], ours: &[f64]| rows.get(t).map_or(f64::INFINITY, |r| rel_dev(ours, r));
    let mut dev = Deviation::of("params", row_dev(&expected.params, &observed.params));
    let eval_rows = expected.eval_params.as_deref();
    if let (Some(rows), Some(ours)) = (eval_rows, &observed.eval_params) {
        dev = dev.max(Deviation::of("eval_params", row_dev(rows, ours)));
    }
    if let Some(rows) = &expected.scalars {
        let row = rows.get(t).map(Vec::as_slice).unwrap_or_default();
        dev = dev.max(scalar_deviation(row, &observed.scalars));
    }
    dev
}

/// Scalars are compared one by one and as a vector; null reference values
/// are skipped, and a value the reference has but freestep lacks is an
/// infinite deviation.
fn scalar_deviation(
    reference: &[(String, Option<f64>)],
    ours: &[(&'static str, Option<f64>)],
) -> Deviation {
    let (mut mine, mut theirs) = (Vec::new(), Vec::new());
    let mut worst = Deviation::of("scalars", 0.0);
    for (key, value) in reference {
        let Some(r) = *value else { continue };
        let part = format!("scalar {key}");
        let Some(m) = ours.iter().find(|(k, _)| k == key).and_then(|(_, v)| *v) else {
            return Deviation::of(part, f64::INFINITY);
        };
        worst = worst.max(Deviation::of(part, rel_dev(&[m], &[r])));
        mine.push(m);
        theirs.push(r);
    }
    worst.max(Deviation::of("scalars", rel_dev(&mine, &theirs)))
}

/// `||x - r|| / ||r||`, or `||x - r||` when `r` is zero. Not-a-number (a
/// non-finite value on either side) counts as infinitely far.
pub fn rel_dev(x: &[f64], r: &[f64]) -> f64 {
    if x.len() != r.len() {
        return f64::INFINITY;
    }
    let diff = norm(x.iter().zip(r).map(|(a, b)| a - b));
    let base = norm(r.iter().copied());
    let dev = if base == 0.0 { diff } else { diff / base };
    if dev.is_nan() {
        f64::INFINITY
    } else {
        dev
    }
}

/// The Euclidean norm, scaled by the largest magnitude so that neither huge
/// nor tiny values overflow or underflow on the way. NaN if any value is
/// NaN (`f64::max` would otherwise drop it from the scale).
fn norm(xs: impl Iterator<Item = f64> + Clone) -> f64 {
    if xs.clone().any(f64::is_nan) {
        return f64::NAN;
    }
    let scale = xs.clone().fold(0.0f64, |m, x| m.max(x.abs()));
    if scale == 0.0 || scale.is_infinite() {
        return scale;
    }
    scale * xs.map(|x| (x / scale).powi(2)).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conform::fixture::{load, Loaded};

    #[test]
    fn deviation_is_relative_unless_the_reference_is_zero() {
        assert_eq!(rel_dev(&[3.0, 4.0], &[0.0, 0.0]), 5.0);
        assert!((rel_dev(&[1.0, 1.0], &[1.0, 2.0]) - 1.0 / 5f64.sqrt()).abs() < 1e-15);
        // Huge values neither overflow nor lose the deviation.
        assert!((rel_dev(&[2e300, 0.0], &[1e300, 0.0]) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn non_finite_values_never_pass() {
        assert_eq!(rel_dev(&[f64::NAN], &[1.0]), f64::INFINITY);
        assert_eq!(rel_dev(&[f64::NAN, f64::NAN], &[0.0, 0.0]), f64::INFINITY);
        assert_eq!(rel_dev(&[f64::INFINITY], &[f64::INFINITY]), f64::INFINITY);
        assert!(exceeds(f64::NAN, 1.0));
    }

    #[test]
    fn scalars_count_one_by_one_and_skip_nulls() {
        let reference = [
            ("d".to_string(), Some(1e-3)),
            ("k".to_string(), Some(50.0)),
            ("d_hat".to_string(), None),
        ];
        // d is 10% off: hidden in the vector by k, found one by one.
        let ours = [("d", Some(1.1e-3)), ("k", Some(50.0)), ("d_hat", None)];
        let dev = scalar_deviation(&reference, &ours);
        assert!((dev.value - 0.1).abs() < 1e-12 && dev.part == "scalar d");
        let missing = [("d", None), ("k", Some(50.0))];
        assert_eq!(scalar_deviation(&reference, &missing).value, f64::INFINITY);
    }

    /// The closed-loop gradient, recomputed at the recorded train-mode
    /// parameters, matches the gradient the reference saw at every step.
    #[test]
    fn logistic_gradient_matches_the_recorded_gradients() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = root.join("tests/conformance/fixtures");
        for name in ["prodigy-closed-loop", "sgd-schedulefree-closed-loop"] {
            let path = dir.join(format!("{name}.json"));
            let text = std::fs::read_to_string(&path).unwrap();
            let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
            let Ok(Loaded::Replay(fixture)) = load(&path) else {
                panic!("{name} does not load");
            };
            let Problem::ClosedLoop(problem) = &fixture.problem else {
                panic!("{name} is not closed-loop");
            };
            let recorded = crate::conform::json::matrix(&raw["grads"], 100, 9, "grads").unwrap();
            let mut at = fixture.x0.clone();
            for (t, seen) in recorded.iter().enumerate() {
                let dev = rel_dev(&logistic_gradient(problem, &at), seen);
                assert!(dev < 1e-13, "{name} step {}: {dev:e}", t + 1);
                at.clone_from(&fixture.expected.params[t]);
            }
        }
    }
}
