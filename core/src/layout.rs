//! Where each value of a rule's per-parameter state lives in the caller's
//! state buffer, and how parameters are split into groups.
//!
//! # Tiles
//!
//! The parameters are cut into tiles of [`TILE`] consecutive elements (the
//! last tile may be shorter). A tile's state is stored together:
//!
//! ```text
//! | section 0 (r values) | ... | section D-1 (r values) | sampled 0 (c) | sampled 1 (c) |
//! ```
//!
//! where `r` is the tile's length, `D` the rule's number of dense sections
//! (Adam: `m` and `v`), and `c` the number of the tile's elements that carry
//! sampled state (Prodigy's `p0` and `s` when `slice_p > 1`). Inside a tile
//! each section is a plain array, which the compiler vectorises; across tiles
//! the state of parameters `a..b` is one contiguous range of the buffer when
//! `a` is a multiple of `TILE`. That is what lets a caller hand disjoint
//! parameter ranges, with their state, to different threads or processes.
//!
//! The state buffer never needs to be initialised by the caller: a rule's first
//! step writes every value before it reads any.
//!
//! # Groups
//!
//! A [`Group`] is a run of consecutive parameters with its own multipliers for
//! the learning rate and for weight decay (for example no decay on biases).
//! Groups partition `0..n` in order. A rule with sampled state samples every
//! `stride`-th element of each group, starting at the group's first element,
//! as the reference samples each tensor.

use core::num::NonZeroUsize;
use core::ops::Range;

use crate::error::Error;

/// Parameters per layout tile, and the alignment that a parameter range must
/// have for the phased step (see [`crate::Optimizer::partial`]).
pub const TILE: usize = 256;

/// The most groups an optimizer can hold.
pub const MAX_GROUPS: usize = 16;

/// The most dense state sections any rule uses.
pub(crate) const MAX_DENSE: usize = 5;
/// The most sampled state sections any rule uses.
pub(crate) const MAX_SAMPLED: usize = 2;

/// A run of consecutive parameters that shares a learning-rate multiplier and
/// a weight-decay multiplier.
///
/// # Examples
///
/// ```
/// use freestep::Group;
///
/// // 640 weights with the rule's weight decay, then 10 biases without it.
/// let groups = [Group::new(640), Group::new(10).weight_decay_scale(0.0)];
/// assert_eq!(groups[1].weight_decay_scale, 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Group {
    /// Number of parameters in the group.
    pub len: usize,
    /// The group's learning rate is the rule's `lr` times this (default 1).
    pub lr_scale: f64,
    /// The group's weight decay is the rule's `weight_decay` times this
    /// (default 1; 0 turns decay off for the group).
    pub weight_decay_scale: f64,
}

impl Group {
    /// A group of `len` parameters with both multipliers at 1.
    pub const fn new(len: usize) -> Self {
        Self {
            len,
            lr_scale: 1.0,
            weight_decay_scale: 1.0,
        }
    }

    /// Sets the learning-rate multiplier.
    pub const fn lr_scale(mut self, scale: f64) -> Self {
        self.lr_scale = scale;
        self
    }

    /// Sets the weight-decay multiplier.
    pub const fn weight_decay_scale(mut self, scale: f64) -> Self {
        self.weight_decay_scale = scale;
        self
    }
}

/// A group placed at its parameter indices.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub lr_scale: f64,
    pub weight_decay_scale: f64,
}

/// The number of elements `i` in `start..end` with `(i - origin) % stride ==
/// 0`, for `origin <= start`.
fn sampled_in(origin: usize, start: usize, end: usize, stride: NonZeroUsize) -> usize {
    if end <= start {
        return 0;
    }
    div_ceil(end - origin, stride) - div_ceil(start - origin, stride)
}

/// `a / b` rounded up. The divisor's type leaves no division-by-zero panic
/// path in the binary (see `cargo xtask no-panic`).
fn div_ceil(a: usize, b: NonZeroUsize) -> usize {
    a / b + usize::from(a % b != 0)
}

