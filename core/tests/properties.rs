//! Properties every rule must have, driven by one table of (rule, settings).
//!
//! Adding a rule adds a row to `rows!`. Each property runs for every row, in
//! `f32` and `f64` where the property does not depend on precision.
//!
//! The expected values are independent of the code under test: the optimum
//! of the quadratic is `c` and of Rosenbrock's function `(1, 1)`; refused
//! calls must leave every bit as it was; a split step must give the bits of
//! the one-call step.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use freestep::rules::schedule_free::ScheduleFree;
use freestep::*;

/// What the tests need beyond `UpdateRule`: the weights to judge the rule
/// by (the average `x` for Schedule-Free, the parameters otherwise).
trait Judged: UpdateRule {
    fn judged<T: Float>(opt: &Optimizer<T, Self>, params: &[T], state: &[T]) -> Vec<T> {
        let _ = (opt, state);
        params.to_vec()
    }
}

impl Judged for Sgd {}
impl Judged for Adam {}
impl Judged for Prodigy {}
impl Judged for Adagrad {}
impl Judged for Madgrad {}
impl Judged for MirrorMadgrad {}
impl Judged for Lion {}
impl Judged for DAdaptAdam {}
impl Judged for DAdaptSgd {}
impl Judged for DAdaptLion {}
impl Judged for DAdaptAdagrad {}
impl Judged for DAdaptAdan {}
impl Judged for Rmsprop {}
impl Judged for Momo {}
impl Judged for MomoAdam {}
impl Judged for Polyak {}
impl Judged for Ngd {}
impl Judged for Accelerated {}
impl Judged for Shb {}
impl Judged for PrimalAveraging {}
impl Judged for ScheduleFreeSgd {
    fn judged<T: Float>(opt: &Optimizer<T, Self>, params: &[T], state: &[T]) -> Vec<T> {
        averaged(opt, params, state)
    }
}
impl Judged for ScheduleFreeRAdam {
    fn judged<T: Float>(opt: &Optimizer<T, Self>, params: &[T], state: &[T]) -> Vec<T> {
        averaged(opt, params, state)
    }
}
impl Judged for ScheduleFreeAdamW {
    fn judged<T: Float>(opt: &Optimizer<T, Self>, params: &[T], state: &[T]) -> Vec<T> {
        averaged(opt, params, state)
    }
}

fn averaged<T: Float, R: ScheduleFree>(opt: &Optimizer<T, R>, params: &[T], state: &[T]) -> Vec<T> {
    let mut x = vec![T::ZERO; params.len()];
    opt.eval_params(params, state, &mut x).unwrap();
    x
}

/// One row: a rule tuned for the quadratic and one tuned for Rosenbrock.
struct Row<R> {
    name: &'static str,
    /// The fraction of the quadratic's starting value that must remain at
    /// most after 3000 steps (1e-4 but for rules whose steps do not shrink).
    quadratic_bar: f64,
    quadratic: R,
    rosenbrock: R,
    rosenbrock_steps: usize,
}

