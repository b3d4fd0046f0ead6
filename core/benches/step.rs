//! One step of every rule at 64K and 16M `f32` parameters, single thread.
//!
//! Throughput is reported as bytes of memory traffic per second, using the
//! traffic freestep's passes actually move per parameter (`moved` below).
//! `cargo xtask bench` reads criterion's estimates afterwards and prints ns
//! per parameter and GB/s beside the traffic the rule's math needs.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use freestep::*;
use std::hint::black_box;
use std::time::Duration;

/// Bytes per parameter of one step as implemented: every buffer read or
/// written per element, plus the gradient scan that refuses non-finite
/// gradients before anything changes.
struct Traffic {
    /// What the math needs in the fewest passes the rule allows.
    needed: u64,
    /// What freestep's passes move.
    moved: u64,
}

/// Benchmarks every rule at `$n` parameters: the table of rules.
macro_rules! rules {
    ($c:expr, $n:expr) => {{
        macro_rules! bench {
            ($name:expr, $rule:expr, $traffic:expr) => {
                one_rule($c, $name, $rule, $traffic, $n)
            };
        }
        let f = 4; // bytes per f32
        bench!(
            "sgd",
            Sgd::new(SgdConfig::default()),
            Traffic {
                needed: 3 * f,
                moved: 4 * f
            }
        );
        let momentum = SgdConfig {
            momentum: 0.9,
            ..Default::default()
        };
        bench!(
            "sgd-momentum",
            Sgd::new(momentum),
            Traffic {
                needed: 5 * f,
                moved: 6 * f
            }
        );
        bench!(
            "adam",
            Adam::new(AdamConfig::default()),
            Traffic {
                needed: 7 * f,
                moved: 8 * f
            }
        );
        bench!(
            "adamw",
            Adam::new(AdamConfig::adamw()),
            Traffic {
                needed: 7 * f,
                moved: 8 * f
            }
        );
        let ams = AdamConfig {
            amsgrad: true,
            ..AdamConfig::adamw()
        };
        bench!(
            "adamw-amsgrad",
            Adam::new(ams),
            Traffic {
                needed: 9 * f,
                moved: 10 * f
            }
        );
        let sf_sgd = ScheduleFreeSgd::new(Default::default());
        bench!(
            "sgd-schedulefree",
            sf_sgd,
            Traffic {
                needed: 5 * f,
                moved: 6 * f
            }
        );
        let sf_adamw = ScheduleFreeAdamW::new(Default::default());
        bench!(
            "adamw-schedulefree",
            sf_adamw,
            Traffic {
                needed: 7 * f,
                moved: 8 * f
            }
        );
        // Prodigy needs two passes: the sums (p, g, p0, s) before d is known,
        // then the update (p, g, s, m, v read; p, s, m, v written).
        let prodigy = Prodigy::new(ProdigyConfig::default());
        bench!(
            "prodigy",
            prodigy,
            Traffic {
                needed: 13 * f,
                moved: 14 * f
            }
        );
    }};
}

fn one_rule<R: UpdateRule>(c: &mut Criterion, name: &str, rule: R, traffic: Traffic, n: usize) {
    let mut opt = Optimizer::<f32, R>::new(rule, n).expect("valid rule");
    let mut params: Vec<f32> = (0..n).map(|i| (i % 97) as f32 * 0.01 - 0.5).collect();
    let grads: Vec<f32> = (0..n).map(|i| (i % 89) as f32 * 0.001 - 0.04).collect();
    // Alternating the gradient's sign keeps the parameters (and Prodigy's d)
    // bounded however many steps criterion takes.
    let flipped: Vec<f32> = grads.iter().map(|g| -g).collect();
    let mut flip = false;
    let mut state = vec![0.0f32; opt.state_len()];
    // The first step writes the state without reading it; time later steps.
    opt.step(&mut params, &grads, &mut state).expect("step");
    let mut group = c.benchmark_group(format!("step/{n}"));
    if n > 1 << 20 {
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(4));
    }
    group.throughput(Throughput::Bytes(traffic.moved * n as u64));
    group.bench_function(
        BenchmarkId::new(name, format!("needed={}", traffic.needed)),
        |b| {
            b.iter(|| {
                flip = !flip;
                let g = if flip { &flipped } else { &grads };
                opt.step(black_box(&mut params), black_box(g), &mut state)
                    .expect("step");
            })
        },
    );
    group.finish();
}

fn steps(c: &mut Criterion) {
    for n in [1 << 16, 1 << 24] {
        rules!(c, n);
    }
}

criterion_group!(benches, steps);
criterion_main!(benches);
