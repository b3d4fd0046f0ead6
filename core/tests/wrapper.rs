//! The Schedule-Free wrapper over the library's rules: two steps derived by
//! hand, the switches, the refusals, and descent where plain SGD stalls.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use freestep::wrapper::{ScheduleFreeWrapperConfig, Wrapped};
use freestep::*;

fn sgd(lr: f64) -> Sgd {
    Sgd::new(SgdConfig {
        lr,
        ..Default::default()
    })
}

/// Over SGD at lr `η`, with `β = 0.9`:
/// - step 1: `z = x = y₀`, the base step gives `z₁ = y₀ - η g₁`; the weight
///   `η²` is the whole sum, `c = 1`, so `x₁ = z₁` and `y₁ = z₁`;
/// - step 2: `x = lerp(y₁, z₁, 1 - 1/β) = z₁`, `z₂ = z₁ - η g₂`, `c = 1/2`,
///   `x₂ = (x₁ + z₂)/2`, `y₂ = x₂ + (1 - β)(z₂ - x₂)`.
#[test]
fn two_steps_by_hand() {
    let config = ScheduleFreeWrapperConfig::default();
    let mut opt = Wrapped::<f64, _>::new(sgd(0.5), 1, &[], config).unwrap();
    let mut state = vec![0.0; opt.state_len()];
    assert_eq!(state.len(), 1);
    let (y0, g1, g2) = (2.0, 1.0, -3.0);
    let mut y = [y0];
    opt.step(&mut y, &[g1], &mut state).unwrap();
    let z1 = y0 - 0.5 * g1;
    assert_eq!((y[0], state[0]), (z1, z1));
    assert_eq!(opt.wrapper().weight_sum(), 0.25);

    opt.step(&mut y, &[g2], &mut state).unwrap();
    let z2 = z1 - 0.5 * g2;
    let x2 = (z1 + z2) / 2.0;
    let y2 = x2 + 0.1 * (z2 - x2);
    assert!((y[0] - y2).abs() <= 1e-15 * y2.abs(), "{} vs {y2}", y[0]);
    assert_eq!(state[0], z2);
    let mut x = [0.0];
    opt.eval_params(&y, &state, &mut x).unwrap();
    assert!((x[0] - x2).abs() <= 1e-15 * x2.abs());
    // The switch gives the same x, and back.
    opt.eval(&mut y, &mut state).unwrap();
    assert!((y[0] - x2).abs() <= 1e-15 * x2.abs());
    opt.train(&mut y, &mut state).unwrap();
    assert!((y[0] - y2).abs() <= 1e-14 * y2.abs());
}

/// Weight decay at `y`, first step by hand: `z ← y₀ - η λ y₀`,
/// `y ← y₀ - η λ (1 - β) y₀`, then `x = lerp(y, z, 1 - 1/β)`, the base step
/// from `z`, and with `c = 1` the result is the new `z`.
#[test]
fn weight_decay_at_y_by_hand() {
    let config = ScheduleFreeWrapperConfig {
        weight_decay_at_y: 0.1,
        ..Default::default()
    };
    let mut opt = Wrapped::<f64, _>::new(sgd(0.5), 1, &[], config).unwrap();
    let mut state = vec![0.0; opt.state_len()];
    let mut y = [2.0];
    opt.step(&mut y, &[1.0], &mut state).unwrap();
    let z = 2.0 - 0.5 * 0.1 * 2.0;
    let z1 = z - 0.5 * 1.0;
    assert!((y[0] - z1).abs() < 1e-15 && (state[0] - z1).abs() < 1e-15);
}