/// Calls `$check` with every row. The macro keeps the table in one place
/// while each property stays generic over the rule type.
macro_rules! rows {
    ($check:ident) => {{
        let sgd = |lr, momentum, nesterov| {
            Sgd::new(SgdConfig {
                lr,
                momentum,
                nesterov,
                ..Default::default()
            })
        };
        $check(Row {
            name: "sgd",
            quadratic_bar: 1e-4,
            quadratic: sgd(0.05, 0.0, false),
            rosenbrock: sgd(1e-3, 0.0, false),
            rosenbrock_steps: 60_000,
        });
        $check(Row {
            name: "sgd-momentum",
            quadratic_bar: 1e-4,
            quadratic: Sgd::new(SgdConfig {
                lr: 0.02,
                momentum: 0.9,
                dampening: 0.1,
                weight_decay: 0.0,
                ..Default::default()
            }),
            rosenbrock: sgd(2e-4, 0.9, false),
            rosenbrock_steps: 40_000,
        });
        $check(Row {
            name: "sgd-nesterov",
            quadratic_bar: 1e-4,
            quadratic: sgd(0.02, 0.9, true),
            rosenbrock: sgd(2e-4, 0.9, true),
            rosenbrock_steps: 40_000,
        });
        let adam = |lr, amsgrad, c: AdamConfig| Adam::new(AdamConfig { lr, amsgrad, ..c });
        $check(Row {
            name: "adam",
            quadratic_bar: 1e-4,
            quadratic: adam(0.05, false, AdamConfig::default()),
            rosenbrock: adam(0.01, false, AdamConfig::default()),
            rosenbrock_steps: 20_000,
        });
        $check(Row {
            name: "adam-amsgrad",
            quadratic_bar: 1e-4,
            quadratic: adam(0.05, true, AdamConfig::default()),
            rosenbrock: adam(0.01, true, AdamConfig::default()),
            rosenbrock_steps: 20_000,
        });
        $check(Row {
            name: "adamw",
            quadratic_bar: 1e-4,
            quadratic: adam(
                0.05,
                false,
                AdamConfig {
                    weight_decay: 0.0,
                    ..AdamConfig::adamw()
                },
            ),
            rosenbrock: adam(
                0.01,
                false,
                AdamConfig {
                    weight_decay: 0.0,
                    ..AdamConfig::adamw()
                },
            ),
            rosenbrock_steps: 20_000,
        });
        let sf_sgd = |lr| {
            ScheduleFreeSgd::new(ScheduleFreeSgdConfig {
                lr,
                ..Default::default()
            })
        };
        $check(Row {
            name: "sgd-schedulefree",
            quadratic_bar: 1e-4,
            quadratic: sf_sgd(0.02),
            rosenbrock: sf_sgd(1e-3),
            rosenbrock_steps: 100_000,
        });
        let sf_adamw = |lr| {
            ScheduleFreeAdamW::new(ScheduleFreeAdamWConfig {
                lr,
                ..Default::default()
            })
        };
        $check(Row {
            name: "adamw-schedulefree",
            quadratic_bar: 1e-4,
            quadratic: sf_adamw(0.05),
            rosenbrock: sf_adamw(0.01),
            rosenbrock_steps: 20_000,
        });
        let sf_radam = |lr, silent_sgd_phase, weight_decay| {
            ScheduleFreeRAdam::new(ScheduleFreeRAdamConfig {
                lr,
                silent_sgd_phase,
                weight_decay,
                ..Default::default()
            })
        };
        $check(Row {
            name: "radam-schedulefree",
            quadratic_bar: 1e-4,
            quadratic: sf_radam(0.05, true, 0.0),
            rosenbrock: sf_radam(0.01, true, 0.0),
            rosenbrock_steps: 20_000,
        });
        $check(Row {
            name: "radam-schedulefree-sgd-phase-decay",
            quadratic_bar: 1e-4,
            quadratic: sf_radam(0.05, false, 1e-5),
            // Its first four steps are plain SGD steps, far too long at 0.01
            // for the gradients of 200 at the start.
            rosenbrock: sf_radam(1e-3, false, 0.0),
            rosenbrock_steps: 20_000,
        });
        let prodigy = |slice_p| {
            Prodigy::new(ProdigyConfig {
                slice_p,
                ..Default::default()
            })
        };
        $check(Row {
            name: "prodigy",
            quadratic_bar: 1e-4,
            quadratic: prodigy(1),
            rosenbrock: Prodigy::new(ProdigyConfig {
                lr: 0.1,
                ..Default::default()
            }),
            rosenbrock_steps: 20_000,
        });
        $check(Row {
            name: "prodigy-slice-p",
            quadratic_bar: 1e-4,
            quadratic: prodigy(3),
            rosenbrock: Prodigy::new(ProdigyConfig {
                lr: 0.1,
                ..Default::default()
            }),
            rosenbrock_steps: 20_000,
        });
        let adagrad = |lr, c: AdagradConfig| Adagrad::new(AdagradConfig { lr, ..c });
        $check(Row {
            name: "adagrad",
            quadratic_bar: 1e-4,
            quadratic: adagrad(0.5, AdagradConfig::default()),
            rosenbrock: adagrad(0.5, AdagradConfig::default()),
            rosenbrock_steps: 40_000,
        });
        $check(Row {
            name: "adagrad-lr-decay",
            quadratic_bar: 1e-4,
            quadratic: adagrad(
                0.5,
                AdagradConfig {
                    lr_decay: 1e-4,
                    initial_accumulator_value: 0.1,
                    ..Default::default()
                },
            ),
            rosenbrock: adagrad(
                0.5,
                AdagradConfig {
                    lr_decay: 1e-5,
                    initial_accumulator_value: 0.1,
                    ..Default::default()
                },
            ),
            rosenbrock_steps: 40_000,
        });
        let madgrad =
            |lr, momentum, c: MadgradConfig| Madgrad::new(MadgradConfig { lr, momentum, ..c });
        $check(Row {
            name: "madgrad",
            quadratic_bar: 1e-4,
            quadratic: madgrad(0.05, 0.9, MadgradConfig::default()),
            rosenbrock: madgrad(0.01, 0.9, MadgradConfig::default()),
            rosenbrock_steps: 40_000,
        });
        // Without momentum MADGRAD is plain dual averaging, too slow for
        // these bars; its fixtures check that form step by step.
        $check(Row {
            name: "madgrad-decoupled",
            quadratic_bar: 1e-4,
            quadratic: madgrad(
                0.05,
                0.9,
                MadgradConfig {
                    weight_decay: 1e-6,
                    decouple_decay: true,
                    ..Default::default()
                },
            ),
            rosenbrock: madgrad(
                0.01,
                0.9,
                MadgradConfig {
                    weight_decay: 1e-7,
                    decouple_decay: true,
                    ..Default::default()
                },
            ),
            rosenbrock_steps: 40_000,
        });
        let lion = |lr, weight_decay| {
            Lion::new(LionConfig {
                lr,
                weight_decay,
                ..Default::default()
            })
        };
        $check(Row {
            name: "lion",
            quadratic_bar: 1e-4,
            quadratic: lion(1e-3, 0.0),
            rosenbrock: lion(1e-4, 0.0),
            rosenbrock_steps: 60_000,
        });
        $check(Row {
            name: "lion-decay",
            quadratic_bar: 1e-4,
            quadratic: lion(1e-3, 1e-4),
            rosenbrock: lion(1e-4, 1e-5),
            rosenbrock_steps: 60_000,
        });
        $check(Row {
            name: "dadapt-adam",
            quadratic_bar: 1e-4,
            quadratic: DAdaptAdam::new(DAdaptAdamConfig::default()),
            rosenbrock: DAdaptAdam::new(DAdaptAdamConfig {
                lr: 0.1,
                ..Default::default()
            }),
            rosenbrock_steps: 20_000,
        });
        $check(Row {
            name: "dadapt-adam-options",
            quadratic_bar: 1e-4,
            quadratic: DAdaptAdam::new(DAdaptAdamConfig {
                use_bias_correction: true,
                growth_rate: 1.1,
                weight_decay: 1e-6,
                decouple: true,
                ..Default::default()
            }),
            rosenbrock: DAdaptAdam::new(DAdaptAdamConfig {
                lr: 0.1,
                use_bias_correction: true,
                growth_rate: 1.1,
                ..Default::default()
            }),
            rosenbrock_steps: 20_000,
        });
        $check(Row {
            name: "dadapt-sgd-momentum",
            quadratic_bar: 1e-4,
            quadratic: DAdaptSgd::new(DAdaptSgdConfig {
                momentum: 0.9,
                ..Default::default()
            }),
            rosenbrock: DAdaptSgd::new(DAdaptSgdConfig {
                lr: 0.05,
                momentum: 0.9,
                ..Default::default()
            }),
            rosenbrock_steps: 60_000,
        });
        $check(Row {
            name: "dadapt-lion",
            quadratic_bar: 3e-3,
            // Sign steps of size d·lr, with no schedule, hover at about that
            // distance from the optimum (the reference's run at lr 1 stalls
            // at f/f0 = 0.06 on such a quadratic): lr 0.1 and a looser bar.
            quadratic: DAdaptLion::new(DAdaptLionConfig {
                lr: 0.1,
                ..Default::default()
            }),
            // Equal sign steps in both coordinates cannot follow Rosenbrock's
            // curved valley: the reference stops at (-1.0670, 1.1330) after
            // 60000 steps at lr 0.1, as freestep does, to the last digit.
            // Not a convergence row there (rosenbrock_steps 0).
            rosenbrock: DAdaptLion::new(DAdaptLionConfig::default()),
            rosenbrock_steps: 0,
        });
        $check(Row {
            name: "dadapt-adagrad-momentum",
            quadratic_bar: 1e-4,
            quadratic: DAdaptAdagrad::new(DAdaptAdagradConfig {
                momentum: 0.9,
                ..Default::default()
            }),
            rosenbrock: DAdaptAdagrad::new(DAdaptAdagradConfig {
                momentum: 0.9,
                ..Default::default()
            }),
            rosenbrock_steps: 60_000,
        });
        $check(Row {
            name: "dadapt-adan",
            quadratic_bar: 1e-4,
            // At lr 1 its d overshoots to about 12 on this quadratic and the
            // iterates hover (the reference's too: f/f0 = 0.13 after 3000
            // steps); at lr 0.1 both converge.
            quadratic: DAdaptAdan::new(DAdaptAdanConfig {
                lr: 0.1,
                weight_decay: 0.0,
                ..Default::default()
            }),
            rosenbrock: DAdaptAdan::new(DAdaptAdanConfig {
                lr: 0.1,
                weight_decay: 0.0,
                ..Default::default()
            }),
            rosenbrock_steps: 40_000,
        });
        $check(Row {
            name: "mirror-madgrad",
            quadratic_bar: 1e-4,
            quadratic: MirrorMadgrad::new(MirrorMadgradConfig {
                lr: 0.05,
                ..Default::default()
            }),
            rosenbrock: MirrorMadgrad::new(MirrorMadgradConfig {
                lr: 0.005,
                ..Default::default()
            }),
            rosenbrock_steps: 40_000,
        });
        let rmsprop = |lr, momentum, centered| {
            Rmsprop::new(RmspropConfig {
                lr,
                momentum,
                centered,
                ..Default::default()
            })
        };
        $check(Row {
            name: "rmsprop",
            quadratic_bar: 1e-4,
            quadratic: rmsprop(0.01, 0.0, false),
            rosenbrock: rmsprop(1e-3, 0.0, false),
            rosenbrock_steps: 20_000,
        });
        $check(Row {
            name: "rmsprop-centered-momentum",
            quadratic_bar: 1e-4,
            quadratic: rmsprop(0.002, 0.9, true),
            rosenbrock: rmsprop(2e-4, 0.9, true),
            rosenbrock_steps: 20_000,
        });
        // Both minima are 0, MoMo's default lower bound.
        $check(Row {
            name: "momo",
            quadratic_bar: 1e-4,
            quadratic: Momo::new(MomoConfig::default()),
            rosenbrock: Momo::new(MomoConfig::default()),
            rosenbrock_steps: 40_000,
        });
        // With weight decay the online lower bound settles near 0.77 on
        // this quadratic and the steps stall there (the reference's too, to
        // 1e-15): the estimate and the decay get separate rows.
        $check(Row {
            name: "momo-bias-correction-fstar",
            quadratic_bar: 1e-4,
            quadratic: Momo::new(MomoConfig {
                bias_correction: true,
                use_fstar: true,
                ..Default::default()
            }),
            rosenbrock: Momo::new(MomoConfig {
                bias_correction: true,
                use_fstar: true,
                ..Default::default()
            }),
            rosenbrock_steps: 40_000,
        });
        $check(Row {
            name: "momo-bias-correction-decay",
            quadratic_bar: 1e-4,
            quadratic: Momo::new(MomoConfig {
                bias_correction: true,
                weight_decay: 1e-4,
                ..Default::default()
            }),
            rosenbrock: Momo::new(MomoConfig {
                bias_correction: true,
                weight_decay: 1e-6,
                ..Default::default()
            }),
            rosenbrock_steps: 40_000,
        });
        $check(Row {
            name: "momo-adam",
            quadratic_bar: 1e-4,
            quadratic: MomoAdam::new(MomoAdamConfig {
                lr: 0.1,
                ..Default::default()
            }),
            rosenbrock: MomoAdam::new(MomoAdamConfig::default()),
            rosenbrock_steps: 40_000,
        });
        $check(Row {
            name: "momo-adam-fstar",
            quadratic_bar: 1e-4,
            quadratic: MomoAdam::new(MomoAdamConfig {
                lr: 0.1,
                use_fstar: true,
                ..Default::default()
            }),
            rosenbrock: MomoAdam::new(MomoAdamConfig {
                use_fstar: true,
                ..Default::default()
            }),
            rosenbrock_steps: 40_000,
        });
        $check(Row {
            name: "momo-adam-decay-no-divide",
            quadratic_bar: 1e-4,
            quadratic: MomoAdam::new(MomoAdamConfig {
                lr: 0.1,
                divide: false,
                weight_decay: 1e-4,
                ..Default::default()
            }),
            rosenbrock: MomoAdam::new(MomoAdamConfig {
                divide: false,
                weight_decay: 1e-6,
                ..Default::default()
            }),
            rosenbrock_steps: 40_000,
        });
        $check(Row {
            name: "polyak",
            quadratic_bar: 1e-4,
            quadratic: Polyak::new(PolyakConfig::default()),
            rosenbrock: Polyak::new(PolyakConfig::default()),
            rosenbrock_steps: 60_000,
        });
        $check(Row {
            name: "polyak-capped",
            quadratic_bar: 1e-4,
            quadratic: Polyak::new(PolyakConfig {
                max_lr: 0.3,
                ..Default::default()
            }),
            rosenbrock: Polyak::new(PolyakConfig {
                max_lr: 1e-3,
                ..Default::default()
            }),
            rosenbrock_steps: 60_000,
        });
        let ngd = |lr| Ngd::new(NgdConfig { lr });
        $check(Row {
            name: "ngd",
            quadratic_bar: 1e-4,
            quadratic: ngd(5e-3),
            rosenbrock: ngd(1e-4),
            rosenbrock_steps: 60_000,
        });
        $check(Row {
            name: "accelerated",
            quadratic_bar: 1e-4,
            // The quadratic's curvatures lie in [1, 4].
            quadratic: Accelerated::new(AcceleratedConfig {
                l: 4.0,
                mu: 1.0,
                lr: 1.0,
            }),
            rosenbrock: Accelerated::new(AcceleratedConfig {
                l: 2500.0,
                mu: 0.1,
                lr: 1.0,
            }),
            rosenbrock_steps: 20_000,
        });
        $check(Row {
            name: "shb",
            quadratic_bar: 1e-4,
            quadratic: Shb::new(ShbConfig {
                lr: 0.2,
                lr_power: 0.0,
            }),
            rosenbrock: Shb::new(ShbConfig {
                lr: 1e-3,
                lr_power: 0.0,
            }),
            rosenbrock_steps: 100_000,
        });
        // With decreasing steps (lr_power > 0) the η-weighted average leans on
        // the early iterates: f falls like 1/√k, short of these bars, and a
        // spike stays in the average for good. paper_rules checks that form
        // against the paper's weighted average of SGD iterates instead.
        $check(Row {
            name: "primal-averaging",
            quadratic_bar: 1e-4,
            quadratic: PrimalAveraging::new(PrimalAveragingConfig {
                lr: 0.2,
                momentum: 0.9,
                ..Default::default()
            }),
            rosenbrock: PrimalAveraging::new(PrimalAveragingConfig {
                lr: 2e-3,
                momentum: 0.9,
                ..Default::default()
            }),
            rosenbrock_steps: 40_000,
        });
        $check(Row {
            name: "primal-averaging-uniform",
            quadratic_bar: 1e-4,
            quadratic: PrimalAveraging::new(PrimalAveragingConfig {
                lr: 0.4,
                uniform: true,
                lr_power: 0.5,
                ..Default::default()
            }),
            rosenbrock: PrimalAveraging::new(PrimalAveragingConfig {
                lr: 2e-3,
                uniform: true,
                lr_power: 0.5,
                ..Default::default()
            }),
            // The plain average of every z since the start still leans on the
            // start of the valley after 1e5 steps (it ends near (0.16, 0.01));
            // its convex rate is for convex problems.
            rosenbrock_steps: 0,
        });
    }};
}

