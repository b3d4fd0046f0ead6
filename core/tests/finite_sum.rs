//! The finite-sum methods against optima computed here, independently of
//! the code under test: Newton's method for L2 logistic regression, the
//! normal equations for ridge regression, proximal gradient run to its
//! fixed point for the lasso; and the properties every method must have
//! (the compact table gives the dense table's bits, refusals change
//! nothing).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use freestep::finite_sum::finito::{Finito, FinitoConfig};
use freestep::finite_sum::point_saga::{PointSaga, PointSagaConfig};
use freestep::finite_sum::polyak::{Sps, SpsConfig};
use freestep::finite_sum::prox::Loss;
use freestep::finite_sum::sag::{Sag, SagConfig};
use freestep::finite_sum::saga::{Saga, SagaConfig};
use freestep::finite_sum::sampling::{Rng, Weighted};
use freestep::finite_sum::svrg::{Svrg, SvrgConfig};
use freestep::finite_sum::{theory, Regularizer, Sample, Shape, TableForm};
use freestep::Error;

/// A data set: `n` rows of `d` features, row-major, and labels.
struct Data {
    x: Vec<f64>,
    y: Vec<f64>,
    n: usize,
    d: usize,
}

impl Data {
    /// Gaussian-ish features (sums of uniforms), labels from a linear model
    /// with noise: `±1` for classification, real for regression.
    fn new(n: usize, d: usize, classify: bool, seed: u64) -> Data {
        let mut rng = Rng::new(seed);
        let mut normal = || (0..4).map(|_| rng.next_f64() - 0.5).sum::<f64>();
        let truth: Vec<f64> = (0..d).map(|k| if k % 3 == 0 { 0.0 } else { 1.0 }).collect();
        let mut x = Vec::with_capacity(n * d);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let row: Vec<f64> = (0..d).map(|_| normal()).collect();
            let t: f64 = row.iter().zip(&truth).map(|(a, b)| a * b).sum::<f64>() + normal();
            y.push(if classify { t.signum() } else { t });
            x.extend(row);
        }
        Data { x, y, n, d }
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    fn margin(&self, i: usize, w: &[f64]) -> f64 {
        self.row(i).iter().zip(w).map(|(a, b)| a * b).sum()
    }
}

/// The loss derivative, written here from the definitions.
fn dloss(loss: Loss, t: f64, y: f64) -> f64 {
    match loss {
        Loss::Squared => t - y,
        Loss::Logistic => -y / (1.0 + (y * t).exp()),
        Loss::Hinge => unreachable!(),
    }
}

fn objective(loss: Loss, data: &Data, l2: f64, l1: f64, w: &[f64]) -> f64 {
    let mut sum = 0.0;
    for i in 0..data.n {
        let (t, y) = (data.margin(i, w), data.y[i]);
        sum += match loss {
            Loss::Squared => 0.5 * (t - y) * (t - y),
            Loss::Logistic => (1.0 + (-y * t).exp()).ln(),
            Loss::Hinge => unreachable!(),
        };
    }
    let sq: f64 = w.iter().map(|v| v * v).sum();
    let abs: f64 = w.iter().map(|v| v.abs()).sum();
    sum / data.n as f64 + 0.5 * l2 * sq + l1 * abs
}

