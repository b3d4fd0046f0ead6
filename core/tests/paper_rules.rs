//! The rules that have no official implementation, checked against their
//! papers: steps derived by hand (each derivation is in the comment above
//! its test, and the expected numbers are computed from it here), and the
//! rates the papers prove on problems where the optimum is known.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use freestep::*;

/// `f(x) = ½ Σ a_i x_i²`: minimum 0 at 0, `L = max a`, `μ = min a`.
struct Diagonal {
    a: Vec<f64>,
}

impl Diagonal {
    fn value(&self, x: &[f64]) -> f64 {
        x.iter().zip(&self.a).map(|(x, a)| 0.5 * a * x * x).sum()
    }
    fn grad(&self, x: &[f64]) -> Vec<f64> {
        x.iter().zip(&self.a).map(|(x, a)| a * x).collect()
    }
    /// Eigenvalues spread geometrically from `mu` to `l`.
    fn spread(n: usize, mu: f64, l: f64) -> Self {
        let ratio = (l / mu).powf(1.0 / (n as f64 - 1.0));
        let a = (0..n).map(|i| mu * ratio.powi(i as i32)).collect();
        Self { a }
    }
}

fn norm_sq(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-14 * a.abs().max(b.abs()).max(1.0)
}

fn assert_all_close(got: &[f64], want: &[f64]) {
    let ok = got.len() == want.len() && got.iter().zip(want).all(|(a, b)| close(*a, *b));
    assert!(ok, "got {got:?}, want {want:?}");
}

// ---------------------------------------------------------------------
// The Polyak step size (Mishkin et al. 2024, arXiv 2403.04081).

/// Two steps on `f = ½ (x1² + 4 x2²)` from `x0 = (2, 1)`, `f* = 0`:
/// `f(x0) = ½ (4 + 4) = 4`, `g0 = (2, 4)`, `‖g0‖² = 20`, `γ0 = 4 / 20`,
/// `x1 = x0 - γ0 g0 = (1.6, 0.2)`; then `f(x1) = ½ (2.56 + 0.16) = 1.36`,
/// `g1 = (1.6, 0.8)`, `‖g1‖² = 3.2`, `γ1 = 1.36 / 3.2`, `x2 = x1 - γ1 g1`.
#[test]
fn polyak_two_steps_by_hand() {
    let q = Diagonal { a: vec![1.0, 4.0] };
    let mut opt = Optimizer::<f64, _>::new(Polyak::new(PolyakConfig::default()), 2).unwrap();
    let mut x = [2.0, 1.0];
    let (g0, f0) = (q.grad(&x), q.value(&x));
    assert_eq!((f0, norm_sq(&g0)), (4.0, 20.0));
    opt.step_with_loss(&mut x, &g0, f0, &mut []).unwrap();
    let gamma0 = 4.0 / 20.0;
    assert_all_close(&x, &[2.0 - gamma0 * 2.0, 1.0 - gamma0 * 4.0]);
    assert_eq!(opt.progress().lr, gamma0);

    let (g1, f1) = (q.grad(&x), q.value(&x));
    assert!(close(f1, 1.36) && close(norm_sq(&g1), 3.2));
    opt.step_with_loss(&mut x, &g1, f1, &mut []).unwrap();
    let gamma1 = 1.36 / 3.2;
    assert_all_close(&x, &[1.6 - gamma1 * 1.6, 0.2 - gamma1 * 0.8]);
}