/// A deterministic stream of numbers in [-1, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
    fn vec<T: Float>(&mut self, n: usize, scale: f64) -> Vec<T> {
        (0..n).map(|_| T::from_f64(scale * self.next())).collect()
    }
}

/// `f(x) = ½ Σ a_i (x_i - c_i)²` with `a_i` in [1, 4]: minimum 0 at `c`.
struct Quadratic {
    a: Vec<f64>,
    c: Vec<f64>,
}

impl Quadratic {
    fn new(n: usize) -> Self {
        let mut rng = Lcg(7);
        let a = (0..n).map(|_| 2.5 + 1.5 * rng.next()).collect();
        let c = (0..n).map(|_| rng.next()).collect();
        Self { a, c }
    }
    fn value<T: Float>(&self, x: &[T]) -> f64 {
        let terms = x.iter().zip(&self.a).zip(&self.c);
        terms
            .map(|((x, a), c)| 0.5 * a * (x.to_f64() - c).powi(2))
            .sum()
    }
    fn grad<T: Float>(&self, x: &[T]) -> Vec<T> {
        let terms = x.iter().zip(&self.a).zip(&self.c);
        terms
            .map(|((x, a), c)| T::from_f64(a * (x.to_f64() - c)))
            .collect()
    }
}

fn fresh<T: Float, R: UpdateRule>(rule: &R, n: usize) -> (Optimizer<T, R>, Vec<T>) {
    let opt = Optimizer::new(rule.clone(), n).unwrap();
    let state = vec![T::from_f64(f64::NAN); opt.state_len()];
    (opt, state)
}