/// The gradient of the mean loss plus the l2 term.
fn full_gradient(loss: Loss, data: &Data, l2: f64, w: &[f64]) -> Vec<f64> {
    let mut g: Vec<f64> = w.iter().map(|v| l2 * v).collect();
    for i in 0..data.n {
        let s = dloss(loss, data.margin(i, w), data.y[i]) / data.n as f64;
        for (gk, a) in g.iter_mut().zip(data.row(i)) {
            *gk += s * a;
        }
    }
    g
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let d = b.len();
    for c in 0..d {
        let p = (c..d)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..d {
            let f = a[r][c] / a[c][c];
            let pivot = a[c].clone();
            for (x, p) in a[r].iter_mut().zip(&pivot).skip(c) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; d];
    for r in (0..d).rev() {
        let s: f64 = (r + 1..d).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    x
}

/// The Hessian of the mean loss plus the l2 term.
fn hessian(loss: Loss, data: &Data, l2: f64, w: &[f64]) -> Vec<Vec<f64>> {
    let d = data.d;
    let mut h = vec![vec![0.0; d]; d];
    for (k, row) in h.iter_mut().enumerate() {
        row[k] = l2;
    }
    for i in 0..data.n {
        let curvature = match loss {
            Loss::Squared => 1.0,
            Loss::Logistic => {
                let s = 1.0 / (1.0 + (-data.margin(i, w)).exp());
                s * (1.0 - s)
            }
            Loss::Hinge => unreachable!(),
        } / data.n as f64;
        let a = data.row(i);
        for r in 0..d {
            for c in 0..d {
                h[r][c] += curvature * a[r] * a[c];
            }
        }
    }
    h
}

/// The optimum by Newton's method, to a gradient norm below 1e-14 (for the
/// squared loss one step: the normal equations).
fn newton(loss: Loss, data: &Data, l2: f64) -> Vec<f64> {
    let mut w = vec![0.0; data.d];
    for _ in 0..50 {
        let g = full_gradient(loss, data, l2, &w);
        if g.iter().map(|v| v * v).sum::<f64>().sqrt() < 1e-14 {
            break;
        }
        let step = solve(hessian(loss, data, l2, &w), g);
        for (wk, s) in w.iter_mut().zip(step) {
            *wk -= s;
        }
    }
    w
}

fn subopt(loss: Loss, data: &Data, l2: f64, l1: f64, w: &[f64], f_star: f64) -> f64 {
    (objective(loss, data, l2, l1, w) - f_star) / f_star.abs().max(1.0)
}

/// The loss gradient of sample `i` at `w`, in the form of `form`.
fn sample<'a>(
    loss: Loss,
    data: &'a Data,
    i: usize,
    w: &[f64],
    form: TableForm,
    buf: &'a mut Vec<f64>,
) -> Sample<'a, f64> {
    let s = dloss(loss, data.margin(i, w), data.y[i]);
    match form {
        TableForm::Linear => Sample::Linear {
            row: data.row(i),
            scalar: s,
        },
        TableForm::Dense => {
            buf.clear();
            buf.extend(data.row(i).iter().map(|a| s * a));
            Sample::Dense(buf)
        }
    }
}

fn shape(data: &Data, form: TableForm) -> Shape {
    Shape {
        n: data.n,
        d: data.d,
        form,
    }
}

fn lmax(loss: Loss, data: &Data, l2: f64) -> f64 {
    theory::lipschitz(loss, &data.x, data.d, l2).unwrap().0
}

struct Run {
    loss: Loss,
    l2: f64,
    l1: f64,
    epochs: usize,
    form: TableForm,
}

fn run_saga(data: &Data, r: &Run, step: f64) -> Vec<f64> {
    let config = SagaConfig {
        step_size: step,
        regularizer: Regularizer { l2: r.l2, l1: r.l1 },
    };
    let mut m = Saga::new(config, shape(data, r.form)).unwrap();
    let mut state = vec![0.0; m.state_len()];
    let (mut w, mut buf, mut rng) = (vec![0.0; data.d], Vec::new(), Rng::new(7));
    for _ in 0..r.epochs * data.n {
        let i = rng.below(data.n);
        let s = sample(r.loss, data, i, &w, r.form, &mut buf);
        m.step(&mut w, &mut state, i, s).unwrap();
    }
    w
}

fn run_sag(data: &Data, r: &Run, step: f64, weights: Option<&[f64]>) -> Vec<f64> {
    let config = SagConfig {
        step_size: step,
        l2: r.l2,
    };
    let mut m = Sag::new(config, shape(data, r.form)).unwrap();
    let mut state = vec![0.0; m.state_len()];
    let (mut w, mut buf, mut rng) = (vec![0.0; data.d], Vec::new(), Rng::new(8));
    let mut cumulative = vec![0.0; data.n];
    let weighted = weights.map(|w| Weighted::new(w, &mut cumulative).unwrap());
    for _ in 0..r.epochs * data.n {
        let i = match &weighted {
            Some(s) => s.sample(&mut rng),
            None => rng.below(data.n),
        };
        let s = sample(r.loss, data, i, &w, r.form, &mut buf);
        m.step(&mut w, &mut state, i, s).unwrap();
    }
    w
}