/// `f* = 1` shifts the gap: `γ = (f - 1) / ‖g‖²`. A loss below `f*`, or a
/// zero gradient, takes no step; `lr` scales `γ` and `max_lr` caps it.
#[test]
fn polyak_lower_bound_cap_and_degenerate_steps() {
    let rule = |f_star, max_lr| {
        Polyak::new(PolyakConfig {
            lr: 1.0,
            f_star,
            max_lr,
        })
    };
    // g = (3, 4), ‖g‖² = 25, loss 6, f* = 1: γ = 5 / 25 = 0.2.
    let mut opt = Optimizer::<f64, _>::new(rule(1.0, f64::INFINITY), 2).unwrap();
    let mut x = [0.0, 0.0];
    opt.step_with_loss(&mut x, &[3.0, 4.0], 6.0, &mut [])
        .unwrap();
    assert_all_close(&x, &[-0.6, -0.8]);
    // Loss 0.5 < f* = 1: no step.
    opt.step_with_loss(&mut x, &[3.0, 4.0], 0.5, &mut [])
        .unwrap();
    assert_all_close(&x, &[-0.6, -0.8]);
    // A zero gradient: no step, and no NaN from 0 / 0.
    opt.step_with_loss(&mut x, &[0.0, 0.0], 6.0, &mut [])
        .unwrap();
    assert_all_close(&x, &[-0.6, -0.8]);
    // lr = 1/2 halves the step: 0.5 · 0.2 (3, 4).
    let halved = Polyak::new(PolyakConfig {
        lr: 0.5,
        f_star: 1.0,
        max_lr: f64::INFINITY,
    });
    let mut opt = Optimizer::<f64, _>::new(halved, 2).unwrap();
    let mut x = [0.0, 0.0];
    opt.step_with_loss(&mut x, &[3.0, 4.0], 6.0, &mut [])
        .unwrap();
    assert_all_close(&x, &[-0.3, -0.4]);
    // γ would be 0.2, the cap is 0.1.
    let mut opt = Optimizer::<f32, _>::new(rule(1.0, 0.1), 2).unwrap();
    let mut x = [0.0f32, 0.0];
    opt.step_with_loss(&mut x, &[3.0, 4.0], 6.0, &mut [])
        .unwrap();
    assert_eq!(x, [-0.3f32, -0.4]);
}

#[test]
fn polyak_needs_the_loss_and_refuses_bad_settings() {
    let mut opt = Optimizer::<f32, _>::new(Polyak::new(PolyakConfig::default()), 2).unwrap();
    let mut x = [1.0f32, 1.0];
    assert_eq!(
        opt.step(&mut x, &[1.0, 1.0], &mut []),
        Err(Error::MissingLoss)
    );
    let r = opt.step_with_loss(&mut x, &[1.0, 1.0], f64::NAN, &mut []);
    assert_eq!(r, Err(Error::NonFiniteLoss));
    assert_eq!((x, opt.progress().k), ([1.0, 1.0], 0));
    for (config, name) in [
        (
            PolyakConfig {
                f_star: f64::NAN,
                ..Default::default()
            },
            "f_star",
        ),
        (
            PolyakConfig {
                f_star: f64::NEG_INFINITY,
                ..Default::default()
            },
            "f_star",
        ),
        (
            PolyakConfig {
                max_lr: 0.0,
                ..Default::default()
            },
            "max_lr",
        ),
        (
            PolyakConfig {
                max_lr: f64::NAN,
                ..Default::default()
            },
            "max_lr",
        ),
    ] {
        let r = Optimizer::<f32, _>::new(Polyak::new(config), 2).map(|_| ());
        assert_eq!(r, Err(Error::InvalidHyperparameter(name)));
    }
}

/// Linear convergence with `f* = 0` on a `μ`-strongly convex, `L`-smooth
/// quadratic. With `γ = f / ‖g‖²` and convexity (`⟨g, x - x*⟩ ≥ f`):
/// `‖x+ - x*‖² = ‖x - x*‖² - 2γ⟨g, x - x*⟩ + γ²‖g‖² ≤ ‖x - x*‖² - f² / ‖g‖²`,
/// and smoothness (`‖g‖² ≤ 2L f`) with strong convexity (`f ≥ μ/2 ‖x - x*‖²`)
/// give `f² / ‖g‖² ≥ f / (2L) ≥ μ / (4L) ‖x - x*‖²`: every step shrinks
/// `‖x - x*‖²` by at least `1 - μ / (4L)`.
#[test]
fn polyak_converges_linearly_with_a_known_optimum() {
    let (mu, l) = (0.1, 10.0);
    let q = Diagonal::spread(12, mu, l);
    let mut opt = Optimizer::<f64, _>::new(Polyak::new(PolyakConfig::default()), 12).unwrap();
    let mut x: Vec<f64> = (0..12).map(|i| 1.0 - 0.15 * i as f64).collect();
    let rate = 1.0 - mu / (4.0 * l);
    for _ in 0..400 {
        let before = norm_sq(&x);
        let (g, f) = (q.grad(&x), q.value(&x));
        opt.step_with_loss(&mut x, &g, f, &mut []).unwrap();
        assert!(norm_sq(&x) <= rate * before * (1.0 + 1e-12));
    }
    assert!(q.value(&x) < 1e-12, "f = {:e}", q.value(&x));
}