fn converges_on_quadratic<R: Judged>(row: Row<R>) {
    let q = Quadratic::new(20);
    let (mut opt, mut state) = fresh::<f64, R>(&row.quadratic, 20);
    let mut x = vec![0.0; 20];
    let f0 = q.value(&x);
    for _ in 0..3000 {
        let (g, loss) = (q.grad(&x), q.value(&x));
        opt.step_with_loss(&mut x, &g, loss, &mut state).unwrap();
    }
    let f = q.value(&R::judged(&opt, &x, &state));
    assert!(
        f < row.quadratic_bar * f0,
        "{}: f = {f:e} from {f0:e}",
        row.name
    );
}

/// `(1 - a)² + 100 (b - a²)²`: minimum 0 at `(1, 1)`.
fn rosenbrock(x: &[f64]) -> f64 {
    (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
}

fn rosenbrock_grad(x: &[f64]) -> [f64; 2] {
    let (a, b) = (x[0], x[1]);
    [
        -2.0 * (1.0 - a) - 400.0 * a * (b - a * a),
        200.0 * (b - a * a),
    ]
}

fn converges_on_rosenbrock<R: Judged>(row: Row<R>) {
    if row.rosenbrock_steps == 0 {
        return;
    }
    let (mut opt, mut state) = fresh::<f64, R>(&row.rosenbrock, 2);
    let mut x = vec![-1.2, 1.0];
    for _ in 0..row.rosenbrock_steps {
        let g = rosenbrock_grad(&x);
        let loss = rosenbrock(&x);
        opt.step_with_loss(&mut x, &g, loss, &mut state).unwrap();
    }
    let x = R::judged(&opt, &x, &state);
    let dist = ((x[0] - 1.0).powi(2) + (x[1] - 1.0).powi(2)).sqrt();
    assert!(dist < 0.05, "{}: ended at {x:?}", row.name);
}

#[test]
fn every_rule_converges_on_a_quadratic() {
    rows!(converges_on_quadratic);
}

#[test]
fn every_rule_converges_on_rosenbrock() {
    rows!(converges_on_rosenbrock);
}

fn zero_gradients_stay_finite<T: Float, R: Judged>(row: &Row<R>) {
    let (mut opt, mut state) = fresh::<T, R>(&row.quadratic, 37);
    let mut x: Vec<T> = Lcg(3).vec(37, 1.0);
    let zeros = vec![T::ZERO; 37];
    for _ in 0..50 {
        // A flat region: any loss will do for the rules that read it.
        opt.step_with_loss(&mut x, &zeros, 1.0, &mut state).unwrap();
    }
    let judged = R::judged(&opt, &x, &state);
    assert!(
        x.iter().chain(&judged).all(|v| v.is_finite()),
        "{}",
        row.name
    );
}

fn spike_is_survived<T: Float, R: Judged>(row: &Row<R>) {
    let q = Quadratic::new(20);
    let (mut opt, mut state) = fresh::<T, R>(&row.quadratic, 20);
    let mut x = vec![T::ZERO; 20];
    // A plain SGD-like average remembers the spike for a while: give it time.
    for k in 0..3000 {
        let mut g = q.grad(&x);
        if k == 20 {
            g.iter_mut().for_each(|g| *g *= T::from_f64(1e3));
        }
        let loss = q.value(&x);
        opt.step_with_loss(&mut x, &g, loss, &mut state).unwrap();
    }
    let judged = R::judged(&opt, &x, &state);
    let all_finite = x.iter().chain(&judged).chain(&state).all(|v| v.is_finite());
    assert!(all_finite, "{}: non-finite after a 1e3 spike", row.name);
    // And the rule is still making progress from the start (f = f0 at 0).
    let (f, f0) = (q.value(&judged), q.value(&[T::ZERO; 20]));
    assert!(
        f < f0,
        "{}: f = {f:e} after the spike, {f0:e} at the start",
        row.name
    );
}

fn in_every_precision<R: Judged>(row: Row<R>) {
    zero_gradients_stay_finite::<f32, R>(&row);
    zero_gradients_stay_finite::<f64, R>(&row);
    spike_is_survived::<f32, R>(&row);
    spike_is_survived::<f64, R>(&row);
}

#[test]
fn zero_gradients_and_spikes_stay_finite() {
    rows!(in_every_precision);
}

fn bits<T: Float>(xs: &[T]) -> Vec<u64> {
    xs.iter().map(|x| x.to_f64().to_bits()).collect()
}

/// Runs `bad` on a stepped optimizer and checks that it failed with
/// `expected` and that the next good step gives the bits it would have given
/// without the bad call.
fn refused_without_trace<R: Judged>(
    row: &Row<R>,
    expected: Error,
    bad: impl Fn(&mut Optimizer<f32, R>, &mut Vec<f32>, &mut Vec<f32>) -> Result<(), Error>,
) {
    let q = Quadratic::new(300);
    let (mut opt, mut state) = fresh::<f32, R>(&row.quadratic, 300);
    let mut x: Vec<f32> = Lcg(11).vec(300, 1.0);
    for _ in 0..3 {
        let (g, loss) = (q.grad(&x), q.value(&x));
        opt.step_with_loss(&mut x, &g, loss, &mut state).unwrap();
    }
    let (x_before, state_before, mut twin) = (x.clone(), state.clone(), opt.clone());
    assert_eq!(
        bad(&mut opt, &mut x, &mut state),
        Err(expected),
        "{}",
        row.name
    );
    assert_eq!(bits(&x), bits(&x_before), "{}: params changed", row.name);
    assert_eq!(
        bits(&state),
        bits(&state_before),
        "{}: state changed",
        row.name
    );
    let g = q.grad(&x);
    let (mut x2, mut s2) = (x.clone(), state.clone());
    let loss = q.value(&x);
    opt.step_with_loss(&mut x, &g, loss, &mut state).unwrap();
    twin.step_with_loss(&mut x2, &g, loss, &mut s2).unwrap();
    assert_eq!(bits(&x), bits(&x2), "{}: scalar state changed", row.name);
}

fn bad_inputs_change_nothing<R: Judged>(row: Row<R>) {
    for poison in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        refused_without_trace(&row, Error::NonFiniteGradient, |opt, x, s| {
            let mut g = vec![0.5f32; 300];
            g[299] = poison;
            opt.step_with_loss(x, &g, 1.0, s)
        });
        refused_without_trace(&row, Error::NonFiniteLoss, |opt, x, s| {
            opt.step_with_loss(x, &[0.5; 300], f64::from(poison), s)
        });
    }
    if R::NEEDS_LOSS {
        refused_without_trace(&row, Error::MissingLoss, |opt, x, s| {
            opt.step(x, &[0.5; 300], s)
        });
    }
    refused_without_trace(&row, Error::Length, |opt, x, s| {
        opt.step_with_loss(x, &[0.5; 299], 1.0, s)
    });
    refused_without_trace(&row, Error::Length, |opt, x, s| {
        opt.step_with_loss(&mut x[..299], &[0.5; 299], 1.0, s)
    });
    refused_without_trace(&row, Error::StateLength, |opt, x, s| match s.len() {
        0 => opt.step_with_loss(x, &[0.5; 300], 1.0, &mut [0.0]),
        n => opt.step_with_loss(x, &[0.5; 300], 1.0, &mut s[..n - 1]),
    });
    refused_without_trace(&row, Error::StateLength, |opt, x, s| {
        let mut longer = s.clone();
        longer.push(0.0);
        let r = opt.step_with_loss(x, &[0.5; 300], 1.0, &mut longer);
        let len = s.len();
        s.copy_from_slice(&longer[..len]);
        r
    });
    refused_without_trace(&row, Error::BadRange, |opt, x, s| {
        opt.partial(100, &x[100..], &[0.5; 200], s).map(|_| ())
    });
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    rows!(bad_inputs_change_nothing);
}