fn run_svrg(data: &Data, r: &Run, step: f64) -> Vec<f64> {
    let config = SvrgConfig {
        step_size: step,
        regularizer: Regularizer { l2: r.l2, l1: r.l1 },
    };
    let mut m = Svrg::new(config, shape(data, r.form)).unwrap();
    let mut state = vec![0.0; m.state_len()];
    let (mut w, mut rng) = (vec![0.0; data.d], Rng::new(9));
    let (mut b1, mut b2) = (Vec::new(), Vec::new());
    for _ in 0..r.epochs {
        m.begin_snapshot(&w, &mut state).unwrap();
        let snap = w.clone();
        for i in 0..data.n {
            let s = sample(r.loss, data, i, &snap, r.form, &mut b1);
            m.add_snapshot_gradient(&mut state, i, s).unwrap();
        }
        for _ in 0..data.n {
            let i = rng.below(data.n);
            let at_w = sample(r.loss, data, i, &w, r.form, &mut b1);
            let at_snap = sample(r.loss, data, i, &snap, r.form, &mut b2);
            m.step(&mut w, &mut state, i, at_w, at_snap).unwrap();
        }
    }
    w
}

fn run_finito(data: &Data, r: &Run, alpha: f64) -> Vec<f64> {
    let config = FinitoConfig {
        step_size: theory::finito(alpha, r.l2, data.n).unwrap(),
        l2: r.l2,
    };
    let mut m = Finito::new(config, shape(data, r.form)).unwrap();
    let mut state = vec![0.0; m.state_len()];
    let (mut w, mut buf, mut rng) = (vec![0.0; data.d], Vec::new(), Rng::new(10));
    m.begin(&w, &mut state).unwrap();
    let w0 = w.clone();
    for i in 0..data.n {
        let s = sample(r.loss, data, i, &w0, r.form, &mut buf);
        m.fill(&mut w, &mut state, i, s).unwrap();
    }
    let mut order = vec![0u32; data.n];
    for _ in 0..r.epochs {
        rng.shuffle(&mut order).unwrap();
        for &i in &order {
            let i = i as usize;
            let s = sample(r.loss, data, i, &w, r.form, &mut buf);
            m.step(&mut w, &mut state, i, s).unwrap();
        }
    }
    w
}

fn run_point_saga(data: &Data, r: &Run, step: f64) -> Vec<f64> {
    let config = PointSagaConfig {
        step_size: step,
        l2: r.l2,
        loss: r.loss,
    };
    let mut m = PointSaga::new(config, shape(data, TableForm::Dense)).unwrap();
    let mut state = vec![0.0; m.state_len()];
    let (mut w, mut rng) = (vec![0.0; data.d], Rng::new(11));
    for _ in 0..r.epochs * data.n {
        let i = rng.below(data.n);
        m.step(&mut w, &mut state, i, data.row(i), data.y[i])
            .unwrap();
    }
    w
}

const LOGISTIC: Run = Run {
    loss: Loss::Logistic,
    l2: 0.1,
    l1: 0.0,
    epochs: 60,
    form: TableForm::Dense,
};