// ---------------------------------------------------------------------
// Normalized gradient descent (Mishkin et al. 2024).

/// `g = (3, 4)`, `‖g‖ = 5`: the step is `η (0.6, 0.8)` whatever the scale of
/// `g`, and a zero gradient takes no step.
#[test]
fn ngd_steps_by_hand() {
    let mut opt = Optimizer::<f64, _>::new(Ngd::new(NgdConfig { lr: 0.25 }), 2).unwrap();
    let mut x = [1.0, 1.0];
    opt.step(&mut x, &[3.0, 4.0], &mut []).unwrap();
    assert_all_close(&x, &[1.0 - 0.25 * 0.6, 1.0 - 0.25 * 0.8]);
    assert_eq!(opt.progress().lr, 0.25 / 5.0);
    opt.step(&mut x, &[3e-30, 4e-30], &mut []).unwrap();
    assert_all_close(&x, &[1.0 - 0.5 * 0.6, 1.0 - 0.5 * 0.8]);
    opt.step(&mut x, &[0.0, 0.0], &mut []).unwrap();
    assert_all_close(&x, &[1.0 - 0.5 * 0.6, 1.0 - 0.5 * 0.8]);
    let r = Optimizer::<f64, _>::new(Ngd::new(NgdConfig { lr: -1.0 }), 2).map(|_| ());
    assert_eq!(r, Err(Error::InvalidHyperparameter("lr")));
}

/// On `f = ½ ‖x‖²` from `x0 = (3, 4)` (`‖x0‖ = 5`) with `η = 0.3`, NGD
/// walks straight at the optimum: `x_k = (5 - 0.3 k) (0.6, 0.8)` while
/// `5 - 0.3 k > 0`, so `x_16 = 0.2 (0.6, 0.8)`; then it steps across the
/// optimum to `-0.1 (0.6, 0.8)` and back, for ever within `η` of it.
#[test]
fn ngd_walks_to_the_optimum_and_stays_within_a_step() {
    let mut opt = Optimizer::<f64, _>::new(Ngd::new(NgdConfig { lr: 0.3 }), 2).unwrap();
    let mut x = [3.0, 4.0];
    for k in 1..=40 {
        let g = x;
        opt.step(&mut x, &g, &mut []).unwrap();
        let r = if k <= 16 {
            5.0 - 0.3 * k as f64
        } else if k % 2 == 1 {
            -0.1
        } else {
            0.2
        };
        let want = [0.6 * r, 0.8 * r];
        assert!((x[0] - want[0]).abs() < 1e-12 && (x[1] - want[1]).abs() < 1e-12);
    }
}

/// The rate of NGD with a constant `η` on a convex `L`-smooth function:
/// `‖x+ - x*‖² = ‖x - x*‖² - 2η ⟨ĝ, x - x*⟩ + η²`, `ĝ = g / ‖g‖`, so over
/// `K` steps `min_k ⟨ĝ_k, x_k - x*⟩ ≤ r = (‖x0 - x*‖² + K η²) / (2ηK)`;
/// and `⟨g, x - x*⟩ ≥ f - f*`, `‖g‖ ≤ √(2L (f - f*))` give
/// `⟨ĝ, x - x*⟩ ≥ √((f - f*) / (2L))`, so `min_k f(x_k) - f* ≤ 2L r²`.
#[test]
fn ngd_best_iterate_meets_its_rate() {
    let (mu, l) = (0.01, 1.0);
    let q = Diagonal::spread(10, mu, l);
    let x0: Vec<f64> = (0..10).map(|i| 2.0 - 0.3 * i as f64).collect();
    for (eta, k_max) in [(0.1, 200), (0.01, 5000)] {
        let mut opt = Optimizer::<f64, _>::new(Ngd::new(NgdConfig { lr: eta }), 10).unwrap();
        let mut x = x0.clone();
        let mut best = q.value(&x);
        for _ in 0..k_max {
            let g = q.grad(&x);
            let before = x.clone();
            opt.step(&mut x, &g, &mut []).unwrap();
            let moved: Vec<f64> = x.iter().zip(&before).map(|(a, b)| a - b).collect();
            assert!((norm_sq(&moved).sqrt() - eta).abs() < 1e-12);
            best = best.min(q.value(&x));
        }
        let r = (norm_sq(&x0) + k_max as f64 * eta * eta) / (2.0 * eta * k_max as f64);
        assert!(
            best <= 2.0 * l * r * r,
            "η {eta}: {best:e} > {:e}",
            2.0 * l * r * r
        );
    }
}

