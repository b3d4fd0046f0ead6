//! Mechanic over the library's rules: a first step derived by hand, the
//! refusals, `store_delta`, and descent on a quadratic.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use freestep::mechanic::{MechanicConfig, Mechanized};
use freestep::*;

fn sgd(lr: f64) -> Sgd {
    Sgd::new(SgdConfig {
        lr,
        ..Default::default()
    })
}

/// The first step, by hand. Before it the scale is `S = 0` and the
/// parameters are the reference, so `Δ = 0` and `h = 0`. Each tuner then
/// has `m_j = max(β_j · 1e-6, 0)`, `v_j = 0`, `r_j = 0`, hence
/// `s_j = (m_j s_init / J) / (0 + ε)`, and the parameters become
/// `x_ref + u S'` with the base update `u = -lr g` and `S' = Σ s_j`.
#[test]
fn first_step_by_hand() {
    let config = MechanicConfig::default();
    let mut opt = Mechanized::<f64, _>::new(sgd(0.5), 2, &[], config).unwrap();
    let mut x = [1.0, -2.0];
    let g = [0.25, 4.0];
    let mut state = vec![0.0; opt.state_len()];
    assert_eq!(state.len(), 2 * 2);
    opt.step(&mut x, &g, &mut state).unwrap();

    let betas = &config.betas[..config.n_betas];
    let j = betas.len() as f64;
    let s: Vec<f64> = betas
        .iter()
        .map(|b| (b * 1e-6) * config.s_init / j / (0.0 + config.eps))
        .collect();
    let scale: f64 = s.iter().sum();
    let want = [1.0 + (-0.5 * 0.25) * scale, -2.0 + (-0.5 * 4.0) * scale];
    for (a, b) in x.iter().zip(want) {
        assert!((a - b).abs() <= 1e-15 * b.abs(), "{a} vs {b}");
    }
    for (a, b) in opt.tuner().s().iter().zip(&s) {
        assert!((a - b).abs() <= 1e-15 * b, "{a} vs {b}");
    }
    assert_eq!(opt.tuner().iter_count(), 1);
}