#[test]
fn every_method_reaches_the_newton_optimum_of_l2_logistic_regression() {
    let data = Data::new(60, 6, true, 1);
    let r = &LOGISTIC;
    let w_star = newton(r.loss, &data, r.l2);
    let f_star = objective(r.loss, &data, r.l2, 0.0, &w_star);
    let (l, mean_l) = theory::lipschitz(r.loss, &data.x, data.d, r.l2).unwrap();
    let lipschitz: Vec<f64> = (0..data.n)
        .map(|i| theory::sample_lipschitz(r.loss, data.row(i), r.l2).unwrap())
        .collect();
    let runs = [
        ("saga", run_saga(&data, r, theory::saga(l).unwrap())),
        ("sag", run_sag(&data, r, theory::sag(l).unwrap(), None)),
        (
            "sag-lipschitz",
            run_sag(&data, r, theory::sag(mean_l).unwrap(), Some(&lipschitz)),
        ),
        ("svrg", run_svrg(&data, r, theory::saga(l).unwrap())),
        ("finito", run_finito(&data, r, 2.0)),
        (
            "point-saga",
            run_point_saga(&data, r, theory::point_saga(l, r.l2, data.n).unwrap()),
        ),
    ];
    for (name, w) in runs {
        let s = subopt(r.loss, &data, r.l2, 0.0, &w, f_star);
        assert!(
            (0.0..=1e-10).contains(&s.max(0.0)) && s > -1e-14,
            "{name}: {s:e}"
        );
    }
}

#[test]
fn ridge_regression_matches_the_normal_equations() {
    let data = Data::new(50, 5, false, 2);
    let r = Run {
        loss: Loss::Squared,
        l2: 0.5,
        ..LOGISTIC
    };
    // (XᵀX / n + l2 I) w = Xᵀy / n, assembled from the data here.
    let d = data.d;
    let mut a = vec![vec![0.0; d]; d];
    let mut b = vec![0.0; d];
    for i in 0..data.n {
        let row = data.row(i);
        for p in 0..d {
            b[p] += row[p] * data.y[i] / data.n as f64;
            for q in 0..d {
                a[p][q] += row[p] * row[q] / data.n as f64;
            }
        }
    }
    for (p, row) in a.iter_mut().enumerate() {
        row[p] += r.l2;
    }
    let closed = solve(a, b);
    let l = lmax(r.loss, &data, r.l2);
    let runs = [
        run_saga(&data, &r, theory::saga(l).unwrap()),
        run_sag(&data, &r, theory::sag(l).unwrap(), None),
        run_svrg(&data, &r, theory::saga(l).unwrap()),
        run_point_saga(&data, &r, theory::point_saga(l, r.l2, data.n).unwrap()),
    ];
    for w in runs {
        for (a, b) in w.iter().zip(&closed) {
            assert!((a - b).abs() < 1e-9, "{w:?} vs {closed:?}");
        }
    }
}

/// Proximal gradient descent on the whole lasso objective, run until it no
/// longer moves: the independent solver of the support test.
fn ista(data: &Data, l1: f64) -> Vec<f64> {
    let l = {
        // The full gradient's Lipschitz constant is at most the largest
        // sample's; a safe step for gradient descent.
        lmax(Loss::Squared, data, 0.0)
    };
    let mut w = vec![0.0; data.d];
    for _ in 0..200_000 {
        let g = full_gradient(Loss::Squared, data, 0.0, &w);
        let next: Vec<f64> = w
            .iter()
            .zip(&g)
            .map(|(wk, gk)| {
                let v = wk - gk / l;
                v.signum() * (v.abs() - l1 / l).max(0.0)
            })
            .collect();
        if next == w {
            break;
        }
        w = next;
    }
    w
}

#[test]
fn l1_saga_finds_the_support_of_proximal_gradient() {
    let data = Data::new(80, 9, false, 3);
    let l1 = 0.15;
    let reference = ista(&data, l1);
    let r = Run {
        loss: Loss::Squared,
        l2: 0.0,
        l1,
        epochs: 200,
        form: TableForm::Dense,
    };
    let w = run_saga(&data, &r, theory::saga(lmax(r.loss, &data, 0.0)).unwrap());
    let support = |w: &[f64]| w.iter().map(|v| *v != 0.0).collect::<Vec<_>>();
    assert_eq!(support(&w), support(&reference), "{w:?} vs {reference:?}");
    // The problem must be one where the penalty removes some features.
    assert!(support(&reference).iter().any(|s| !s));
    assert!(support(&reference).iter().any(|s| *s));
    let f_ref = objective(r.loss, &data, 0.0, l1, &reference);
    assert!(subopt(r.loss, &data, 0.0, l1, &w, f_ref).abs() < 1e-10);
}

