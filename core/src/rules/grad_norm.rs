//! The pieces of the rules that scale their step by `‖g‖` (the Polyak step,
//! normalized gradient descent): the squared norm of one piece, their global
//! sum, and the descent step itself.

use crate::float::Float;
use crate::optimizer::PieceMut;
use crate::reduce::{fold_lanes, LANES, MAX_SUMS};

/// The partial sums `[Σ g², 0, 0, 0]` of one piece: squared in `f64` so that
/// no `f32` gradient overflows, summed in the fixed lanes of every in-piece
/// sum.
pub(crate) fn squared_norm<T: Float>(grads: &[T]) -> [f64; MAX_SUMS] {
    let mut lanes = [0.0f64; LANES];
    for (i, &g) in grads.iter().enumerate() {
        if let Some(lane) = lanes.get_mut(i % LANES) {
            let g = g.to_f64();
            *lane += g * g;
        }
    }
    let mut out = [0.0; MAX_SUMS];
    out[0] = fold_lanes(lanes);
    out
}

/// `p ← p - r lr (g · unit)`, `r` the group's lr multiplier, in `f64`: the
/// step size may lie far outside `f32`'s range while the step does not
/// (`unit = 1 / ‖g‖` keeps `g · unit` at most 1 in size).
pub(crate) fn descend<T: Float>(piece: PieceMut<'_, T>, lr: f64, unit: f64) {
    let lr = lr * piece.lr_scale;
    for (p, &g) in piece.params.iter_mut().zip(piece.grads) {
        *p -= T::from_f64(lr * (g.to_f64() * unit));
    }
}