// ---------------------------------------------------------------------
// Nesterov's accelerated gradient method for strongly convex objectives
// (Defazio 2019, "On the Curved Geometry of Accelerated Optimization").

/// Two steps on `f = ½ (4 x1² + x2²)` with `L = 4`, `μ = 1`, so
/// `β = (2 - 1) / (2 + 1) = 1/3`, from `x0 = y0 = (1, 2)`:
/// `g0 = (4, 2)`, `y1 = x0 - g0 / 4 = (0, 1.5)`,
/// `x1 = y1 + β (y1 - y0) = (-β, 1.5 - 0.5 β)`;
/// `g1 = (4 x1_1, x1_2)`, `y2 = x1 - g1 / 4 = (0, 0.75 x1_2)`,
/// `x2 = y2 + β (y2 - y1)`.
#[test]
fn accelerated_two_steps_by_hand() {
    let q = Diagonal { a: vec![4.0, 1.0] };
    let rule = Accelerated::new(AcceleratedConfig {
        l: 4.0,
        mu: 1.0,
        lr: 1.0,
    });
    let mut opt = Optimizer::<f64, _>::new(rule, 2).unwrap();
    let (mut x, mut y) = ([1.0, 2.0], [f64::NAN; 2]);
    let beta = 1.0 / 3.0;
    assert!(close(opt.rule().beta(), beta));
    let g = q.grad(&x);
    opt.step(&mut x, &g, &mut y).unwrap();
    assert_all_close(&y, &[0.0, 1.5]);
    let x1 = [-beta, 1.5 - 0.5 * beta];
    assert_all_close(&x, &x1);
    let g = q.grad(&x);
    opt.step(&mut x, &g, &mut y).unwrap();
    let y2 = [0.0, 0.75 * x1[1]];
    assert_all_close(&y, &y2);
    assert_all_close(
        &x,
        &[y2[0] + beta * (y2[0] - 0.0), y2[1] + beta * (y2[1] - 1.5)],
    );
}

/// With `μ = L`, `β = 0`: gradient descent with step `1/L`, which solves
/// `f = L/2 ‖x‖²` in one step.
#[test]
fn accelerated_with_mu_equal_to_l_is_gradient_descent() {
    let rule = Accelerated::new(AcceleratedConfig {
        l: 2.0,
        mu: 2.0,
        lr: 1.0,
    });
    let mut opt = Optimizer::<f64, _>::new(rule, 3).unwrap();
    let (mut x, mut y) = ([1.0, -3.0, 0.5], [0.0; 3]);
    let g = [2.0, -6.0, 1.0];
    opt.step(&mut x, &g, &mut y).unwrap();
    assert_eq!((x, y), ([0.0; 3], [0.0; 3]));
    for (config, name) in [
        (
            AcceleratedConfig {
                l: 0.0,
                mu: 0.0,
                lr: 1.0,
            },
            "l",
        ),
        (
            AcceleratedConfig {
                l: 1.0,
                mu: 1.0,
                lr: -1.0,
            },
            "lr",
        ),
        (
            AcceleratedConfig {
                l: f64::INFINITY,
                mu: 1.0,
                lr: 1.0,
            },
            "l",
        ),
        (
            AcceleratedConfig {
                l: 1.0,
                mu: 0.0,
                lr: 1.0,
            },
            "mu",
        ),
        (
            AcceleratedConfig {
                l: 1.0,
                mu: 2.0,
                lr: 1.0,
            },
            "mu",
        ),
        (
            AcceleratedConfig {
                l: 1.0,
                mu: f64::NAN,
                lr: 1.0,
            },
            "mu",
        ),
    ] {
        let r = Optimizer::<f64, _>::new(Accelerated::new(config), 3).map(|_| ());
        assert_eq!(r, Err(Error::InvalidHyperparameter(name)));
    }
}