#[test]
fn the_compact_table_gives_the_dense_tables_bits() {
    let data = Data::new(30, 4, true, 4);
    let dense = Run {
        epochs: 5,
        l1: 0.01,
        ..LOGISTIC
    };
    let compact = Run {
        form: TableForm::Linear,
        ..dense
    };
    let bits = |w: Vec<f64>| w.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let l = lmax(dense.loss, &data, dense.l2);
    assert_eq!(
        bits(run_saga(&data, &dense, 0.1)),
        bits(run_saga(&data, &compact, 0.1))
    );
    let sag = Run { l1: 0.0, ..dense };
    let sag_compact = Run { l1: 0.0, ..compact };
    assert_eq!(
        bits(run_sag(&data, &sag, 1.0 / l, None)),
        bits(run_sag(&data, &sag_compact, 1.0 / l, None))
    );
    assert_eq!(
        bits(run_svrg(&data, &dense, 0.1)),
        bits(run_svrg(&data, &compact, 0.1))
    );
    assert_eq!(
        bits(run_finito(&data, &sag, 2.0)),
        bits(run_finito(&data, &sag_compact, 2.0))
    );
    // And the compact table is n values, not n·d.
    let sh = shape(&data, TableForm::Linear);
    assert_eq!(Saga::state_len_for(sh).unwrap(), data.d + data.n);
}

/// Calls `f` and checks that it is refused with `error` and changes
/// neither `w` nor `state`.
fn refused(
    w: &mut [f64],
    state: &mut [f64],
    error: Error,
    f: impl FnOnce(&mut [f64], &mut [f64]) -> Result<(), Error>,
) {
    let (w0, s0) = (w.to_vec(), state.to_vec());
    assert_eq!(f(w, state), Err(error));
    assert_eq!(w, &w0[..]);
    assert_eq!(state, &s0[..]);
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let data = Data::new(10, 3, true, 5);
    let config = SagaConfig {
        step_size: 0.1,
        regularizer: Regularizer { l2: 0.1, l1: 0.0 },
    };
    let mut saga = Saga::new(config, shape(&data, TableForm::Dense)).unwrap();
    let mut state = vec![0.0; saga.state_len()];
    let mut w = vec![0.5; 3];
    // Warm the table so that "unchanged" is not just "still zero".
    for i in 0..10 {
        let g: Vec<f64> = data.row(i).iter().map(|a| 0.3 * a).collect();
        saga.step(&mut w, &mut state, i, Sample::Dense(&g)).unwrap();
    }
    let g = [0.1, 0.2, 0.3];
    let nan = [0.1, f64::NAN, 0.3];
    let row = data.row(0).to_vec();
    let mut s = saga.clone();
    refused(&mut w, &mut state, Error::SampleIndex, |w, st| {
        s.step(w, st, 10, Sample::Dense(&g))
    });
    refused(&mut w, &mut state, Error::NonFiniteGradient, |w, st| {
        s.step(w, st, 1, Sample::Dense(&nan))
    });
    refused(&mut w, &mut state, Error::Length, |w, st| {
        s.step(w, st, 1, Sample::Dense(&g[..2]))
    });
    refused(&mut w, &mut state, Error::TableForm, |w, st| {
        s.step(
            w,
            st,
            1,
            Sample::Linear {
                row: &row,
                scalar: 0.5,
            },
        )
    });
    let mut short = state[..state.len() - 1].to_vec();
    let mut w2 = w.clone();
    refused(&mut w2, &mut short, Error::TableLength, |w, st| {
        s.step(w, st, 1, Sample::Dense(&g))
    });

    // SVRG refuses an inner step before its snapshot is complete, and a
    // snapshot sample out of order.
    let sv = SvrgConfig {
        step_size: 0.1,
        regularizer: Regularizer::default(),
    };
    let mut svrg = Svrg::new(sv, shape(&data, TableForm::Linear)).unwrap();
    let mut st = vec![0.0; svrg.state_len()];
    svrg.begin_snapshot(&w, &mut st).unwrap();
    let lin = Sample::Linear {
        row: &row,
        scalar: 0.5,
    };
    svrg.add_snapshot_gradient(&mut st, 0, lin).unwrap();
    refused(&mut w, &mut st, Error::NotReady, |w, st| {
        svrg.step(w, st, 0, lin, lin)
    });
    refused(&mut w, &mut st, Error::SampleIndex, |_, st| {
        svrg.add_snapshot_gradient(st, 2, lin)
    });
    let nan_lin = Sample::Linear {
        row: &row,
        scalar: f64::NAN,
    };
    refused(&mut w, &mut st, Error::NonFiniteGradient, |_, st| {
        svrg.add_snapshot_gradient(st, 1, nan_lin)
    });

    // Point-SAGA refuses a NaN label and a compact shape.
    let pc = PointSagaConfig {
        step_size: 0.1,
        l2: 0.1,
        loss: Loss::Logistic,
    };
    assert_eq!(
        PointSaga::new(pc, shape(&data, TableForm::Linear)).err(),
        Some(Error::TableForm)
    );
    let mut ps = PointSaga::new(pc, shape(&data, TableForm::Dense)).unwrap();
    let mut st = vec![0.25; ps.state_len()];
    refused(&mut w, &mut st, Error::NonFiniteGradient, |w, st| {
        ps.step(w, st, 0, &row, f64::NAN)
    });
    refused(&mut w, &mut st, Error::SampleIndex, |w, st| {
        ps.step(w, st, 10, &row, 1.0)
    });

    // Bad hyperparameters are refused by name.
    let bad = SagaConfig {
        step_size: -1.0,
        ..config
    };
    assert_eq!(
        Saga::new(bad, shape(&data, TableForm::Dense)).err(),
        Some(Error::InvalidHyperparameter("step_size"))
    );
}

