//! Fixtures of `kind: "finite_sum"`: a finite-sum method must reach a known
//! optimum, not follow a trajectory, since the sampling order is the
//! method's own.
//!
//! A fixture gives `optimizer` (`saga`, `sag`, `svrg`, `finito`,
//! `point-saga`), `dataset {X, y}`, `objective {loss, l2, l1}` (the mean of
//! `loss(x_i·w, y_i)` plus `l2/2·||w||²` plus `l1·||w||₁`, no bias), `epochs`,
//! `hyperparameters` and `expected {w_star, f_star}`, `tolerance
//! {subopt_rel}`. Labels of the logistic loss may be 0/1 or ±1 (0 is read as
//! -1). The run starts from `w = 0` and takes `epochs` passes of `n` sampled
//! steps (SVRG: `epochs` snapshots, each a full gradient then `inner_steps`
//! sampled steps; Finito: first the pass that fills its table, which is not
//! counted). It passes when `(f(w) - f*) / max(1, |f*|) <= subopt_rel`.
//!
//! Hyperparameters, each optional: `step_size`; `sampling` (`uniform` with
//! replacement, a fresh `permutation` each epoch, or `lipschitz`: with
//! probability proportional to each sample's `L_i`; default `uniform`, for
//! Finito `permutation` as its paper recommends); `inner_steps` (SVRG,
//! default `n`); `alpha` (Finito, default 2). An absent step size takes the
//! method's default of `freestep::finite_sum::theory`, with `L` the largest
//! `L_i` (`l2` included), or for SAG with Lipschitz sampling their mean. A
//! key no method reads fails the fixture.
//!
//! The sampling is seeded with a fixed seed. Gradients are computed in the
//! run's precision; the objective in f64. An f32 run is held to the same
//! bar as the f64 one.

use freestep::finite_sum::finito::{Finito, FinitoConfig};
use freestep::finite_sum::point_saga::{PointSaga, PointSagaConfig};
use freestep::finite_sum::prox::Loss;
use freestep::finite_sum::sag::{Sag, SagConfig};
use freestep::finite_sum::saga::{Saga, SagaConfig};
use freestep::finite_sum::sampling::{Rng, Weighted};
use freestep::finite_sum::svrg::{Svrg, SvrgConfig};
use freestep::finite_sum::{theory, Regularizer, Sample, Shape, TableForm};
use freestep::Float;

use super::json::{self, Object};

/// The optimizers these fixtures name.
pub const METHODS: [&str; 5] = ["saga", "sag", "svrg", "finito", "point-saga"];

/// The seed of every run's sampling.
const SEED: u64 = 0x5eed_f1a1_7e50;

/// How sample indices are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampling {
    Uniform,
    Permutation,
    Lipschitz,
}

/// A checked finite-sum fixture.
#[derive(Debug)]
pub struct Fixture {
    pub optimizer: String,
    /// Row-major `n × d` features.
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub n: usize,
    pub d: usize,
    pub loss: Loss,
    pub l2: f64,
    pub l1: f64,
    pub epochs: usize,
    pub step_size: f64,
    pub sampling: Sampling,
    pub inner_steps: usize,
    pub f_star: f64,
    pub subopt_rel: f64,
}