/// Nesterov's bound for this scheme (Introductory Lectures, Theorem 2.2.3
/// with `γ0 = μ`): `f(y_k) - f* ≤ (1 - √(μ/L))^k (f(x0) - f* + μ/2 ‖x0 -
/// x*‖²)`, on a diagonal quadratic with eigenvalues from `μ` to `L`. With
/// `κ = 100` the bound at `k = 300` is below `0.9^300 ≈ 2e-14` of its start,
/// where gradient descent's `(1 - μ/L)^k` would still be about 0.05.
#[test]
fn accelerated_meets_the_accelerated_rate() {
    let (mu, l) = (0.01, 1.0);
    let q = Diagonal::spread(16, mu, l);
    let rule = Accelerated::new(AcceleratedConfig { l, mu, lr: 1.0 });
    let mut opt = Optimizer::<f64, _>::new(rule, 16).unwrap();
    let mut x: Vec<f64> = (0..16).map(|i| (i as f64 * 0.7).sin() + 0.5).collect();
    let mut y = vec![0.0; 16];
    let start = q.value(&x) + 0.5 * mu * norm_sq(&x);
    let rate = 1.0 - (mu / l).sqrt();
    for k in 1..=300 {
        let g = q.grad(&x);
        opt.step(&mut x, &g, &mut y).unwrap();
        let bound = rate.powi(k) * start;
        assert!(q.value(&y) <= bound * (1.0 + 1e-9) + 1e-300, "k {k}");
    }
    assert!(q.value(&y) < 2e-14 * start);
}

// ---------------------------------------------------------------------
// Stochastic heavy ball with weighted iterate averaging (Sebbouh, Gower,
// Defazio, COLT 2021).

/// Constant `η = 0.5` on `f = ½ x²` from `x0 = z0 = 1`: the weights are
/// equal, so `x_k` is the mean of `z_0 .. z_k`. `g0 = 1`, `z1 = 0.5`,
/// `x1 = (1 + 0.5) / 2 = 0.75`; `g1 = 0.75`, `z2 = 0.5 - 0.375 = 0.125`,
/// `x2 = (1 + 0.5 + 0.125) / 3`.
#[test]
fn shb_two_steps_by_hand() {
    let mut opt = Optimizer::<f64, _>::new(
        Shb::new(ShbConfig {
            lr: 0.5,
            lr_power: 0.0,
        }),
        1,
    )
    .unwrap();
    let (mut x, mut z) = ([1.0], [f64::NAN]);
    opt.step(&mut x, &[1.0], &mut z).unwrap();
    assert_eq!((x, z), ([0.75], [0.5]));
    opt.step(&mut x, &[0.75], &mut z).unwrap();
    assert_eq!(z, [0.125]);
    assert!(close(x[0], (1.0 + 0.5 + 0.125) / 3.0));
}