#[test]
fn a_new_snapshot_mean_has_nothing_of_the_old_one() {
    let data = Data::new(12, 3, true, 6);
    let r = Run {
        epochs: 1,
        ..LOGISTIC
    };
    let config = SvrgConfig {
        step_size: 0.05,
        regularizer: Regularizer { l2: r.l2, l1: 0.0 },
    };
    let mut m = Svrg::new(config, shape(&data, TableForm::Dense)).unwrap();
    let mut state = vec![0.0; m.state_len()];
    let mut w = vec![0.0; 3];
    let mut buf = Vec::new();
    for round in 0..3 {
        m.begin_snapshot(&w, &mut state).unwrap();
        assert!(!m.ready());
        let snap = w.clone();
        for i in 0..data.n {
            let s = sample(r.loss, &data, i, &snap, r.form, &mut buf);
            m.add_snapshot_gradient(&mut state, i, s).unwrap();
        }
        // The mean equals the mean loss gradient at the snapshot, computed
        // here from scratch.
        let expect = full_gradient(r.loss, &data, 0.0, &snap);
        for (a, b) in state[3..].iter().zip(&expect) {
            assert!((a - b).abs() < 1e-15, "round {round}");
        }
        let mut b2 = Vec::new();
        for i in 0..data.n {
            let at_w = sample(r.loss, &data, i, &w, r.form, &mut buf);
            let at_s = sample(r.loss, &data, i, &snap, r.form, &mut b2);
            m.step(&mut w, &mut state, i, at_w, at_s).unwrap();
        }
        assert_ne!(w, snap);
    }
}

