//! Replays of reference trajectories of the official implementations, in
//! f64, held to the conformance runner's bar of 1e-9 normwise per step.
//!
//! The trajectories are the first steps of some of the project's own
//! open-loop fixtures (`tests/conformance/fixtures`), embedded in flash by
//! `fixtures.rs`, which `cargo xtask cross` generates and checks.

use core::fmt::Write;

use freestep::{Error, Group, Optimizer, MAX_GROUPS};

use crate::cases::{Job, Weights};
use crate::fixtures::{Fixture, FIXTURES, MAX_DIM};
use crate::report::{Failure, Report};

/// The f64 bar of `cargo xtask conform`.
pub const TOLERANCE: f64 = 1e-9;

/// Five state values per parameter, plus the sampled values that slices
/// rounded up per tensor can add.
const STATE_CAP: usize = 5 * MAX_DIM + 2 * MAX_GROUPS;

pub fn run<W: Write>(report: &mut Report<W>) {
    for fixture in &FIXTURES {
        let name = fixture.name;
        let result = fixture.rule.with(Replay(fixture));
        report.check(format_args!("{name} f64 replay"), result);
    }
}

struct Replay<'a>(&'a Fixture);

impl Job for Replay<'_> {
    type Output = Result<(), Failure>;

    // Not inlined into `Rule::with`, whose arms would otherwise each keep
    // their own arrays in one frame: too much stack for a Cortex-M0.
    #[inline(never)]
    fn run<R: Weights>(self, rule: R) -> Self::Output {
        let f = self.0;
        let failed = |e: Error| Failure::new(e.message());
        let mut groups = [Group::new(0); MAX_GROUPS];
        let groups = groups
            .get_mut(..f.tensors.len())
            .ok_or(Failure::new("too many tensors"))?;
        for (g, &len) in groups.iter_mut().zip(f.tensors) {
            *g = Group::new(len);
        }
        let mut opt = Optimizer::<f64, R>::with_groups(rule, f.dim, groups).map_err(failed)?;
        let mut params_buf = [0.0f64; MAX_DIM];
        let mut eval_buf = [0.0f64; MAX_DIM];
        let mut state_buf = [0.0f64; STATE_CAP];
        let too_big = Failure::new("fixture larger than the replay buffers");
        let params = params_buf.get_mut(..f.dim).ok_or(too_big)?;
        let eval = eval_buf.get_mut(..f.dim).ok_or(too_big)?;
        let state = state_buf.get_mut(..opt.state_len()).ok_or(too_big)?;
        params.copy_from_slice(f.x0);
        for t in 0..f.steps {
            let row = |xs: &'static [f64]| xs.get(t * f.dim..(t + 1) * f.dim);
            let grads = row(f.grads).ok_or(too_big)?;
            opt.step(params, grads, state)
                .map_err(|e| failed(e).at(t + 1))?;
            let expected = row(f.params).ok_or(too_big)?;
            within(params, expected).map_err(|f| f.at(t + 1))?;
            if R::eval_weights(&opt, params, state, eval).map_err(failed)? {
                let expected = row(f.eval).ok_or(Failure::new("no eval weights recorded"))?;
                within(eval, expected).map_err(|f| f.at(t + 1))?;
            }
        }
        Ok(())
    }
}

/// `‖x − r‖ / ‖r‖ ≤ TOLERANCE` (absolute when `r` is zero); NaN fails.
fn within(x: &[f64], r: &[f64]) -> Result<(), Failure> {
    // Scaled by the largest magnitude so that squares cannot overflow.
    let scale = x
        .iter()
        .chain(r)
        .fold(0.0f64, |m, v| if v.abs() > m { v.abs() } else { m });
    if scale == 0.0 {
        return Ok(());
    }
    let (mut diff, mut base) = (0.0f64, 0.0f64);
    for (a, b) in x.iter().zip(r) {
        let d = (a - b) / scale;
        diff += d * d;
        base += (b / scale) * (b / scale);
    }
    let dev = match base == 0.0 {
        true => libm::sqrt(diff) * scale,
        false => libm::sqrt(diff / base),
    };
    match dev <= TOLERANCE {
        true => Ok(()),
        false => Err(Failure::new("deviates from the reference").value(dev)),
    }
}