/// With decreasing steps `η_t = η / √(t + 1)`, the last iterate is the
/// `η_t`-weighted average of the SGD sequence `z_{t+1} = z_t - η_t g_t`
/// (the paper's reason for the method), and it is the heavy ball
/// `x+ = x - α_k g + β_k (x - x-)` with `α_k = η_k / (1 + λ_{k+1})`,
/// `β_k = λ_k / (1 + λ_{k+1})`, `λ_k = Σ_{t<k} η_t / η_k`. Both are
/// recomputed here from the gradients alone.
#[test]
fn shb_is_a_weighted_average_of_sgd_and_a_heavy_ball() {
    let q = Diagonal {
        a: vec![1.0, 3.0, 0.5],
    };
    let (eta, p) = (0.4, 0.5);
    let rule = Shb::new(ShbConfig {
        lr: eta,
        lr_power: p,
    });
    let mut opt = Optimizer::<f64, _>::new(rule, 3).unwrap();
    let mut x = vec![1.0, -2.0, 0.5];
    let mut state = vec![0.0; 3];
    let eta_t = |t: usize| eta / ((t + 1) as f64).powf(p);
    let lambda = |k: usize| (0..k).map(eta_t).sum::<f64>() / eta_t(k);
    let (mut z, mut prev) = (x.clone(), x.clone());
    let mut weighted: Vec<f64> = x.iter().map(|v| eta_t(0) * v).collect();
    let mut weight = eta_t(0);
    for k in 0..50 {
        let g = q.grad(&x);
        let (a, b) = (
            eta_t(k) / (1.0 + lambda(k + 1)),
            lambda(k) / (1.0 + lambda(k + 1)),
        );
        let ball: Vec<f64> = (0..3)
            .map(|i| x[i] - a * g[i] + b * (x[i] - prev[i]))
            .collect();
        for i in 0..3 {
            z[i] -= eta_t(k) * g[i];
            weighted[i] += eta_t(k + 1) * z[i];
        }
        weight += eta_t(k + 1);
        prev = x.clone();
        opt.step(&mut x, &g, &mut state).unwrap();
        let average: Vec<f64> = weighted.iter().map(|w| w / weight).collect();
        let near = |u: &[f64], v: &[f64]| u.iter().zip(v).all(|(a, b)| (a - b).abs() < 1e-12);
        assert!(near(&x, &average), "k {k}: {x:?} vs average {average:?}");
        assert!(near(&x, &ball), "k {k}: {x:?} vs heavy ball {ball:?}");
        assert!(near(&state, &z));
    }
    assert!(close(opt.rule().weight_sum(), weight));
}

/// On a strongly convex quadratic with a constant `η < 2/L`, the SGD
/// sequence `z` converges linearly and the averaged iterate `x`, the
/// `η`-weighted (here uniform) average of `z_0 .. z_k`, follows at the rate
/// of an average: `x_k - x* = (1/(k+1)) Σ (z_t - x*)`, so `k ‖x_k - x*‖`
/// stays bounded by `Σ_t ‖z_t - x*‖` while `‖x_k - x*‖ → 0`. (The gradient
/// is taken at `x`, so `z` is not plain gradient descent; the test measures
/// the bound rather than assuming it.)
#[test]
fn shb_averaged_iterate_converges_on_a_strongly_convex_quadratic() {
    let q = Diagonal::spread(8, 0.5, 4.0);
    let rule = Shb::new(ShbConfig {
        lr: 0.2,
        lr_power: 0.0,
    });
    let mut opt = Optimizer::<f64, _>::new(rule, 8).unwrap();
    let mut x: Vec<f64> = (0..8).map(|i| 1.0 + 0.25 * i as f64).collect();
    let mut z = vec![0.0; 8];
    let f0 = q.value(&x);
    let mut z_path = norm_sq(&x).sqrt();
    for k in 1..=4000 {
        let g = q.grad(&x);
        opt.step(&mut x, &g, &mut z).unwrap();
        z_path += norm_sq(&z).sqrt();
        // ‖x_k‖ = ‖Σ z_t‖ / (k + 1) ≤ Σ ‖z_t‖ / (k + 1).
        assert!(norm_sq(&x).sqrt() <= z_path / (k as f64 + 1.0) * (1.0 + 1e-12));
    }
    assert!(q.value(&x) < 1e-5 * f0, "f = {:e}", q.value(&x));
}

// ---------------------------------------------------------------------
// SGD with momentum as primal averaging (Defazio 2020, arXiv 2010.00406).