#[test]
fn the_per_sample_prox_satisfies_its_optimality_condition() {
    // x = prox_{γ f}(z) for f(x) = φ(a·x) + (μ/2)||x||² iff
    // (z - x)/γ ∈ ∂f(x) = φ'(a·x) a + μ x: check it through Point-SAGA's
    // first step from a zero table, where z = w and the new table entry is
    // (z - x)/γ.
    let row = [0.8, -1.5, 2.0];
    for (loss, label) in [
        (Loss::Logistic, 1.0),
        (Loss::Logistic, -1.0),
        (Loss::Squared, 0.7),
    ] {
        for gamma in [1e-3, 0.3, 50.0] {
            let config = PointSagaConfig {
                step_size: gamma,
                l2: 0.2,
                loss,
            };
            let sh = Shape {
                n: 1,
                d: 3,
                form: TableForm::Dense,
            };
            let mut m = PointSaga::new(config, sh).unwrap();
            let mut state = vec![0.0; m.state_len()];
            let z = [0.3, 0.1, -0.4];
            let mut x = z;
            m.step(&mut x, &mut state, 0, &row, label).unwrap();
            let t: f64 = row.iter().zip(&x).map(|(a, b)| a * b).sum();
            for k in 0..3 {
                let lhs = (z[k] - x[k]) / gamma;
                let rhs = dloss(loss, t, label) * row[k] + 0.2 * x[k];
                assert!(
                    (lhs - rhs).abs() < 1e-13 * (1.0 + rhs.abs()),
                    "{loss:?} {gamma}"
                );
            }
        }
    }
}

#[test]
fn the_hinge_prox_covers_its_three_cases() {
    // For f(x) = max(0, 1 - y a·x) with a = (1, 0), y = 1, γ = 0.5 and no
    // l2, the prox moves x₁ by γ towards the kink at x₁ = 1 and stops there.
    let config = PointSagaConfig {
        step_size: 0.5,
        l2: 0.0,
        loss: Loss::Hinge,
    };
    let sh = Shape {
        n: 1,
        d: 2,
        form: TableForm::Dense,
    };
    for (z1, expect) in [(2.0, 2.0), (0.0, 0.5), (0.8, 1.0)] {
        let mut m = PointSaga::new(config, sh).unwrap();
        let mut state = vec![0.0; m.state_len()];
        let mut x = [z1, 7.0];
        m.step(&mut x, &mut state, 0, &[1.0, 0.0], 1.0).unwrap();
        assert_eq!(x, [expect, 7.0], "z1 = {z1}");
    }
}

#[test]
fn sampling_helpers_draw_what_they_promise() {
    let mut rng = Rng::new(42);
    let mut order = vec![0u32; 100];
    let mut first = Vec::new();
    for _ in 0..3 {
        rng.shuffle(&mut order).unwrap();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<u32>>());
        first.push(order[0]);
    }
    assert!(first.windows(2).any(|p| p[0] != p[1]));
    // Weighted sampling: frequencies within 4 standard deviations of the
    // weights' proportions; a zero weight is never drawn.
    let weights = [1.0, 0.0, 3.0, 6.0];
    let mut cumulative = [0.0; 4];
    let sampler = Weighted::new(&weights, &mut cumulative).unwrap();
    let draws = 100_000;
    let mut counts = [0usize; 4];
    for _ in 0..draws {
        counts[sampler.sample(&mut rng)] += 1;
    }
    for (c, w) in counts.iter().zip(weights) {
        let p = w / 10.0;
        let sd = (draws as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (*c as f64 - draws as f64 * p).abs() <= 4.0 * sd + 1e-9,
            "{counts:?}"
        );
    }
    assert!((0..1000).all(|_| rng.below(7) < 7));
    let mut bad = [0.0; 2];
    assert!(Weighted::new(&[1.0, -1.0], &mut bad).is_err());
    assert_eq!(bad, [0.0; 2]);
}

#[test]
fn theory_steps_follow_their_formulas() {
    // Point-SAGA's γ solves the paper's quadratic: with L = 2, μ = 0.5,
    // n = 4, γ = (√(9 + 64) - 3) / 16.
    let g = theory::point_saga(2.0, 0.5, 4).unwrap();
    assert!((g - (73f64.sqrt() - 3.0) / 16.0).abs() < 1e-15);
    assert_eq!(theory::saga(2.0).unwrap(), 1.0 / 6.0);
    assert_eq!(theory::finito(2.0, 0.5, 4).unwrap(), 0.25);
    let l = theory::sample_lipschitz(Loss::Logistic, &[2.0f64, 0.0], 0.1).unwrap();
    assert!((l - 1.1).abs() < 1e-15);
    assert!(theory::saga(0.0).is_err());
}