fn bits(xs: &[f32]) -> Vec<u32> {
    xs.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn refused_steps_change_nothing() {
    let base = Adam::new(AdamConfig::default());
    let config = ScheduleFreeWrapperConfig::default();
    let mut opt = Wrapped::<f32, _>::new(base, 3, &[], config).unwrap();
    let mut state = vec![0.0f32; opt.state_len()];
    assert_eq!(state.len(), 3 * 3);
    let mut y = [1.0f32, -1.0, 0.5];
    for _ in 0..3 {
        let g = y;
        opt.step(&mut y, &g, &mut state).unwrap();
    }
    let before = (bits(&y), bits(&state), opt.wrapper().k());
    let same = |o: &Wrapped<f32, Adam>, y: &[f32], s: &[f32]| {
        (bits(y), bits(s), o.wrapper().k()) == before
    };
    let g = y;
    let bad = [0.0f32, f32::INFINITY, 0.0];
    assert_eq!(
        opt.step(&mut y, &bad, &mut state),
        Err(Error::NonFiniteGradient)
    );
    assert_eq!(
        opt.step_with_loss(&mut y, &g, f64::NAN, &mut state),
        Err(Error::NonFiniteLoss)
    );
    assert_eq!(opt.step(&mut y, &g[..2], &mut state), Err(Error::Length));
    assert_eq!(
        opt.step(&mut y, &g, &mut state[..8]),
        Err(Error::StateLength)
    );
    assert!(same(&opt, &y, &state));
    // In eval mode a step is refused, and train() restores the bits of y
    // up to rounding.
    opt.eval(&mut y, &mut state).unwrap();
    let x = y;
    assert_eq!(opt.step(&mut y, &g, &mut state), Err(Error::EvalMode));
    assert_eq!(bits(&y), bits(&x));
    for config in [
        ScheduleFreeWrapperConfig {
            momentum: 0.0,
            ..Default::default()
        },
        ScheduleFreeWrapperConfig {
            weight_lr_power: -1.0,
            ..Default::default()
        },
    ] {
        let r = Wrapped::<f32, _>::new(sgd(0.1), 3, &[], config);
        assert!(matches!(r, Err(Error::InvalidHyperparameter(_))));
    }
}

/// On `f(x) = ½ Σ a_i (x_i - c_i)²` with noisy gradients, constant-lr SGD
/// keeps bouncing at a noise floor; its Schedule-Free average gets far
/// closer with the same lr.
#[test]
fn the_average_beats_the_iterates_under_noise() {
    let a = [1.0, 2.0, 4.0];
    let c = [1.0, -1.0, 0.5];
    let f = |x: &[f64]| -> f64 {
        x.iter()
            .zip(a.iter().zip(&c))
            .map(|(x, (a, c))| 0.5 * a * (x - c) * (x - c))
            .sum()
    };
    let mut seed = 12345u64;
    let mut noise = move || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        ((seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let lr = 0.1;
    let mut plain = Optimizer::<f64, _>::new(sgd(lr), 3).unwrap();
    let config = ScheduleFreeWrapperConfig::default();
    let mut wrapped = Wrapped::<f64, _>::new(sgd(lr), 3, &[], config).unwrap();
    let mut state = vec![0.0; wrapped.state_len()];
    let (mut xp, mut y) = ([0.0; 3], [0.0; 3]);
    let (mut fp, mut count) = (0.0, 0);
    for k in 0..4000 {
        let n: Vec<f64> = (0..3).map(|_| noise()).collect();
        let gp: Vec<f64> = (0..3).map(|i| a[i] * (xp[i] - c[i]) + n[i]).collect();
        let gy: Vec<f64> = (0..3).map(|i| a[i] * (y[i] - c[i]) + n[i]).collect();
        plain.step(&mut xp, &gp, &mut []).unwrap();
        wrapped.step(&mut y, &gy, &mut state).unwrap();
        if k >= 3000 {
            fp += f(&xp);
            count += 1;
        }
    }
    let mut x = [0.0; 3];
    wrapped.eval_params(&y, &state, &mut x).unwrap();
    let fp = fp / count as f64;
    assert!(f(&x) < 0.1 * fp, "average {} vs SGD {fp}", f(&x));
}