/// Steps with the phases over `cuts` (tile-aligned split points), combining
/// the partials in reverse order.
fn phased_step<T: Float, R: UpdateRule>(
    opt: &mut Optimizer<T, R>,
    (x, g, loss): (&mut [T], &[T], f64),
    state: &mut [T],
    cuts: &[usize],
) {
    let n = x.len();
    let bounds: Vec<usize> = [0].iter().chain(cuts).chain([n].iter()).copied().collect();
    let mut total = Partial::<T>::EMPTY;
    for w in bounds.windows(2).rev() {
        let sr = opt.state_range(w[0], w[1]).unwrap();
        let part = opt
            .partial(w[0], &x[w[0]..w[1]], &g[w[0]..w[1]], &state[sr])
            .unwrap();
        total = part.combine(&total);
    }
    opt.finish_with_loss(&total, loss).unwrap();
    for w in bounds.windows(2) {
        let sr = opt.state_range(w[0], w[1]).unwrap();
        opt.update(w[0], &mut x[w[0]..w[1]], &g[w[0]..w[1]], &mut state[sr])
            .unwrap();
    }
}

fn phases_match_one_call<T: Float, R: Judged>(row: &Row<R>) {
    let n = 7 * TILE + 93;
    let groups = [Group::new(700), Group::new(n - 700).weight_decay_scale(0.0)];
    let splits: [&[usize]; 3] = [&[], &[3 * TILE], &[256, 512, 768, 1024, 1280, 1536]];
    let q = Quadratic::new(n);
    let x0: Vec<T> = Lcg(5).vec(n, 2.0);
    let mut results = Vec::new();
    for cuts in splits {
        let mut opt = Optimizer::<T, R>::with_groups(row.quadratic.clone(), n, &groups).unwrap();
        let mut state = vec![T::ZERO; opt.state_len()];
        let mut x = x0.clone();
        for k in 0..6 {
            let mut g = q.grad(&x);
            if k == 0 {
                g.iter_mut().step_by(3).for_each(|g| *g = T::ZERO);
            }
            let loss = q.value(&x);
            phased_step(&mut opt, (&mut x, &g, loss), &mut state, cuts);
        }
        results.push((bits(&x), bits(&state)));
    }
    // The one-call step.
    let mut opt = Optimizer::<T, R>::with_groups(row.quadratic.clone(), n, &groups).unwrap();
    let mut state = vec![T::ZERO; opt.state_len()];
    let mut x = x0.clone();
    for k in 0..6 {
        let mut g = q.grad(&x);
        if k == 0 {
            g.iter_mut().step_by(3).for_each(|g| *g = T::ZERO);
        }
        let loss = q.value(&x);
        opt.step_with_loss(&mut x, &g, loss, &mut state).unwrap();
    }
    for (i, r) in results.iter().enumerate() {
        assert!(
            r.0 == bits(&x),
            "{}: params differ with split {i}",
            row.name
        );
        assert!(
            r.1 == bits(&state),
            "{}: state differs with split {i}",
            row.name
        );
    }
}