/// SPS on least squares, `f_i(w) = (x_i·w - y_i)²/2` with `f_i* = 0`:
/// returns the final `w`.
fn run_sps(data: &Data, epochs: usize, config: SpsConfig) -> Vec<f64> {
    let sps = Sps::new(config, data.d).unwrap();
    let (mut w, mut rng) = (vec![0.0; data.d], Rng::new(12));
    for _ in 0..epochs * data.n {
        let i = rng.below(data.n);
        let r = data.margin(i, &w) - data.y[i];
        let sample = Sample::Linear {
            row: data.row(i),
            scalar: r,
        };
        sps.step(&mut w, 0.5 * r * r, sample).unwrap();
    }
    w
}

#[test]
fn sps_reaches_the_optimum_when_the_model_interpolates() {
    // Labels from the model itself, without noise: every f_i is 0 at the
    // known w*.
    let mut data = Data::new(40, 5, false, 13);
    let w_true = [0.5, -1.0, 2.0, 0.0, 1.5];
    data.y = (0..data.n).map(|i| data.margin(i, &w_true)).collect();
    let w = run_sps(&data, 200, SpsConfig::default());
    for (a, b) in w.iter().zip(&w_true) {
        assert!((a - b).abs() < 1e-10, "{w:?}");
    }
}

#[test]
fn sps_stalls_without_interpolation_where_saga_converges() {
    // Noisy labels: no w makes every f_i zero. The optimum is the least
    // squares solution; SPS keeps jumping between the samples' solutions.
    let data = Data::new(40, 5, false, 14);
    let r = Run {
        loss: Loss::Squared,
        l2: 0.0,
        l1: 0.0,
        epochs: 300,
        form: TableForm::Linear,
    };
    let w_star = newton(r.loss, &data, 0.0);
    let f_star = objective(r.loss, &data, 0.0, 0.0, &w_star);
    let sps = run_sps(&data, 300, SpsConfig::default());
    let saga = run_saga(&data, &r, theory::saga(lmax(r.loss, &data, 0.0)).unwrap());
    let (s_sps, s_saga) = (
        subopt(r.loss, &data, 0.0, 0.0, &sps, f_star),
        subopt(r.loss, &data, 0.0, 0.0, &saga, f_star),
    );
    assert!(s_sps > 1e-3, "SPS {s_sps:e}");
    assert!(s_saga < 1e-10, "SAGA {s_saga:e}");
}

#[test]
fn sps_refuses_a_nan_loss_and_caps_its_step() {
    let sps = Sps::new(SpsConfig::default(), 2).unwrap();
    let mut w = [1.0f64, 2.0];
    let g = [1.0, 1.0];
    assert_eq!(
        sps.step(&mut w, f64::NAN, Sample::Dense(&g)),
        Err(Error::NonFiniteLoss)
    );
    assert_eq!(
        sps.step(&mut w, 1.0, Sample::Dense(&g[..1])),
        Err(Error::Length)
    );
    assert_eq!(w, [1.0, 2.0]);
    // γ = (f - f*) / ||g||² = 3 / 2 here; a cap of 0.25 takes over.
    let capped = SpsConfig {
        max_step: 0.25,
        ..SpsConfig::default()
    };
    let sps_capped = Sps::new(capped, 2).unwrap();
    assert_eq!(sps.step(&mut w.clone(), 3.0, Sample::Dense(&g)), Ok(1.5));
    assert_eq!(sps_capped.step(&mut w, 3.0, Sample::Dense(&g)), Ok(0.25));
    assert_eq!(w, [0.75, 1.75]);
    // A loss below the bound takes no step.
    assert_eq!(sps.step(&mut w, -1.0, Sample::Dense(&g)), Ok(0.0));
    assert!(Sps::new(
        SpsConfig {
            c: 0.0,
            ..SpsConfig::default()
        },
        2
    )
    .is_err());
}
