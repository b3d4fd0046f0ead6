//! `cargo xtask conform [--precision f64|f32|both] PATH...`: replays
//! reference trajectory fixtures with freestep and compares them with the
//! reference step by step.
//!
//! # Fixtures
//!
//! A fixture is a JSON file in the format of the shared conformance
//! `SCHEMA.md` (schema version 1): what an official Python optimizer did,
//! step by step, in float64. Each PATH is a fixture file, or a folder that is
//! scanned recursively for `*.json`. A fixture's name is its file stem.
//!
//! The optimizers `torch-sgd`, `torch-adam`, `torch-adamw`,
//! `sgd-schedulefree`, `adamw-schedulefree` and `prodigy` are replayed; any
//! other optimizer is skipped. Fixtures of `kind: "finite_sum"` (SAGA, SAG,
//! SVRG, Finito, Point-SAGA) are not trajectories: they are run to an
//! optimum by [`finite_sum`], and print `PASS <fixture> <precision>
//! subopt=<value>` (or FAIL) with the relative suboptimality at the end.
//! Hyperparameters keep their official names. `hyperparameters` holds only
//! the keyword arguments passed; the resolved values come from
//! `param_group_after_init`, then from the official defaults (see
//! [`rules`]). A key that no rule reads fails the fixture, except the
//! math-free `foreach`, `fused`, `capturable`, `differentiable` and a false
//! `fsdp_in_use`.
//!
//! Each tensor in `shapes` becomes one freestep `Group` with scale 1, so that
//! Prodigy's `slice_p` samples each tensor from its first element, as the
//! reference does.
//!
//! # Replay
//!
//! Open-loop fixtures are fed their gradient rows. Closed-loop fixtures get
//! the gradient of SCHEMA.md's L2-regularised logistic regression, computed
//! from the fixture's data set at the current train-mode parameters; the
//! recorded gradients are not used.
//!
//! freestep's Schedule-Free rules start in train mode, where the reference
//! is after the `train()` call that its protocol records, so the replay needs
//! no such call. After each step the train weights `y` are compared with
//! `expected.params`, and `Optimizer::eval_params` with
//! `expected.eval_params` when that is present. When
//! `protocol.eval_train_each_step` is set, the replay calls `eval` and then
//! `train` on the live optimizer after every step, as the reference did, and
//! reads the eval weights in between.
//!
//! # Deviation
//!
//! After each step, `rel_dev` is the largest of `||x - x_ref|| / ||x_ref||`
//! (the plain norm of the difference when `||x_ref|| = 0`) over the params,
//! the eval params and the scalars of `expected.scalars` (Schedule-Free `k`,
//! `scheduled_lr`, `lr_max`, `weight_sum`; Prodigy `d`, `d_hat`, `d_max`,
//! `d_numerator`, `d_denom`, `k`). Scalars are compared one by one and also
//! as a vector. Null reference values are skipped, and a value that the
//! reference has but freestep does not is an infinite deviation. A
//! non-finite value on either side also counts as an infinite deviation.
//!
//! # Tolerances
//!
//! f64: every step is held to 1e-9, the issue's bar. SCHEMA.md expects about
//! that from a float64 implementation, since the references move by about
//! 1e-12 when their inputs do.
//!
//! f32: parameters, gradients and state are `f32` (hyperparameters and
//! rule scalars stay `f64`), and the run is compared with the same float64
//! reference. No single bound is honest here. SGD and Adam stay within about
//! 2e-6 of the reference, but Prodigy's `d` is estimated from
//! `Σ g·(p0 - p)` over displacements that start at `d0·lr`, about 1e-6. That
//! is a few f32 ulps of a parameter of size 1, so the official Prodigy itself,
//! run in float32, ends 1e-3 to 5e-2 away from its float64 run. The fixtures'
//! `sensitivity` cannot show this: it perturbs x0 and the gradients, and that
//! perturbation cancels in `p0 - p`. The f32 bar is therefore measured per
//! fixture, with a shadow replay that computes in f64 but rounds x0, every
//! gradient, the parameters and the state to f32 after every write. That is
//! how far f32 storage alone moves the reference's trajectory. Step `t` of
//! the f32 replay is held to `max(1e-4, 20 × s_t)`, where `s_t` is the
//! shadow's worst deviation up to step `t`. Over the project's fixtures, the
//! f32 replay's deviation is at most 8.7 times the shadow's, and float32
//! torch runs follow the shadow too. Once the shadow deviates by more than
//! 0.1, or is refused (the trajectory leaves f32's range), the following
//! steps are not compared. If the steps before pass, the f32 result is a SKIP
//! that names the step and the part that f32 could not follow.
//!
//! # Output
//!
//! One line per fixture and precision, sorted by name:
//! `PASS <fixture> <precision> max_rel_dev=<value>`,
//! `FAIL <fixture> <precision> step=<k> rel_dev=<value>` (k is the first
//! step, counted from 1, that exceeds the tolerance) or
//! `SKIP <fixture> <reason>` (once per fixture, unless only its f32 replay
//! is skipped). A step that freestep refuses, a fixture that is malformed and
//! a rule that cannot be built fail with `rel_dev=inf (error: <reason>)`;
//! `step=0` means before the first step. The last line is
//! `N passed, N failed, N skipped`, and the task fails when any replay
//! failed.
//!
//! Fixture numbers are read with serde_json's default float parser, which
//! can be one ulp off for some decimal strings: about 1e-16, far below any
//! tolerance here.