/// With constant `c = 1 - β` and `η`: `x+ = (1 - c) x + c (z - η g)` and
/// `c z = x - (1 - c) x-` give `x+ = x - c η g + (1 - c) (x - x-)`, the
/// heavy ball with learning rate `cη` and momentum `β` (`x_{-1} = x0`).
/// Checked over 30 steps against that recursion.
#[test]
fn primal_averaging_is_sgd_with_momentum() {
    let q = Diagonal { a: vec![2.0, 0.5] };
    let (eta, beta) = (0.5, 0.8);
    let config = PrimalAveragingConfig {
        lr: eta,
        momentum: beta,
        ..Default::default()
    };
    let mut opt = Optimizer::<f64, _>::new(PrimalAveraging::new(config), 2).unwrap();
    let mut x = vec![1.0, -1.0];
    let mut z = vec![f64::NAN; 2];
    let (mut ball, mut prev) = (x.clone(), x.clone());
    let c = 1.0 - beta;
    for _ in 0..30 {
        let g = q.grad(&ball);
        let next: Vec<f64> = (0..2)
            .map(|i| ball[i] - c * eta * g[i] + (1.0 - c) * (ball[i] - prev[i]))
            .collect();
        prev = ball;
        ball = next;
        opt.step(&mut x, &g, &mut z).unwrap();
        assert!(x.iter().zip(&ball).all(|(a, b)| (a - b).abs() < 1e-13));
    }
}

/// `uniform`: `c_{k+1} = 1 / (k + 1)`, so `x_k` is the mean of `z_1 .. z_k`;
/// with `lr_power = 1/2`, `η_k = η / √(k + 1)`. By hand on `f = ¼ x²`
/// (`g = x / 2`), `η = 1`, `x0 = z0 = 2`: `g0 = 1`, `z1 = 2 - 1 = 1`,
/// `x1 = z1 = 1` (`c_1 = 1`); `g1 = 1/2`, `z2 = 1 - (1/√2)(1/2)`,
/// `x2 = (z1 + z2) / 2` (`c_2 = 1/2`).
#[test]
fn primal_averaging_uniform_schedule_by_hand() {
    let config = PrimalAveragingConfig {
        lr: 1.0,
        uniform: true,
        lr_power: 0.5,
        ..Default::default()
    };
    let mut opt = Optimizer::<f64, _>::new(PrimalAveraging::new(config), 1).unwrap();
    let (mut x, mut z) = ([2.0], [0.0]);
    opt.step(&mut x, &[1.0], &mut z).unwrap();
    assert_eq!((x, z), ([1.0], [1.0]));
    opt.step(&mut x, &[0.5], &mut z).unwrap();
    let z2 = 1.0 - 0.5 / 2f64.sqrt();
    assert!(close(z[0], z2) && close(x[0], (1.0 + z2) / 2.0));
    for (config, name) in [
        (
            PrimalAveragingConfig {
                momentum: 1.0,
                ..config
            },
            "momentum",
        ),
        (
            PrimalAveragingConfig {
                lr_power: 1.5,
                ..config
            },
            "lr_power",
        ),
        (
            PrimalAveragingConfig {
                lr: f64::NAN,
                ..config
            },
            "lr",
        ),
    ] {
        let r = Optimizer::<f64, _>::new(PrimalAveraging::new(config), 1).map(|_| ());
        assert_eq!(r, Err(Error::InvalidHyperparameter(name)));
    }
}

/// The primal-averaging form with the schedule of the paper's convex
/// analysis (`c_{k+1} = 1/(k+1)`, `η_k = η/√(k+1)`) converges on a convex
/// quadratic: after `K` steps `f(x_K)` is far below `f(x0)`, and it keeps
/// decreasing from `K` to `4K`.
#[test]
fn primal_averaging_converges_with_the_papers_schedule() {
    let q = Diagonal::spread(6, 0.2, 2.0);
    let config = PrimalAveragingConfig {
        lr: 0.5,
        uniform: true,
        lr_power: 0.5,
        ..Default::default()
    };
    let mut opt = Optimizer::<f64, _>::new(PrimalAveraging::new(config), 6).unwrap();
    let mut x = vec![1.0; 6];
    let mut z = vec![0.0; 6];
    let f0 = q.value(&x);
    let mut at = Vec::new();
    for k in 1..=4000 {
        let g = q.grad(&x);
        opt.step(&mut x, &g, &mut z).unwrap();
        if k == 1000 || k == 4000 {
            at.push(q.value(&x));
        }
    }
    assert!(at[0] < 1e-3 * f0 && at[1] < at[0], "{at:?} from {f0}");
}