fn phases_in_every_precision<R: Judged>(row: Row<R>) {
    phases_match_one_call::<f32, R>(&row);
    phases_match_one_call::<f64, R>(&row);
}

#[test]
fn phased_step_over_any_split_matches_the_one_call_step() {
    rows!(phases_in_every_precision);
}

#[test]
fn a_partial_that_misses_a_range_is_refused() {
    let n = 2 * TILE;
    let mut opt = Optimizer::<f32, _>::new(Prodigy::new(ProdigyConfig::default()), n).unwrap();
    let state = vec![0.0f32; opt.state_len()];
    let (x, g) = (vec![1.0f32; n], vec![0.5f32; n]);
    let sr = opt.state_range(0, TILE).unwrap();
    let half = opt.partial(0, &x[..TILE], &g[..TILE], &state[sr]).unwrap();
    assert_eq!(opt.finish(&half), Err(Error::IncompletePartial));
    let sr = opt.state_range(TILE, n).unwrap();
    let other = opt
        .partial(TILE, &x[TILE..], &g[TILE..], &state[sr])
        .unwrap();
    assert_eq!(opt.finish(&half.combine(&other)), Ok(()));
}

#[test]
fn a_refused_step_leaves_no_plan_to_apply() {
    let mut opt = Optimizer::<f32, _>::new(Adam::new(AdamConfig::default()), 4).unwrap();
    let mut state = vec![0.0f32; opt.state_len()];
    let mut x = vec![1.0f32; 4];
    opt.step(&mut x, &[0.5; 4], &mut state).unwrap();
    let bad = [0.5, f32::NAN, 0.5, 0.5];
    assert_eq!(
        opt.step(&mut x, &bad, &mut state),
        Err(Error::NonFiniteGradient)
    );
    let before = bits(&x);
    assert_eq!(
        opt.update(0, &mut x, &bad, &mut state),
        Err(Error::NoPendingStep)
    );
    assert_eq!(bits(&x), before);
}