/// Reads a finite-sum fixture from its root object. `Ok(None)` means an
/// optimizer this runner does not know (a skip).
pub fn parse(root: &Object) -> Result<Option<Fixture>, String> {
    let optimizer = json::string(json::field(root, "optimizer", "")?, "optimizer")?;
    if !METHODS.contains(&optimizer) {
        return Ok(None);
    }
    let dataset = json::object(json::field(root, "dataset", "")?, "dataset")?;
    let rows = json::array(json::field(dataset, "X", "dataset.")?, "dataset.X")?;
    let n = rows.len();
    let first = rows.first().ok_or("`dataset.X` is empty")?;
    let d = json::array(first, "dataset.X[0]")?.len();
    if d == 0 {
        return Err("`dataset.X` has no columns".into());
    }
    let x: Vec<f64> =
        json::matrix(json::field(dataset, "X", "dataset.")?, n, d, "dataset.X")?.concat();
    let mut y = json::vector(json::field(dataset, "y", "dataset.")?, n, "dataset.y")?;

    let objective = json::object(json::field(root, "objective", "")?, "objective")?;
    let loss = match json::string(json::field(objective, "loss", "objective.")?, "loss")? {
        "logistic" => Loss::Logistic,
        "squared" => Loss::Squared,
        other => return Err(format!("unknown objective.loss {other:?}")),
    };
    if loss == Loss::Logistic {
        for v in &mut y {
            *v = match *v {
                0.0 | -1.0 => -1.0,
                1.0 => 1.0,
                other => return Err(format!("logistic label {other} is not 0, 1 or -1")),
            };
        }
    }
    let weight = |key: &str| match json::optional(objective, key) {
        Some(v) => json::number(v, &format!("objective.{key}")),
        None => Ok(0.0),
    };
    let (l2, l1) = (weight("l2")?, weight("l1")?);
    let epochs = json::count(json::field(root, "epochs", "")?, "epochs")?;
    let expected = json::object(json::field(root, "expected", "")?, "expected")?;
    json::vector(
        json::field(expected, "w_star", "expected.")?,
        d,
        "expected.w_star",
    )?;
    let f_star = json::number(json::field(expected, "f_star", "expected.")?, "f_star")?;
    let tolerance = json::object(json::field(root, "tolerance", "")?, "tolerance")?;
    let subopt_rel = json::number(
        json::field(tolerance, "subopt_rel", "tolerance.")?,
        "tolerance.subopt_rel",
    )?;

    let mut fixture = Fixture {
        optimizer: optimizer.to_string(),
        x,
        y,
        n,
        d,
        loss,
        l2,
        l1,
        epochs,
        step_size: 0.0,
        sampling: Sampling::Uniform,
        inner_steps: n,
        f_star,
        subopt_rel,
    };
    let hyper = json::object(json::field(root, "hyperparameters", "")?, "hyperparameters")?;
    resolve(&mut fixture, hyper)?;
    Ok(Some(fixture))
}

/// Fills in the hyperparameters, from the fixture or the theory defaults.
fn resolve(f: &mut Fixture, hyper: &Object) -> Result<(), String> {
    let allowed: &[&str] = match f.optimizer.as_str() {
        "svrg" => &["step_size", "sampling", "inner_steps"],
        "finito" => &["step_size", "sampling", "alpha"],
        _ => &["step_size", "sampling"],
    };
    if let Some(key) = hyper.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "hyperparameter `{key}` is not read by {}",
            f.optimizer
        ));
    }
    let l1_ok = matches!(f.optimizer.as_str(), "saga" | "svrg");
    if f.l1 != 0.0 && !l1_ok {
        return Err(format!("{} has no proximal step for l1", f.optimizer));
    }
    f.sampling = match json::optional(hyper, "sampling") {
        None if f.optimizer == "finito" => Sampling::Permutation,
        None => Sampling::Uniform,
        Some(v) => match json::string(v, "sampling")? {
            "uniform" => Sampling::Uniform,
            "permutation" => Sampling::Permutation,
            "lipschitz" => Sampling::Lipschitz,
            other => return Err(format!("unknown sampling {other:?}")),
        },
    };
    if let Some(v) = json::optional(hyper, "inner_steps") {
        f.inner_steps = json::count(v, "inner_steps")?;
    }
    let (l_max, l_mean) =
        theory::lipschitz(f.loss, &f.x, f.d, f.l2).map_err(|e| format!("lipschitz: {e}"))?;
    let alpha = match json::optional(hyper, "alpha") {
        Some(v) => json::number(v, "alpha")?,
        None => 2.0,
    };
    let default = match f.optimizer.as_str() {
        "saga" => theory::saga(l_max),
        "sag" if f.sampling == Sampling::Lipschitz => theory::sag(l_mean),
        "sag" => theory::sag(l_max),
        "svrg" => theory::svrg(l_max),
        "finito" => theory::finito(alpha, f.l2, f.n),
        _ => theory::point_saga(l_max, f.l2, f.n),
    };
    f.step_size = match json::optional(hyper, "step_size") {
        Some(v) => json::number(v, "step_size")?,
        None => default.map_err(|e| format!("default step size: {e}"))?,
    };
    Ok(())
}