pub mod finite_sum;
pub mod fixture;
mod json;
mod replay;
mod report;
pub mod rules;

use std::path::{Path, PathBuf};

use fixture::{Fixture, Loaded};
use replay::{Outcome, Storage, Trajectory};
use report::{Line, Precision, Tally};
use rules::Rule;

/// The f64 bar: SCHEMA.md's "about 1e-9 normwise per step".
const F64_TOLERANCE: f64 = 1e-9;

/// The f64 bar of Mechanic on the closed loop, whose reference amplifies a
/// relative perturbation of 1e-12 to about 1e-7 (SCHEMA.md).
const F64_MECHANIC_CLOSED_LOOP: f64 = 1e-5;

/// The smallest f32 tolerance: about a thousand f32 roundings.
const F32_FLOOR: f64 = 1e-4;

/// How many times the f32-storage shadow's deviation an f32 replay may
/// deviate. Over the project's fixtures the ratio is at most 8.7 (and at
/// most 6.5 where the floor does not dominate), so 20 leaves room for other
/// rounding sequences without hiding a real error.
const F32_MARGIN: f64 = 20.0;

/// Once f32 storage alone moves the reference trajectory this far, an f32
/// replay cannot be compared with it any more.
const F32_LOST: f64 = 0.1;

/// Runs the task; an `Err` (after the report) when any fixture failed.
pub fn run(args: &[String]) -> Result<(), String> {
    let (precisions, paths) = parse_args(args)?;
    let mut files = Vec::new();
    for path in &paths {
        collect(path, &mut files)?;
    }
    let mut lines: Vec<(String, PathBuf, Line)> = Vec::new();
    for file in files {
        let name = stem(&file);
        for line in check_file(&file, &name, &precisions) {
            lines.push((name.clone(), file.clone(), line));
        }
    }
    // A stable sort keeps each fixture's precisions in the requested order.
    lines.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut tally = Tally::default();
    for (_, _, line) in &lines {
        println!("{line}");
        tally.add(line);
    }
    println!("{tally}");
    match tally.failed {
        0 => Ok(()),
        n => Err(format!("{n} replay(s) failed")),
    }
}

const USAGE: &str = "usage: cargo xtask conform [--precision f64|f32|both] PATH...";

/// The precisions to run and the paths to scan.
fn parse_args(args: &[String]) -> Result<(Vec<Precision>, Vec<PathBuf>), String> {
    let mut precisions = vec![Precision::F64];
    let mut paths = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = match arg.strip_prefix("--precision") {
            Some("") => it.next().map(String::as_str),
            Some(rest) if rest.starts_with('=') => Some(&rest[1..]),
            _ if arg.starts_with('-') => return Err(format!("unknown option `{arg}`\n{USAGE}")),
            _ => {
                paths.push(PathBuf::from(arg));
                continue;
            }
        };
        precisions = match value {
            Some("f64") => vec![Precision::F64],
            Some("f32") => vec![Precision::F32],
            Some("both") => vec![Precision::F64, Precision::F32],
            Some(other) => {
                let why = format!("bad --precision `{other}` (expected f64, f32 or both)");
                return Err(format!("{why}\n{USAGE}"));
            }
            None => return Err(format!("--precision needs a value\n{USAGE}")),
        };
    }
    if paths.is_empty() {
        return Err(format!("no fixture path given\n{USAGE}"));
    }
    Ok((precisions, paths))
}

/// Adds `path` (a file) or every `*.json` under it (a folder) to `files`.
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut children = Vec::new();
    for entry in entries {
        children.push(
            entry
                .map_err(|e| format!("{}: {e}", path.display()))?
                .path(),
        );
    }
    children.sort();
    for child in children {
        if child.is_dir() {
            collect(&child, files)?;
        } else if child.extension().is_some_and(|e| e == "json") {
            files.push(child);
        }
    }
    Ok(())
}