/// The second step, by hand, with one beta and no `s_decay`: with
/// `S₁` the first scale, `x₁ = x₀ + u₀ S₁`, so `Δ = (x₁ - x₀)/(S₁ + ε)`,
/// `h = <Δ, g₁>`, and the tuner's update follows the module's equations.
#[test]
fn second_step_by_hand() {
    let config = MechanicConfig {
        betas: [0.9, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        n_betas: 1,
        s_decay: 0.0,
        s_init: 1e-2,
        ..Default::default()
    };
    let mut opt = Mechanized::<f64, _>::new(sgd(1.0), 1, &[], config).unwrap();
    let mut state = vec![0.0; opt.state_len()];
    let (x0, g0, g1) = (2.0, 3.0, -1.0);
    let mut x = [x0];
    opt.step(&mut x, &[g0], &mut state).unwrap();
    let (eps, beta) = (config.eps, 0.9);
    let m1 = beta * 1e-6;
    let s1 = m1 * 1e-2 / eps;
    let x1 = x0 + (-g0) * s1;
    assert!((x[0] - x1).abs() <= 1e-15 * x1.abs());

    opt.step(&mut x, &[g1], &mut state).unwrap();
    let delta = (x1 - x0) / (s1 + eps);
    let h = delta * g1;
    let m2 = (beta * m1).max(h.abs());
    let v2 = h * h;
    let r2 = (beta * 0.0 - s1 * h).max(0.0);
    let s2 = (m2 * 1e-2 + r2) / (v2.sqrt() + eps);
    let x2 = x0 + (delta + (-g1)) * s2;
    assert!((opt.tuner().s_sum() - s2).abs() <= 1e-14 * s2);
    assert!((x[0] - x2).abs() <= 1e-13 * x2.abs(), "{} vs {x2}", x[0]);
}

fn bits(xs: &[f32]) -> Vec<u32> {
    xs.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn refused_steps_change_nothing() {
    let base = Adam::new(AdamConfig::default());
    let mut opt = Mechanized::<f32, _>::new(base, 4, &[], MechanicConfig::default()).unwrap();
    let mut state = vec![0.0f32; opt.state_len()];
    let mut x = [1.0f32, -1.0, 0.5, 2.0];
    for _ in 0..3 {
        let g = x;
        opt.step(&mut x, &g, &mut state).unwrap();
    }
    let before = (bits(&x), bits(&state), opt.tuner().s_sum());
    let unchanged = |opt: &Mechanized<f32, Adam>, x: &[f32], s: &[f32]| {
        (bits(x), bits(s), opt.tuner().s_sum()) == before
    };
    let bad = [1.0f32, f32::NAN, 0.0, 0.0];
    assert_eq!(
        opt.step(&mut x, &bad, &mut state),
        Err(Error::NonFiniteGradient)
    );
    assert!(unchanged(&opt, &x, &state));
    let g = x;
    let r = opt.step_with_loss(&mut x, &g, f64::INFINITY, &mut state);
    assert_eq!(r, Err(Error::NonFiniteLoss));
    assert!(unchanged(&opt, &x, &state));
    let n = state.len();
    assert_eq!(
        opt.step(&mut x, &g, &mut state[..n - 1]),
        Err(Error::StateLength)
    );
    assert_eq!(opt.step(&mut x, &g[..3], &mut state), Err(Error::Length));
    assert!(unchanged(&opt, &x, &state));
    // A base rule that reads the loss refuses a step without one.
    let momo = Momo::new(MomoConfig::default());
    let mut m = Mechanized::<f32, _>::new(momo, 4, &[], MechanicConfig::default()).unwrap();
    let mut ms = vec![0.0f32; m.state_len()];
    assert_eq!(m.step(&mut x, &g, &mut ms), Err(Error::MissingLoss));
    assert!(unchanged(&opt, &x, &state));
    // Out-of-range tuner settings.
    for config in [
        MechanicConfig {
            n_betas: 0,
            ..Default::default()
        },
        MechanicConfig {
            eps: 0.0,
            ..Default::default()
        },
        MechanicConfig {
            s_decay: f64::NAN,
            ..Default::default()
        },
    ] {
        let r = Mechanized::<f32, _>::new(Sgd::new(SgdConfig::default()), 4, &[], config);
        assert!(matches!(r, Err(Error::InvalidHyperparameter(_))));
    }
}

/// `f(x) = ½ Σ a_i (x_i - c_i)²`: Mechanic over plain SGD at a learning
/// rate far too small to get anywhere alone finds its own scale.
#[test]
fn tunes_a_tiny_learning_rate_up() {
    let a = [1.0, 2.0, 3.0, 0.5];
    let c = [1.0, -1.0, 0.5, 2.0];
    let f = |x: &[f64]| -> f64 {
        x.iter()
            .zip(a.iter().zip(&c))
            .map(|(x, (a, c))| 0.5 * a * (x - c) * (x - c))
            .sum()
    };
    let grad = |x: &[f64]| -> Vec<f64> {
        x.iter()
            .zip(a.iter().zip(&c))
            .map(|(x, (a, c))| a * (x - c))
            .collect()
    };
    let mut plain = Optimizer::<f64, _>::new(sgd(1e-4), 4).unwrap();
    let mut x = [0.0; 4];
    for _ in 0..2000 {
        let g = grad(&x);
        plain.step(&mut x, &g, &mut []).unwrap();
    }
    let f0 = f(&[0.0; 4]);
    assert!(f(&x) > 0.5 * f0, "plain SGD: {}", f(&x));
    for store_delta in [false, true] {
        let config = MechanicConfig {
            store_delta,
            ..Default::default()
        };
        let mut opt = Mechanized::<f64, _>::new(sgd(1e-4), 4, &[], config).unwrap();
        let mut state = vec![0.0; opt.state_len()];
        assert_eq!(state.len(), 4 * (2 + store_delta as usize));
        let mut x = [0.0; 4];
        for _ in 0..2000 {
            let g = grad(&x);
            opt.step(&mut x, &g, &mut state).unwrap();
        }
        assert!(f(&x) < 1e-3 * f0, "store_delta {store_delta}: {}", f(&x));
        assert!(opt.tuner().s_sum() > 10.0);
    }
}
