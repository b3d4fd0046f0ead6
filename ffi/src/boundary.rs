//! The boundary every exported body goes through: checked views of the
//! caller's pointers, made before anything is read through them.
//!
//! A pointer from C becomes a `Buf` (an array and its length in elements)
//! or an `Out` (an out-parameter) only after the NULL, alignment and size
//! checks; a Rust slice or reference is formed from them only after every
//! other check of the call has passed, and only over the part of the array
//! the call uses.

use core::mem::size_of;
use core::ops::Range;
use core::ptr::NonNull;

use crate::status::freestep_status;

/// Runs an exported function's body and turns its result into a status.
pub(crate) fn boundary(body: impl FnOnce() -> Result<(), freestep_status>) -> freestep_status {
    match body() {
        Ok(()) => freestep_status::OK,
        Err(status) => status,
    }
}

/// Checks that `p` is not NULL and is aligned for `T`.
pub(crate) fn check_ptr<T>(p: *const T) -> Result<NonNull<T>, freestep_status> {
    let Some(p) = NonNull::new(p.cast_mut()) else {
        return Err(freestep_status::NULL_POINTER);
    };
    if !p.as_ptr().is_aligned() {
        return Err(freestep_status::MISALIGNED_POINTER);
    }
    Ok(p)
}

/// A caller's array of `len` elements, checked: NULL only when `len` is 0,
/// aligned, and no larger than a Rust slice may be.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Buf<T> {
    ptr: *mut T,
    len: usize,
}

impl<T> Buf<T> {
    /// Checks a read-only array.
    pub fn new(ptr: *const T, len: usize) -> Result<Self, freestep_status> {
        Self::new_mut(ptr.cast_mut(), len)
    }

    /// Checks an array the call may write.
    pub fn new_mut(ptr: *mut T, len: usize) -> Result<Self, freestep_status> {
        if ptr.is_null() && len == 0 {
            return Ok(Self { ptr, len });
        }
        check_ptr(ptr)?;
        let max = isize::MAX as usize / size_of::<T>().max(1);
        if len > max {
            return Err(freestep_status::BAD_LENGTH);
        }
        Ok(Self { ptr, len })
    }

    /// The length in elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The elements `range` of this array, checked against its length.
    pub fn sub(&self, range: Range<usize>) -> Result<Self, freestep_status> {
        if range.start > range.end || range.end > self.len {
            return Err(freestep_status::BAD_RANGE);
        }
        if range.is_empty() {
            return Ok(Self {
                ptr: core::ptr::null_mut(),
                len: 0,
            });
        }
        Ok(Self {
            // The offset stays inside the caller's array, as just checked.
            ptr: self.ptr.wrapping_add(range.start),
            len: range.len(),
        })
    }

    /// The byte addresses the array covers (empty for an empty array).
    fn bytes(&self) -> Range<usize> {
        let start = self.ptr as usize;
        start..start.saturating_add(self.len * size_of::<T>())
    }

    /// True when the two arrays share a byte.
    pub fn overlaps<U>(&self, other: &Buf<U>) -> bool {
        let (a, b) = (self.bytes(), other.bytes());
        !a.is_empty() && !b.is_empty() && a.start < b.end && b.start < a.end
    }

    /// The array as a slice.
    ///
    /// # Safety
    ///
    /// The caller of the exported function promised that a non-NULL pointer
    /// points to at least `len` initialised elements, and no `&mut` to them
    /// may live while the slice does.
    pub unsafe fn slice<'a>(&self) -> &'a [T] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `new_mut` checked that the pointer is non-NULL, aligned and
        // that `len` elements fit in `isize::MAX` bytes; the function's
        // contract makes the elements valid and unaliased by writers.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The array as a mutable slice.
    ///
    /// # Safety
    ///
    /// As for [`slice`](Self::slice), and no other reference to these
    /// elements may live while the slice does (see [`disjoint`]).
    pub unsafe fn slice_mut<'a>(&self) -> &'a mut [T] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: as in `slice`; the caller also checked with `disjoint` that
        // no other buffer of the call overlaps this one.
        unsafe { core::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

/// Refuses a call whose written array `written` overlaps any of `others`.
pub(crate) fn disjoint<T>(written: &Buf<T>, others: &[&Buf<T>]) -> Result<(), freestep_status> {
    if others.iter().any(|o| written.overlaps(o)) {
        return Err(freestep_status::OVERLAPPING_BUFFERS);
    }
    Ok(())
}

/// A checked out-parameter: non-NULL and aligned. Written once, on success.
#[derive(Debug)]
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// Checks an out-parameter.
    pub fn new(ptr: *mut T) -> Result<Self, freestep_status> {
        check_ptr(ptr).map(Self)
    }

    /// The checked pointer, for overlap checks.
    pub fn as_ptr(&self) -> *const T {
        self.0.as_ptr()
    }

    /// Stores `value` without reading or dropping what was there.
    ///
    /// # Safety
    ///
    /// The caller of the exported function promised that the pointer is
    /// valid for writing a `T`.
    pub unsafe fn write(self, value: T) {
        // SAFETY: `new` checked non-NULL and alignment; the contract makes
        // the memory writable, and `write` does not read the old bytes.
        unsafe { self.0.as_ptr().write(value) }
    }
}