#[test]
fn a_rule_that_ignores_the_loss_takes_the_same_step_with_one() {
    let rule = Adam::new(AdamConfig::default());
    let mut plain = Optimizer::<f32, _>::new(rule, 4).unwrap();
    let mut with = plain.clone();
    let (mut s1, mut s2) = (vec![0.0f32; plain.state_len()], vec![0.0f32; 4 * 2]);
    let (mut x1, mut x2) = (vec![1.0f32; 4], vec![1.0f32; 4]);
    let g = [0.5f32, -0.25, 2.0, 0.0];
    plain.step(&mut x1, &g, &mut s1).unwrap();
    with.step_with_loss(&mut x2, &g, 3.5, &mut s2).unwrap();
    assert_eq!(bits(&x1), bits(&x2));
    // A non-finite loss is refused even by a rule that would not read it.
    for loss in [f64::NAN, f64::INFINITY] {
        let before = (bits(&x2), bits(&s2), with.progress().k);
        assert_eq!(
            with.step_with_loss(&mut x2, &g, loss, &mut s2),
            Err(Error::NonFiniteLoss)
        );
        assert_eq!((bits(&x2), bits(&s2), with.progress().k), before);
    }
}

#[test]
fn update_is_refused_in_eval_mode() {
    let rule = ScheduleFreeSgd::new(ScheduleFreeSgdConfig::default());
    let mut opt = Optimizer::<f32, _>::new(rule, 4).unwrap();
    let mut state = vec![0.0f32; opt.state_len()];
    let mut x = vec![1.0f32; 4];
    opt.step(&mut x, &[0.5; 4], &mut state).unwrap();
    let partial = opt.partial(0, &x, &[0.5; 4], &state).unwrap();
    opt.finish(&partial).unwrap();
    opt.eval(&mut x, &state).unwrap();
    assert_eq!(
        opt.update(0, &mut x, &[0.5; 4], &mut state),
        Err(Error::EvalMode)
    );
}