/// The fixture's name: its file stem.
fn stem(path: &Path) -> String {
    path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

/// The lines of one fixture file: one SKIP, or one line per precision.
fn check_file(path: &Path, name: &str, precisions: &[Precision]) -> Vec<Line> {
    let fail_all = |reason: String| {
        precisions
            .iter()
            .map(|&p| Line::malformed(name, p, reason.clone()))
            .collect()
    };
    let fixture = match fixture::load(path) {
        Ok(Loaded::Replay(f)) => f,
        Ok(Loaded::FiniteSum(f)) => return check_finite_sum(name, &f, precisions),
        Ok(Loaded::Skip(reason)) => {
            let name = name.to_string();
            return vec![Line::Skip { name, reason }];
        }
        Err(reason) => return fail_all(reason),
    };
    let rule = match rules::resolve(&fixture).and_then(|r| check_protocol(&fixture, r)) {
        Ok(rule) => rule,
        Err(reason) => return fail_all(reason),
    };
    precisions
        .iter()
        .map(|&p| match p {
            Precision::F64 => Line::from_outcome(name, p, check_f64(&fixture, rule)),
            Precision::F32 => check_f32(name, &fixture, rule),
        })
        .collect()
}

/// One line per precision for a finite-sum fixture: its suboptimality
/// after the run, against the fixture's bar.
fn check_finite_sum(name: &str, f: &finite_sum::Fixture, precisions: &[Precision]) -> Vec<Line> {
    let line = |precision: Precision, run: Result<Vec<f64>, String>| match run {
        Ok(w) => Line::optimum(name, precision, finite_sum::subopt(f, &w), f.subopt_rel),
        Err(reason) => Line::malformed(name, precision, reason),
    };
    precisions
        .iter()
        .map(|&p| match p {
            Precision::F64 => line(p, finite_sum::run::<f64>(f)),
            Precision::F32 => line(p, finite_sum::run::<f32>(f)),
        })
        .collect()
}

/// Checks that the fixture asks only for what the rule has: eval weights for
/// Schedule-Free only, and scalars the rule reports.
fn check_protocol(fixture: &Fixture, rule: Rule) -> Result<Rule, String> {
    if rule.is_schedule_free() && !fixture.train_before_first_step {
        return Err(
            "protocol.schedule_free_train_called_before_first_step is false, \
                    but the reference cannot step before train()"
                .into(),
        );
    }
    if !rule.is_schedule_free() && fixture.eval_train_each_step {
        return Err("protocol.eval_train_each_step is true for a rule without eval weights".into());
    }
    if !rule.is_schedule_free() && fixture.expected.eval_params.is_some() {
        return Err("expected.eval_params is given for a rule without eval weights".into());
    }
    let keys = fixture.expected.scalars.iter().flatten().flatten();
    if let Some((key, _)) = keys
        .into_iter()
        .find(|(k, _)| !rule.scalar_names().contains(&k.as_str()))
    {
        return Err(format!(
            "unknown scalar `{key}` in expected.scalars for {}",
            fixture.optimizer
        ));
    }
    Ok(rule)
}

/// The f64 replay, held to [`F64_TOLERANCE`] at every step (Mechanic's
/// closed loop to [`F64_MECHANIC_CLOSED_LOOP`]).
fn check_f64(fixture: &Fixture, rule: Rule) -> Outcome {
    let replayed = replay::trajectory::<f64>(fixture, rule, Storage::Native);
    let closed = matches!(fixture.problem, fixture::Problem::ClosedLoop(_));
    let tolerance = match rule {
        Rule::Mechanic(..) if closed => F64_MECHANIC_CLOSED_LOOP,
        _ => F64_TOLERANCE,
    };
    replayed.judge(&vec![tolerance; fixture.steps()])
}

/// The f32 replay, held to the tolerances the f32-storage shadow allows.
/// Steps the shadow cannot follow are not compared; when there are any and
/// the steps before them pass, the fixture is skipped at f32 with the reason.
fn check_f32(name: &str, fixture: &Fixture, rule: Rule) -> Line {
    let shadow = replay::trajectory::<f64>(fixture, rule, Storage::F32);
    let (tolerances, lost) = f32_tolerances(&shadow);
    let replayed = replay::trajectory::<f32>(fixture, rule, Storage::Native);
    match (replayed.judge(&tolerances), lost) {
        (Outcome::Pass(_), Some(reason)) => Line::Skip {
            name: name.to_string(),
            reason: format!("f32 cannot follow the reference from step {reason}"),
        },
        (outcome, _) => Line::from_outcome(name, Precision::F32, outcome),
    }
}

/// The f32 tolerance of each step the shadow could follow, and, when it lost
/// the trajectory, from which step and why. A step's tolerance is
/// [`F32_MARGIN`] times the shadow's worst deviation so far, at least
/// [`F32_FLOOR`].
fn f32_tolerances(shadow: &Trajectory) -> (Vec<f64>, Option<String>) {
    let mut tolerances = Vec::with_capacity(shadow.deviations.len());
    let mut worst = 0.0f64;
    for (t, dev) in shadow.deviations.iter().enumerate() {
        if replay::exceeds(dev.value, F32_LOST) {
            let why = format!(
                "{}: f32 storage alone moves its {} by {:.3e}",
                t + 1,
                dev.part,
                dev.value
            );
            return (tolerances, Some(why));
        }
        worst = worst.max(dev.value);
        tolerances.push((F32_MARGIN * worst).max(F32_FLOOR));
    }
    let lost = shadow
        .refused
        .as_ref()
        .map(|(step, e)| format!("{step}: with f32 storage freestep refuses it ({e})"));
    (tolerances, lost)
}

#[cfg(test)]
mod tests {
    use super::*;
    use replay::Deviation;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn precision_flags() {
        let (p, paths) = parse_args(&args(&["--precision", "both", "a", "b"])).unwrap();
        assert_eq!((p, paths.len()), (vec![Precision::F64, Precision::F32], 2));
        let (p, _) = parse_args(&args(&["a", "--precision=f32"])).unwrap();
        assert_eq!(p, vec![Precision::F32]);
        assert!(parse_args(&args(&["--precision", "f16", "a"])).is_err());
        assert!(parse_args(&args(&["--precision", "f64"])).is_err());
        assert!(parse_args(&args(&["--fast", "a"])).is_err());
    }

    fn shadow(values: &[f64], refused: Option<usize>) -> Trajectory {
        Trajectory {
            deviations: values
                .iter()
                .map(|&value| Deviation {
                    value,
                    part: "params".into(),
                })
                .collect(),
            refused: refused.map(|s| (s, "overflow".into())),
        }
    }

    #[test]
    fn f32_tolerances_follow_the_shadow() {
        let (tol, lost) = f32_tolerances(&shadow(&[1e-8, 1e-3, 1e-4], None));
        assert_eq!(tol, vec![F32_FLOOR, 20e-3, 20e-3]);
        assert!(lost.is_none());
        let (tol, lost) = f32_tolerances(&shadow(&[1e-8, 0.5, 1e-4], None));
        assert_eq!(tol.len(), 1);
        assert!(lost.is_some_and(|r| r.starts_with("2: ") && r.contains("params")));
        let (tol, lost) = f32_tolerances(&shadow(&[1e-8], Some(2)));
        assert_eq!(tol.len(), 1);
        assert!(lost.is_some_and(|r| r.starts_with("2: ") && r.contains("overflow")));
    }

    #[test]
    fn a_malformed_file_fails_each_precision_without_panicking() {
        let dir = std::env::temp_dir().join(format!("freestep-conform-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("torch-sgd-broken.json");
        std::fs::write(
            &path,
            r#"{"schema_version": 1, "kind": "open_loop", "optimizer": "torch-sgd"}"#,
        )
        .unwrap();
        let lines = check_file(&path, "torch-sgd-broken", &[Precision::F64, Precision::F32]);
        let text: Vec<String> = lines.iter().map(ToString::to_string).collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(text.len(), 2);
        assert!(text[0].starts_with("FAIL torch-sgd-broken f64 step=0 rel_dev=inf (error: "));
        assert!(text[1].starts_with("FAIL torch-sgd-broken f32 step=0"));
    }

    #[test]
    fn a_finite_sum_fixture_passes_and_fails_with_a_wrong_optimum() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let path = root.join("tests/conformance/fixtures/saga-cancer-l2.json");
        let lines = check_file(&path, "saga", &[Precision::F64]);
        assert!(matches!(lines[..], [Line::Optimum { passed: true, .. }]));
        // The same run judged against an optimum 1e-6 below the true one.
        let text = std::fs::read_to_string(&path).unwrap();
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let f_star = value["expected"]["f_star"].as_f64().unwrap();
        value["expected"]["f_star"] = (f_star - 1e-6).into();
        let dir = std::env::temp_dir().join(format!("freestep-fs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let wrong = dir.join("saga-wrong.json");
        std::fs::write(&wrong, value.to_string()).unwrap();
        let lines = check_file(&wrong, "saga-wrong", &[Precision::F64]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(lines[..], [Line::Optimum { passed: false, .. }]));
    }

    #[test]
    fn a_project_fixture_passes_at_both_precisions() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let path =
            root.join("tests/conformance/fixtures/sgd-schedulefree-evaltrain-each-step.json");
        let lines = check_file(&path, "sf", &[Precision::F64, Precision::F32]);
        assert!(lines.iter().all(|l| matches!(l, Line::Pass { .. })));
    }
}