/// The number of state values a rule needs for `n` parameters in one group:
/// `dense` values per parameter plus `sampled` values per sampled parameter.
pub const fn state_len_one_group(n: usize, dense: usize, sampled: usize, stride: usize) -> usize {
    let stride = if stride == 0 { 1 } else { stride };
    dense * n + sampled * n.div_ceil(stride)
}

/// One piece of a parameter range: the part of one tile inside one group.
/// Ranges are relative to the slices handed to the phase.
#[derive(Clone, Debug)]
pub(crate) struct PieceSpec {
    pub params: Range<usize>,
    pub dense: [Range<usize>; MAX_DENSE],
    pub sampled: [Range<usize>; MAX_SAMPLED],
    /// Offset inside the piece of its first sampled element.
    pub first_sample: usize,
    pub lr_scale: f64,
    pub weight_decay_scale: f64,
}

/// The shape of a rule's state for a given parameter count and grouping.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Layout {
    pub n: usize,
    pub spans: heapless::Vec<Span, MAX_GROUPS>,
    pub dense: usize,
    pub sampled: usize,
    pub stride: NonZeroUsize,
}

impl Layout {
    /// Places `groups` over `0..n`. An empty `groups` means one group of all
    /// `n` parameters.
    pub fn new(
        n: usize,
        groups: &[Group],
        dense: usize,
        sampled: usize,
        stride: usize,
    ) -> Result<Self, Error> {
        let Some(stride) = NonZeroUsize::new(stride) else {
            return Err(Error::InvalidHyperparameter("slice_p"));
        };
        if dense > MAX_DENSE || sampled > MAX_SAMPLED {
            return Err(Error::InvalidHyperparameter("slice_p"));
        }
        let mut spans = heapless::Vec::new();
        let one = [Group::new(n)];
        let groups = if groups.is_empty() { &one[..] } else { groups };
        let mut start = 0usize;
        for g in groups {
            let scales_ok = g.lr_scale.is_finite()
                && g.lr_scale >= 0.0
                && g.weight_decay_scale.is_finite()
                && g.weight_decay_scale >= 0.0;
            if !scales_ok {
                return Err(Error::InvalidGroup);
            }
            let end = start.checked_add(g.len).ok_or(Error::GroupsDoNotCover)?;
            let span = Span {
                start,
                end,
                lr_scale: g.lr_scale,
                weight_decay_scale: g.weight_decay_scale,
            };
            spans.push(span).map_err(|_| Error::TooManyGroups)?;
            start = end;
        }
        if start != n {
            return Err(Error::GroupsDoNotCover);
        }
        let layout = Self {
            n,
            spans,
            dense,
            sampled,
            stride,
        };
        // Reject parameter counts whose state length would not fit a usize.
        layout.checked_offset(n).ok_or(Error::StateLength)?;
        Ok(layout)
    }

    /// Sampled elements among parameters `0..i`.
    fn samples_before(&self, i: usize) -> usize {
        self.spans
            .iter()
            .map(|s| sampled_in(s.start, s.start, i.min(s.end).max(s.start), self.stride))
            .sum()
    }

    fn checked_offset(&self, i: usize) -> Option<usize> {
        let dense = self.dense.checked_mul(i)?;
        let sampled = self.sampled.checked_mul(self.samples_before(i))?;
        dense.checked_add(sampled)
    }

    /// Where the state of parameters `0..i` ends.
    fn offset(&self, i: usize) -> usize {
        self.checked_offset(i).unwrap_or(usize::MAX)
    }

    /// The total number of state values.
    pub fn state_len(&self) -> usize {
        self.offset(self.n)
    }

    /// Checks that `start..end` is a range the phases accept: inside `0..n`,
    /// starting on a tile boundary.
    pub fn check_range(&self, start: usize, end: usize) -> Result<(), Error> {
        if start > end || end > self.n || start % TILE != 0 {
            return Err(Error::BadRange);
        }
        Ok(())
    }