/// Draws sample indices as the fixture asks.
struct Sampler<'a> {
    rng: Rng,
    kind: Sampling,
    order: Vec<u32>,
    next: usize,
    weighted: Option<Weighted<'a>>,
}

impl<'a> Sampler<'a> {
    fn new(f: &Fixture, cumulative: &'a mut [f64]) -> Result<Self, String> {
        let weighted = match f.sampling {
            Sampling::Lipschitz => {
                let weights =
                    f.x.chunks_exact(f.d)
                        .map(|row| theory::sample_lipschitz(f.loss, row, f.l2))
                        .collect::<Result<Vec<f64>, _>>()
                        .map_err(|e| e.to_string())?;
                Some(Weighted::new(&weights, cumulative).map_err(|e| e.to_string())?)
            }
            _ => None,
        };
        Ok(Sampler {
            rng: Rng::new(SEED),
            kind: f.sampling,
            order: vec![0; f.n],
            next: f.n,
            weighted,
        })
    }

    fn draw(&mut self) -> usize {
        match (self.kind, &self.weighted) {
            (Sampling::Lipschitz, Some(w)) => w.sample(&mut self.rng),
            (Sampling::Permutation, _) => {
                if self.next >= self.order.len() {
                    // A length that does not fit in u32 was refused by the
                    // allocation of x long before.
                    let _ = self.rng.shuffle(&mut self.order);
                    self.next = 0;
                }
                self.next += 1;
                self.order.get(self.next - 1).map_or(0, |&i| i as usize)
            }
            _ => self.rng.below(self.order.len()),
        }
    }
}

/// The data in the run's precision, and the loss gradient of one sample.
struct Problem<T> {
    x: Vec<T>,
    y: Vec<f64>,
    d: usize,
    loss: Loss,
    buf: Vec<T>,
}

impl<T: Float> Problem<T> {
    fn row(&self, i: usize) -> &[T] {
        self.x.get(i * self.d..(i + 1) * self.d).unwrap_or(&[])
    }

    /// `φ'(x_i·w)`, in f64 from the run's values.
    fn scalar(&self, i: usize, w: &[T]) -> f64 {
        let t: f64 = self
            .row(i)
            .iter()
            .zip(w)
            .map(|(a, b)| a.to_f64() * b.to_f64())
            .sum();
        self.loss
            .derivative(t, self.y.get(i).copied().unwrap_or(0.0))
    }

    /// The dense loss gradient of sample `i` at `w`.
    fn gradient(&mut self, i: usize, w: &[T]) -> Sample<'_, T> {
        let s = T::from_f64(self.scalar(i, w));
        let start = i * self.d;
        self.buf.clear();
        let row = self.x.get(start..start + self.d).unwrap_or(&[]);
        self.buf.extend(row.iter().map(|&a| s * a));
        Sample::Dense(&self.buf)
    }
}

/// The objective at `w`, in f64.
pub fn objective(f: &Fixture, w: &[f64]) -> f64 {
    let mut sum = 0.0;
    for (row, &y) in f.x.chunks_exact(f.d).zip(&f.y) {
        let t: f64 = row.iter().zip(w).map(|(a, b)| a * b).sum();
        sum += f.loss.value(t, y);
    }
    let sq: f64 = w.iter().map(|v| v * v).sum();
    let abs: f64 = w.iter().map(|v| v.abs()).sum();
    sum / f.n as f64 + 0.5 * f.l2 * sq + f.l1 * abs
}