    /// The state values of parameters `start..end` (a range accepted by
    /// [`check_range`](Self::check_range)).
    pub fn state_range(&self, start: usize, end: usize) -> Result<Range<usize>, Error> {
        self.check_range(start, end)?;
        Ok(self.offset(start)..self.offset(end))
    }

    /// Calls `f` with each piece of `start..end`, in order.
    pub fn for_each_piece<F>(&self, start: usize, end: usize, mut f: F)
    where
        F: FnMut(&PieceSpec),
    {
        let base = self.offset(start);
        let mut tile = start;
        while tile < end {
            let tile_end = end.min(tile.saturating_add(TILE));
            let r = tile_end - tile;
            let tile_state = self.offset(tile) - base;
            let sampled_total = self.samples_before(tile_end) - self.samples_before(tile);
            let sampled_base = tile_state + self.dense * r;
            let mut sample_cursor = 0;
            for span in self.spans.iter() {
                let a = span.start.max(tile);
                let b = span.end.min(tile_end);
                if a >= b {
                    continue;
                }
                let (lo, hi) = (a - tile, b - tile);
                let count = sampled_in(span.start, a, b, self.stride);
                let stride = self.stride.get();
                let first_sample = (stride - (a - span.start) % self.stride) % self.stride;
                let spec = PieceSpec {
                    params: a - start..b - start,
                    // Sections the rule does not use are empty ranges.
                    dense: core::array::from_fn(|j| match j < self.dense {
                        true => tile_state + j * r + lo..tile_state + j * r + hi,
                        false => 0..0,
                    }),
                    sampled: core::array::from_fn(|j| match j < self.sampled {
                        true => {
                            let at = sampled_base + j * sampled_total + sample_cursor;
                            at..at + count
                        }
                        false => 0..0,
                    }),
                    first_sample,
                    lr_scale: span.lr_scale,
                    weight_decay_scale: span.weight_decay_scale,
                };
                sample_cursor += count;
                f(&spec);
            }
            tile = tile_end;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn groups_must_cover_exactly() {
        assert!(Layout::new(10, &[Group::new(4), Group::new(6)], 2, 0, 1).is_ok());
        let short = Layout::new(10, &[Group::new(4)], 2, 0, 1);
        assert_eq!(short, Err(Error::GroupsDoNotCover));
        let many = [Group::new(1); MAX_GROUPS + 1];
        assert_eq!(
            Layout::new(MAX_GROUPS + 1, &many, 2, 0, 1),
            Err(Error::TooManyGroups)
        );
        let bad = [Group::new(10).lr_scale(f64::NAN)];
        assert_eq!(Layout::new(10, &bad, 2, 0, 1), Err(Error::InvalidGroup));
    }

    #[test]
    fn pieces_tile_the_state_without_gaps() {
        // Two groups, sampled every third element of each group.
        let groups = [Group::new(300), Group::new(250)];
        let layout = Layout::new(550, &groups, 2, 2, 3).unwrap();
        let samples = 300usize.div_ceil(3) + 250usize.div_ceil(3);
        assert_eq!(layout.state_len(), 2 * 550 + 2 * samples);
        let mut used = [0u8; 2 * 550 + 2 * 184];
        let mut params = 0;
        layout.for_each_piece(0, 550, |p| {
            params += p.params.len();
            for r in p.dense.iter().take(2).chain(p.sampled.iter()) {
                used[r.clone()].iter_mut().for_each(|u| *u += 1);
            }
        });
        assert_eq!(params, 550);
        assert!(used.iter().all(|&u| u == 1));
        // The second half, handed over alone, sees the same state range.
        let range = layout.state_range(256, 550).unwrap();
        assert_eq!(range.end, layout.state_len());
        // Elements 0, 3, ..., 255 of the first group are sampled: 86 of them.
        assert_eq!(range.start, 2 * 256 + 2 * 86);
        assert_eq!(layout.state_range(100, 550), Err(Error::BadRange));
    }
}