/// Runs the fixture's method in precision `T`; the final `w` in f64.
pub fn run<T: Float>(f: &Fixture) -> Result<Vec<f64>, String> {
    let mut cumulative = vec![0.0; f.n];
    let mut sampler = Sampler::new(f, &mut cumulative)?;
    let mut p = Problem::<T> {
        x: f.x.iter().map(|&v| T::from_f64(v)).collect(),
        y: f.y.clone(),
        d: f.d,
        loss: f.loss,
        buf: Vec::with_capacity(f.d),
    };
    let shape = Shape {
        n: f.n,
        d: f.d,
        form: TableForm::Dense,
    };
    let regularizer = Regularizer { l2: f.l2, l1: f.l1 };
    let step_size = f.step_size;
    let mut w = vec![T::ZERO; f.d];
    let e = |e: freestep::Error| e.to_string();
    let steps = f.epochs * f.n;
    match f.optimizer.as_str() {
        "saga" => {
            let mut m = Saga::new(
                SagaConfig {
                    step_size,
                    regularizer,
                },
                shape,
            )
            .map_err(e)?;
            let mut state = vec![T::ZERO; m.state_len()];
            for _ in 0..steps {
                let i = sampler.draw();
                let g = p.gradient(i, &w);
                m.step(&mut w, &mut state, i, g).map_err(e)?;
            }
        }
        "sag" => {
            let config = SagConfig {
                step_size,
                l2: f.l2,
            };
            let mut m = Sag::new(config, shape).map_err(e)?;
            let mut state = vec![T::ZERO; m.state_len()];
            for _ in 0..steps {
                let i = sampler.draw();
                let g = p.gradient(i, &w);
                m.step(&mut w, &mut state, i, g).map_err(e)?;
            }
        }
        "svrg" => run_svrg(f, &mut p, &mut sampler, &mut w, shape).map_err(e)?,
        "finito" => {
            let config = FinitoConfig {
                step_size,
                l2: f.l2,
            };
            let mut m = Finito::new(config, shape).map_err(e)?;
            let mut state = vec![T::ZERO; m.state_len()];
            m.begin(&w, &mut state).map_err(e)?;
            let w0 = w.clone();
            for i in 0..f.n {
                let g = p.gradient(i, &w0);
                m.fill(&mut w, &mut state, i, g).map_err(e)?;
            }
            for _ in 0..steps {
                let i = sampler.draw();
                let g = p.gradient(i, &w);
                m.step(&mut w, &mut state, i, g).map_err(e)?;
            }
        }
        _ => {
            let config = PointSagaConfig {
                step_size,
                l2: f.l2,
                loss: f.loss,
            };
            let mut m = PointSaga::new(config, shape).map_err(e)?;
            let mut state = vec![T::ZERO; m.state_len()];
            for _ in 0..steps {
                let i = sampler.draw();
                let y = p.y.get(i).copied().unwrap_or(0.0);
                m.step(&mut w, &mut state, i, p.row(i), y).map_err(e)?;
            }
        }
    }
    Ok(w.iter().map(|v| v.to_f64()).collect())
}

fn run_svrg<T: Float>(
    f: &Fixture,
    p: &mut Problem<T>,
    sampler: &mut Sampler,
    w: &mut [T],
    shape: Shape,
) -> Result<(), freestep::Error> {
    let config = SvrgConfig {
        step_size: f.step_size,
        regularizer: Regularizer { l2: f.l2, l1: f.l1 },
    };
    let mut m = Svrg::new(config, shape)?;
    let mut state = vec![T::ZERO; m.state_len()];
    let mut at_snapshot = Vec::with_capacity(f.d);
    for _ in 0..f.epochs {
        m.begin_snapshot(w, &mut state)?;
        let snapshot = w.to_vec();
        for i in 0..f.n {
            m.add_snapshot_gradient(&mut state, i, p.gradient(i, &snapshot))?;
        }
        for _ in 0..f.inner_steps {
            let i = sampler.draw();
            at_snapshot.clear();
            if let Sample::Dense(g) = p.gradient(i, &snapshot) {
                at_snapshot.extend_from_slice(g);
            }
            let at_w = p.gradient(i, w);
            m.step(w, &mut state, i, at_w, Sample::Dense(&at_snapshot))?;
        }
    }
    Ok(())
}

/// The relative suboptimality of a run's final `w`.
pub fn subopt(f: &Fixture, w: &[f64]) -> f64 {
    (objective(f, w) - f.f_star) / f.f_star.abs().max(1.0)
}
