//! The C ABI of the finite-sum methods (SAGA, SAG, SVRG, Finito,
//! Point-SAGA), of SPS, of their step-size theory and of their sampling
//! helpers.
//!
//! A method lives in a `freestep_finite_sum`, a plain struct the caller
//! allocates and `freestep_finite_sum_init` fills: the configuration, the
//! precision and the progress of a snapshot or table fill. It holds only
//! integers and doubles, so any bytes are a valid value; every call checks
//! it again (rebuilding the core method from it) before it reads an array,
//! so a struct changed by the caller is refused with a status, never
//! misread. The table is the caller's `state` array.
//!
//! Every call of a run, for every method:
//!
//! 1. `freestep_finite_sum_begin_*`: zero the table (SAGA, SAG, Point-SAGA),
//!    take the snapshot (SVRG) or set every point to `w` (Finito);
//! 2. SVRG and Finito: `freestep_finite_sum_add_*` for samples `0..n-1` in
//!    order, with each gradient at the snapshot or start point;
//! 3. `freestep_finite_sum_step_*` (or `freestep_finite_sum_prox_step_*` for
//!    Point-SAGA) on each sampled index. SVRG repeats 1 and 2 every epoch.

use freestep_core::finite_sum::finito::{Finito, FinitoConfig};
use freestep_core::finite_sum::point_saga::{PointSaga, PointSagaConfig};
use freestep_core::finite_sum::polyak::{Sps, SpsConfig};
use freestep_core::finite_sum::prox::Loss;
use freestep_core::finite_sum::sag::{Sag, SagConfig};
use freestep_core::finite_sum::saga::{Saga, SagaConfig};
use freestep_core::finite_sum::sampling::{Rng, Weighted};
use freestep_core::finite_sum::svrg::{Svrg, SvrgConfig};
use freestep_core::finite_sum::{theory, Regularizer, Sample, Shape, TableForm};
use freestep_core::{Error, Float};

use crate::boundary::{boundary, check_ptr, disjoint, Buf, Out};
use crate::object::{freestep_precision, RawPrecision};
use crate::status::{freestep_status, status_of};

/// A finite-sum method.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum freestep_finite_sum_method {
    /// SAGA (Defazio, Bach, Lacoste-Julien 2014), elastic net by prox.
    SAGA = 0,
    /// SAG (Schmidt, Le Roux, Bach 2017); `l1` must be 0.
    SAG = 1,
    /// SVRG (Johnson, Zhang 2013), elastic net by prox.
    SVRG = 2,
    /// Finito (Defazio, Caetano, Domke 2014); `l1` must be 0.
    FINITO = 3,
    /// Point-SAGA (Defazio 2016); dense table, `l1` must be 0.
    POINT_SAGA = 4,
}

/// How the table stores each sample's loss gradient.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum freestep_table_form {
    /// `d` values per sample.
    TABLE_DENSE = 0,
    /// One value per sample, for linear models: the gradient is
    /// `scalar * row`.
    TABLE_LINEAR = 1,
}

/// The loss of a linear model (Point-SAGA's prox, Lipschitz estimates).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum freestep_loss {
    /// `(t - y)^2 / 2`.
    LOSS_SQUARED = 0,
    /// `log(1 + exp(-y t))`, `y = ±1`.
    LOSS_LOGISTIC = 1,
    /// `max(0, 1 - y t)`, `y = ±1`.
    LOSS_HINGE = 2,
}

/// What a finite-sum method is built for.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_finite_sum_config {
    /// A `freestep_finite_sum_method`.
    pub method: u32,
    /// A `freestep_table_form` (Point-SAGA: `FREESTEP_TABLE_DENSE` only).
    pub form: u32,
    /// A `freestep_loss`; read by Point-SAGA only.
    pub loss: u32,
    /// The number of samples.
    pub n: usize,
    /// The number of parameters.
    pub d: usize,
    /// The step size (see `freestep_finite_sum_default_step`).
    pub step_size: f64,
    /// The weight of `(1/2)||w||^2`.
    pub l2: f64,
    /// The weight of `||w||_1` (SAGA and SVRG only).
    pub l1: f64,
}

/// A finite-sum method: its configuration, its precision (a
/// `freestep_precision`) and its progress. Fill it with
/// `freestep_finite_sum_init` and treat it as read-only afterwards; it owns
/// no memory.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_finite_sum {
    /// The configuration it was built with.
    pub config: freestep_finite_sum_config,
    /// A `freestep_precision`.
    pub precision: u32,
    /// SVRG and Finito: 0 before the first begin, else 1 plus the samples
    /// added since.
    pub progress: usize,
}

/// One sample's loss gradient (`float` version): the gradient itself
/// (`values` holds `d` floats, `scalar` is ignored) for a dense table, or
/// the sample's feature row and the scalar with gradient `scalar * row` for
/// a linear one.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct freestep_sample_f32 {
    /// The gradient or the row.
    pub values: *const f32,
    /// Its length in elements (must be `d`).
    pub len: usize,
    /// The scalar of a linear sample.
    pub scalar: f32,
}

/// `freestep_sample_f32` for `double`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct freestep_sample_f64 {
    /// The gradient or the row.
    pub values: *const f64,
    /// Its length in elements (must be `d`).
    pub len: usize,
    /// The scalar of a linear sample.
    pub scalar: f64,
}

/// A deterministic random number generator (xoshiro256**), seeded by
/// `freestep_rng_seed`. Plain data: copy it to fork a stream.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct freestep_rng {
    /// The generator's state; never all zero.
    pub s: [u64; 4],
}

/// The element types, with their precision and sample struct.
pub(crate) trait SampleElement: Float {
    const PRECISION: freestep_precision;
    type CSample: Copy;
    fn parts(s: &Self::CSample) -> (*const Self, usize, Self);
}

impl SampleElement for f32 {
    const PRECISION: freestep_precision = freestep_precision::F32;
    type CSample = freestep_sample_f32;
    fn parts(s: &freestep_sample_f32) -> (*const f32, usize, f32) {
        (s.values, s.len, s.scalar)
    }
}

impl SampleElement for f64 {
    const PRECISION: freestep_precision = freestep_precision::F64;
    type CSample = freestep_sample_f64;
    fn parts(s: &freestep_sample_f64) -> (*const f64, usize, f64) {
        (s.values, s.len, s.scalar)
    }
}

/// A core method rebuilt from a `freestep_finite_sum`.
enum Method {
    Saga(Saga),
    Sag(Sag),
    Svrg(Svrg),
    Finito(Finito),
    PointSaga(PointSaga),
}

fn loss_of(raw: u32) -> Result<Loss, Error> {
    match raw {
        0 => Ok(Loss::Squared),
        1 => Ok(Loss::Logistic),
        2 => Ok(Loss::Hinge),
        _ => Err(Error::InvalidHyperparameter("loss")),
    }
}

/// Builds the core method of `config`, with `progress` for SVRG and Finito.
fn build(config: &freestep_finite_sum_config, progress: usize) -> Result<Method, Error> {
    let form = match config.form {
        0 => TableForm::Dense,
        1 => TableForm::Linear,
        _ => return Err(Error::TableForm),
    };
    let shape = Shape {
        n: config.n,
        d: config.d,
        form,
    };
    let regularizer = Regularizer {
        l2: config.l2,
        l1: config.l1,
    };
    let step_size = config.step_size;
    let no_l1 = |m: Method| match config.l1 {
        0.0 => Ok(m),
        _ => Err(Error::InvalidHyperparameter("l1")),
    };
    match config.method {
        0 => Saga::new(
            SagaConfig {
                step_size,
                regularizer,
            },
            shape,
        )
        .map(Method::Saga),
        1 => no_l1(Method::Sag(Sag::new(
            SagConfig {
                step_size,
                l2: config.l2,
            },
            shape,
        )?)),
        2 => Svrg::new(
            SvrgConfig {
                step_size,
                regularizer,
            },
            shape,
        )
        .and_then(|m| m.with_progress(progress))
        .map(Method::Svrg),
        3 => {
            let m = Finito::new(
                FinitoConfig {
                    step_size,
                    l2: config.l2,
                },
                shape,
            )?;
            no_l1(Method::Finito(m.with_progress(progress)?))
        }
        4 => {
            let loss = loss_of(config.loss)?;
            let c = PointSagaConfig {
                step_size,
                l2: config.l2,
                loss,
            };
            no_l1(Method::PointSaga(PointSaga::new(c, shape)?))
        }
        _ => Err(Error::InvalidHyperparameter("method")),
    }
}

impl Method {
    fn state_len(&self) -> usize {
        match self {
            Method::Saga(m) => m.state_len(),
            Method::Sag(m) => m.state_len(),
            Method::Svrg(m) => m.state_len(),
            Method::Finito(m) => m.state_len(),
            Method::PointSaga(m) => m.state_len(),
        }
    }

    fn progress(&self) -> usize {
        match self {
            Method::Svrg(m) => m.progress(),
            Method::Finito(m) => m.progress(),
            _ => 0,
        }
    }
}

/// The arrays of a call, checked: `w` (`d` values), `state`, and the
/// read-only inputs, none of them overlapping a written one.
struct Arrays<T> {
    w: Buf<T>,
    state: Buf<T>,
}

fn arrays<T>(
    w: *mut T,
    w_len: usize,
    state: *mut T,
    state_len: usize,
    inputs: &[&Buf<T>],
) -> Result<Arrays<T>, freestep_status> {
    let w = Buf::new_mut(w, w_len)?;
    let state = Buf::new_mut(state, state_len)?;
    disjoint(&w, &[&state])?;
    disjoint(&w, inputs)?;
    disjoint(&state, inputs)?;
    Ok(Arrays { w, state })
}

/// Reads and checks the method struct and its precision; rebuilds the
/// core method.
///
/// # Safety
///
/// `m` is NULL or points to a readable `freestep_finite_sum`.
unsafe fn method<T: SampleElement>(
    m: *const freestep_finite_sum,
) -> Result<(freestep_finite_sum, Method), freestep_status> {
    let p = check_ptr(m)?;
    // SAFETY: checked non-NULL and aligned; the struct holds only integers
    // and floats, for which every bit pattern is a value.
    let value = unsafe { p.as_ptr().read() };
    if value.precision != T::PRECISION as u32 {
        return Err(freestep_status::WRONG_PRECISION);
    }
    let built = build(&value.config, value.progress).map_err(status_of)?;
    Ok((value, built))
}

/// Writes a method's new progress back into the caller's struct.
///
/// # Safety
///
/// `m` was checked by [`method`] and is writable.
unsafe fn save(m: *mut freestep_finite_sum, built: &Method) {
    // SAFETY: checked by `method`; writing a usize field in place.
    unsafe { (*m).progress = built.progress() };
}

/// A sample struct's checked array.
///
/// # Safety
///
/// `s` is NULL or points to a readable sample struct.
unsafe fn sample_buf<T: SampleElement>(
    s: *const T::CSample,
) -> Result<(Buf<T>, T), freestep_status> {
    let p = check_ptr(s)?;
    // SAFETY: checked; a pointer, a size and a float, any bits are a value.
    let (values, len, scalar) = T::parts(unsafe { &p.as_ptr().read() });
    Ok((Buf::new(values, len)?, scalar))
}

/// The core sample of a checked buffer.
///
/// # Safety
///
/// The buffer's elements are valid and not written during the call.
unsafe fn sample<'a, T: Float>(buf: &Buf<T>, scalar: T, form: u32) -> Sample<'a, T> {
    // SAFETY: the caller's contract.
    let values = unsafe { buf.slice() };
    match form {
        1 => Sample::Linear {
            row: values,
            scalar,
        },
        _ => Sample::Dense(values),
    }
}

/// Writes into `*out` a method built from `*config` in `precision`, with no
/// progress. Refuses a bad configuration (unknown method, form or loss,
/// zero `n` or `d`, a step size that is not positive, negative `l2` or
/// `l1`, `l1` for SAG, Finito or Point-SAGA, a linear table for Point-SAGA)
/// without writing `*out`.
///
/// # Safety
///
/// `config` points to a readable config, `out` to a writable method struct.
#[no_mangle]
pub unsafe extern "C" fn freestep_finite_sum_init(
    out: *mut freestep_finite_sum,
    config: *const freestep_finite_sum_config,
    precision: RawPrecision,
) -> freestep_status {
    boundary(|| {
        let out = Out::new(out)?;
        let config = check_ptr(config)?;
        let precision = precision.get()?;
        // SAFETY: checked; plain data, any bits are a value.
        let config = unsafe { config.as_ptr().read() };
        build(&config, 0).map_err(status_of)?;
        let value = freestep_finite_sum {
            config,
            precision: precision as u32,
            progress: 0,
        };
        // SAFETY: `out` was checked and the caller promises it is writable.
        unsafe { out.write(value) };
        Ok(())
    })
}

/// Writes into `*out` the length of the state array (the table and the
/// means) the method needs, in elements.
///
/// # Safety
///
/// `m` points to a readable method struct, `out` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn freestep_finite_sum_state_len(
    m: *const freestep_finite_sum,
    out: *mut usize,
) -> freestep_status {
    boundary(|| {
        let out = Out::new(out)?;
        let p = check_ptr(m)?;
        // SAFETY: checked; plain data.
        let value = unsafe { p.as_ptr().read() };
        let built = build(&value.config, value.progress).map_err(status_of)?;
        // SAFETY: checked and writable by contract.
        unsafe { out.write(built.state_len()) };
        Ok(())
    })
}

/// The body of `freestep_finite_sum_begin_*`.
///
/// # Safety
///
/// The contract of `freestep_finite_sum_begin_f32`.
unsafe fn begin<T: SampleElement>(
    m: *mut freestep_finite_sum,
    w: *mut T,
    w_len: usize,
    state: *mut T,
    state_len: usize,
) -> Result<(), freestep_status> {
    // SAFETY: the caller's contract.
    let (_, mut built) = unsafe { method::<T>(m) }?;
    let a = arrays(w, w_len, state, state_len, &[])?;
    // SAFETY: checked for NULL, alignment, size and overlap.
    let (w, state) = unsafe { (a.w.slice_mut(), a.state.slice_mut()) };
    match &mut built {
        Method::Saga(x) => x.reset(state),
        Method::Sag(x) => x.reset(state),
        Method::PointSaga(x) => x.reset(state),
        Method::Svrg(x) => x.begin_snapshot(w, state),
        Method::Finito(x) => x.begin(w, state),
    }
    .map_err(status_of)?;
    // SAFETY: `m` was checked by `method`.
    unsafe { save(m, &built) };
    Ok(())
}

/// Starts a run (SAGA, SAG, Point-SAGA: zeroes `state`; Finito: sets every
/// point to `w`) or an SVRG epoch (takes `w` as the snapshot and clears the
/// mean). `w` holds `d` floats and is read only; `state` holds
/// `freestep_finite_sum_state_len` floats. On error nothing changes.
///
/// # Safety
///
/// `m` points to a method struct that no other call uses meanwhile;
/// non-NULL arrays are valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn freestep_finite_sum_begin_f32(
    m: *mut freestep_finite_sum,
    w: *mut f32,
    w_len: usize,
    state: *mut f32,
    state_len: usize,
) -> freestep_status {
    // SAFETY: the same contract.
    boundary(|| unsafe { begin(m, w, w_len, state, state_len) })
}

/// `freestep_finite_sum_begin_f32` for `double`.
///
/// # Safety
///
/// As for `freestep_finite_sum_begin_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_finite_sum_begin_f64(
    m: *mut freestep_finite_sum,
    w: *mut f64,
    w_len: usize,
    state: *mut f64,
    state_len: usize,
) -> freestep_status {
    // SAFETY: the same contract.
    boundary(|| unsafe { begin(m, w, w_len, state, state_len) })
}

/// The body of `freestep_finite_sum_add_*` and `_step_*`.
///
/// # Safety
///
/// The contract of `freestep_finite_sum_step_f32`.
#[allow(clippy::too_many_arguments)]
unsafe fn sample_call<T: SampleElement>(
    add: bool,
    m: *mut freestep_finite_sum,
    w: *mut T,
    w_len: usize,
    state: *mut T,
    state_len: usize,
    i: usize,
    at_w: *const T::CSample,
    at_snapshot: *const T::CSample,
) -> Result<(), freestep_status> {
    // SAFETY: the caller's contract.
    let (value, mut built) = unsafe { method::<T>(m) }?;
    // SAFETY: the caller's contract for the sample structs.
    let (g, gs) = unsafe { sample_buf::<T>(at_w) }?;
    let snapshot = match (&built, add) {
        // SAFETY: as above.
        (Method::Svrg(_), false) => Some(unsafe { sample_buf::<T>(at_snapshot) }?),
        _ => None,
    };
    let empty = Buf::new(core::ptr::null(), 0)?;
    let snap_buf = snapshot.as_ref().map_or(&empty, |s| &s.0);
    let a = arrays(w, w_len, state, state_len, &[&g, snap_buf])?;
    let form = value.config.form;
    // SAFETY: every array was checked for NULL, alignment and size; the
    // written ones overlap nothing else of the call.
    let (w, state, sample_w) =
        unsafe { (a.w.slice_mut(), a.state.slice_mut(), sample(&g, gs, form)) };
    let result = match (&mut built, add) {
        (Method::Saga(x), false) => x.step(w, state, i, sample_w),
        (Method::Sag(x), false) => x.step(w, state, i, sample_w),
        (Method::Finito(x), false) => x.step(w, state, i, sample_w),
        (Method::Finito(x), true) => x.fill(w, state, i, sample_w),
        (Method::Svrg(x), true) => x.add_snapshot_gradient(state, i, sample_w),
        (Method::Svrg(x), false) => {
            let (buf, scalar) = snapshot.ok_or(freestep_status::NULL_POINTER)?;
            // SAFETY: checked above with the other inputs.
            let at_s = unsafe { sample(&buf, scalar, form) };
            x.step(w, state, i, sample_w, at_s)
        }
        _ => return Err(freestep_status::UNSUPPORTED),
    };
    result.map_err(status_of)?;
    // SAFETY: `m` was checked by `method`.
    unsafe { save(m, &built) };
    Ok(())
}

/// One step of SAGA, SAG, SVRG or Finito on sample `i`: `*at_w` is its loss
/// gradient at `w` (without the `l2` and `l1` terms, which the method adds).
/// SVRG also needs `*at_snapshot`, the same sample's gradient at the
/// snapshot (the `w` of the last begin); the others ignore it and it may be
/// NULL.
/// Point-SAGA gives `FREESTEP_UNSUPPORTED` (use
/// `freestep_finite_sum_prox_step_*`).
///
/// Refusals, after which nothing has changed: `FREESTEP_SAMPLE_INDEX` for
/// `i >= n`, `FREESTEP_BAD_TABLE_LENGTH` for a `state_len` that is not
/// `freestep_finite_sum_state_len`, `FREESTEP_BAD_LENGTH` for `w_len` or a
/// sample length that is not `d`, `FREESTEP_NON_FINITE_GRADIENT` for a NaN
/// or infinite input value, `FREESTEP_NOT_READY` before an SVRG snapshot or
/// Finito fill is complete, and the pointer statuses.
///
/// # Safety
///
/// `m` points to a method struct that no other call uses meanwhile; the
/// sample structs and non-NULL arrays are valid for their lengths.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn freestep_finite_sum_step_f32(
    m: *mut freestep_finite_sum,
    w: *mut f32,
    w_len: usize,
    state: *mut f32,
    state_len: usize,
    i: usize,
    at_w: *const freestep_sample_f32,
    at_snapshot: *const freestep_sample_f32,
) -> freestep_status {
    // SAFETY: the same contract.
    boundary(|| unsafe { sample_call(false, m, w, w_len, state, state_len, i, at_w, at_snapshot) })
}

/// `freestep_finite_sum_step_f32` for `double`.
///
/// # Safety
///
/// As for `freestep_finite_sum_step_f32`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn freestep_finite_sum_step_f64(
    m: *mut freestep_finite_sum,
    w: *mut f64,
    w_len: usize,
    state: *mut f64,
    state_len: usize,
    i: usize,
    at_w: *const freestep_sample_f64,
    at_snapshot: *const freestep_sample_f64,
) -> freestep_status {
    // SAFETY: the same contract.
    boundary(|| unsafe { sample_call(false, m, w, w_len, state, state_len, i, at_w, at_snapshot) })
}

/// Adds sample `i`'s loss gradient `*g` at the begin point: SVRG's snapshot
/// mean, or Finito's table. `i` must be the number of samples added since
/// begin (`FREESTEP_SAMPLE_INDEX` otherwise). Finito's last sample writes
/// its first iterate into `w`; SVRG only reads `w`'s length. Other methods
/// give `FREESTEP_UNSUPPORTED`. On error nothing changes.
///
/// # Safety
///
/// As for `freestep_finite_sum_step_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_finite_sum_add_f32(
    m: *mut freestep_finite_sum,
    w: *mut f32,
    w_len: usize,
    state: *mut f32,
    state_len: usize,
    i: usize,
    g: *const freestep_sample_f32,
) -> freestep_status {
    let none = core::ptr::null();
    // SAFETY: the same contract.
    boundary(|| unsafe { sample_call(true, m, w, w_len, state, state_len, i, g, none) })
}

/// `freestep_finite_sum_add_f32` for `double`.
///
/// # Safety
///
/// As for `freestep_finite_sum_step_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_finite_sum_add_f64(
    m: *mut freestep_finite_sum,
    w: *mut f64,
    w_len: usize,
    state: *mut f64,
    state_len: usize,
    i: usize,
    g: *const freestep_sample_f64,
) -> freestep_status {
    let none = core::ptr::null();
    // SAFETY: the same contract.
    boundary(|| unsafe { sample_call(true, m, w, w_len, state, state_len, i, g, none) })
}

/// The body of `freestep_finite_sum_prox_step_*`.
///
/// # Safety
///
/// The contract of `freestep_finite_sum_prox_step_f32`.
#[allow(clippy::too_many_arguments)]
unsafe fn prox_step<T: SampleElement>(
    m: *mut freestep_finite_sum,
    w: *mut T,
    w_len: usize,
    state: *mut T,
    state_len: usize,
    i: usize,
    row: *const T,
    row_len: usize,
    label: f64,
) -> Result<(), freestep_status> {
    // SAFETY: the caller's contract.
    let (_, mut built) = unsafe { method::<T>(m) }?;
    let row = Buf::new(row, row_len)?;
    let a = arrays(w, w_len, state, state_len, &[&row])?;
    let Method::PointSaga(x) = &mut built else {
        return Err(freestep_status::UNSUPPORTED);
    };
    // SAFETY: checked for NULL, alignment, size and overlap.
    let (w, state, row) = unsafe { (a.w.slice_mut(), a.state.slice_mut(), row.slice()) };
    x.step(w, state, i, row, label).map_err(status_of)
}

/// One Point-SAGA step on sample `i`, with its feature row (`d` floats) and
/// label (`±1` for the logistic and hinge losses): the method evaluates the
/// prox of the sample's loss itself. Other methods give
/// `FREESTEP_UNSUPPORTED`. Refusals as for `freestep_finite_sum_step_f32`
/// (a NaN label is `FREESTEP_NON_FINITE_GRADIENT`, a label other than ±1
/// `FREESTEP_INVALID_HYPERPARAMETER`); on error nothing changes.
///
/// # Safety
///
/// As for `freestep_finite_sum_step_f32`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn freestep_finite_sum_prox_step_f32(
    m: *mut freestep_finite_sum,
    w: *mut f32,
    w_len: usize,
    state: *mut f32,
    state_len: usize,
    i: usize,
    row: *const f32,
    row_len: usize,
    label: f64,
) -> freestep_status {
    // SAFETY: the same contract.
    boundary(|| unsafe { prox_step(m, w, w_len, state, state_len, i, row, row_len, label) })
}

/// `freestep_finite_sum_prox_step_f32` for `double`.
///
/// # Safety
///
/// As for `freestep_finite_sum_step_f32`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn freestep_finite_sum_prox_step_f64(
    m: *mut freestep_finite_sum,
    w: *mut f64,
    w_len: usize,
    state: *mut f64,
    state_len: usize,
    i: usize,
    row: *const f64,
    row_len: usize,
    label: f64,
) -> freestep_status {
    // SAFETY: the same contract.
    boundary(|| unsafe { prox_step(m, w, w_len, state, state_len, i, row, row_len, label) })
}

/// Writes into `*max` and `*mean` the largest and the mean per-sample
/// Lipschitz constant of the loss gradient, `l2` included, of the
/// row-major `x` (`x_len = n * d` doubles): `||x_i||^2 / 4 + l2` for
/// `FREESTEP_LOSS_LOGISTIC`, `||x_i||^2 + l2` for `FREESTEP_LOSS_SQUARED`;
/// hinge is refused. Outputs are written only on success.
///
/// # Safety
///
/// `x` is valid for `x_len` doubles; `max` and `mean` are writable.
#[no_mangle]
pub unsafe extern "C" fn freestep_finite_sum_lipschitz(
    loss: u32,
    x: *const f64,
    x_len: usize,
    d: usize,
    l2: f64,
    max: *mut f64,
    mean: *mut f64,
) -> freestep_status {
    boundary(|| {
        let (max, mean) = (Out::new(max)?, Out::new(mean)?);
        let x = Buf::new(x, x_len)?;
        let loss = loss_of(loss).map_err(status_of)?;
        // SAFETY: checked; the caller promises `x_len` valid doubles.
        let x = unsafe { x.slice() };
        let (l_max, l_mean) = theory::lipschitz(loss, x, d, l2).map_err(status_of)?;
        // SAFETY: both checked and writable by contract.
        unsafe {
            max.write(l_max);
            mean.write(l_mean);
        }
        Ok(())
    })
}

/// Writes into `*out` the papers' step size of `method` for `n` samples
/// with largest per-sample Lipschitz constant `lipschitz` and strong
/// convexity `mu` (the `l2` weight): SAGA `1/(3L)`, SAG `1/L` (pass the
/// mean constant for Lipschitz sampling), SVRG `1/(10L)`, Finito
/// `1/(alpha mu n)`, Point-SAGA its paper's step (see the core crate's
/// `finite_sum::theory`). `alpha` is read by Finito only.
///
/// # Safety
///
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn freestep_finite_sum_default_step(
    method: u32,
    n: usize,
    lipschitz: f64,
    mu: f64,
    alpha: f64,
    out: *mut f64,
) -> freestep_status {
    boundary(|| {
        let out = Out::new(out)?;
        let step = match method {
            0 => theory::saga(lipschitz),
            1 => theory::sag(lipschitz),
            2 => theory::svrg(lipschitz),
            3 => theory::finito(alpha, mu, n),
            4 => theory::point_saga(lipschitz, mu, n),
            _ => Err(Error::InvalidHyperparameter("method")),
        }
        .map_err(status_of)?;
        // SAFETY: checked and writable by contract.
        unsafe { out.write(step) };
        Ok(())
    })
}

/// Seeds `*rng` from `seed` (any value) through SplitMix64.
///
/// # Safety
///
/// `rng` is writable.
#[no_mangle]
pub unsafe extern "C" fn freestep_rng_seed(rng: *mut freestep_rng, seed: u64) -> freestep_status {
    boundary(|| {
        let out = Out::new(rng)?;
        let s = Rng::new(seed).state();
        // SAFETY: checked and writable by contract.
        unsafe { out.write(freestep_rng { s }) };
        Ok(())
    })
}

/// Runs `f` on the generator behind `rng` and stores its new state.
///
/// # Safety
///
/// `rng` is readable and writable.
unsafe fn with_rng<R>(
    rng: *mut freestep_rng,
    f: impl FnOnce(&mut Rng) -> Result<R, freestep_status>,
) -> Result<R, freestep_status> {
    let p = check_ptr(rng)?;
    // SAFETY: checked; four integers, any bits are a value.
    let s = unsafe { p.as_ptr().read() }.s;
    let mut r = Rng::from_state(s).map_err(status_of)?;
    let out = f(&mut r)?;
    // SAFETY: checked and writable by contract.
    unsafe { p.as_ptr().write(freestep_rng { s: r.state() }) };
    Ok(out)
}

/// Writes into `*out` a uniform index in `0..n` (sampling with replacement)
/// and advances `*rng`. `n` must not be 0.
///
/// # Safety
///
/// `rng` is readable and writable, `out` writable.
#[no_mangle]
pub unsafe extern "C" fn freestep_rng_below(
    rng: *mut freestep_rng,
    n: usize,
    out: *mut usize,
) -> freestep_status {
    boundary(|| {
        let out = Out::new(out)?;
        if n == 0 {
            return Err(freestep_status::BAD_LENGTH);
        }
        // SAFETY: the same contract.
        let i = unsafe { with_rng(rng, |r| Ok(r.below(n))) }?;
        // SAFETY: checked and writable by contract.
        unsafe { out.write(i) };
        Ok(())
    })
}

/// Fills `order` (`len` values) with a fresh random permutation of
/// `0..len` (Fisher–Yates): one epoch's sampling order.
///
/// # Safety
///
/// `rng` is readable and writable; `order` is valid for `len` values.
#[no_mangle]
pub unsafe extern "C" fn freestep_rng_shuffle(
    rng: *mut freestep_rng,
    order: *mut u32,
    len: usize,
) -> freestep_status {
    boundary(|| {
        let order = Buf::new_mut(order, len)?;
        if u32::try_from(len).is_err() {
            return Err(freestep_status::BAD_LENGTH);
        }
        // SAFETY: checked; the caller promises `len` writable values.
        let order = unsafe { order.slice_mut() };
        // SAFETY: the same contract.
        unsafe { with_rng(rng, |r| r.shuffle(order).map_err(status_of)) }
    })
}

/// Writes the cumulative sums of `weights` (`len` non-negative doubles, not
/// all zero) into `cumulative` (`len` doubles), the table of
/// `freestep_weighted_sample`. For SAG's Lipschitz sampling the weights
/// are the per-sample Lipschitz constants. On error `cumulative` is
/// unchanged.
///
/// # Safety
///
/// Both arrays are valid for `len` values and do not overlap.
#[no_mangle]
pub unsafe extern "C" fn freestep_weighted_init(
    weights: *const f64,
    cumulative: *mut f64,
    len: usize,
) -> freestep_status {
    boundary(|| {
        let weights = Buf::new(weights, len)?;
        let cumulative = Buf::new_mut(cumulative, len)?;
        disjoint(&cumulative, &[&weights])?;
        // SAFETY: checked for NULL, alignment, size and overlap.
        let (w, c) = unsafe { (weights.slice(), cumulative.slice_mut()) };
        Weighted::new(w, c).map(|_| ()).map_err(status_of)
    })
}

/// Writes into `*out` an index drawn with probability proportional to the
/// weights behind `cumulative` and advances `*rng`.
///
/// # Safety
///
/// `cumulative` is valid for `len` values; `rng` is readable and writable;
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn freestep_weighted_sample(
    cumulative: *const f64,
    len: usize,
    rng: *mut freestep_rng,
    out: *mut usize,
) -> freestep_status {
    boundary(|| {
        let out = Out::new(out)?;
        let cumulative = Buf::new(cumulative, len)?;
        // SAFETY: checked; the caller promises `len` valid values.
        let sampler =
            Weighted::from_cumulative(unsafe { cumulative.slice() }).map_err(status_of)?;
        // SAFETY: the same contract.
        let i = unsafe { with_rng(rng, |r| Ok(sampler.sample(r))) }?;
        // SAFETY: checked and writable by contract.
        unsafe { out.write(i) };
        Ok(())
    })
}

/// The hyperparameters of SPS, the stochastic Polyak step.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct freestep_sps_config {
    /// The scaling `c` of `||g||^2` (1 for SP).
    pub c: f64,
    /// The largest step (`INFINITY` for none).
    pub max_step: f64,
    /// The lower bound `f_i*` of every sample's loss (0 for non-negative
    /// losses).
    pub lower_bound: f64,
}

/// The body of `freestep_sps_step_*`.
///
/// # Safety
///
/// The contract of `freestep_sps_step_f32`.
unsafe fn sps_step<T: SampleElement>(
    config: *const freestep_sps_config,
    w: *mut T,
    w_len: usize,
    loss: f64,
    g: *const T::CSample,
    form: u32,
    step: *mut f64,
) -> Result<(), freestep_status> {
    let out = Out::new(step)?;
    let config = check_ptr(config)?;
    // SAFETY: checked; three doubles, any bits are a value.
    let config = unsafe { config.as_ptr().read() };
    let core = SpsConfig {
        c: config.c,
        max_step: config.max_step,
        lower_bound: config.lower_bound,
    };
    let sps = Sps::new(core, w_len).map_err(status_of)?;
    // SAFETY: the caller's contract for the sample struct.
    let (buf, scalar) = unsafe { sample_buf::<T>(g) }?;
    let w = Buf::new_mut(w, w_len)?;
    disjoint(&w, &[&buf])?;
    if form > 1 {
        return Err(freestep_status::WRONG_TABLE_FORM);
    }
    // SAFETY: checked for NULL, alignment, size and overlap.
    let (w, sample) = unsafe { (w.slice_mut(), sample(&buf, scalar, form)) };
    let gamma = sps.step(w, loss, sample).map_err(status_of)?;
    // SAFETY: checked and writable by contract.
    unsafe { out.write(gamma) };
    Ok(())
}

/// One SPS step: `w -= min((loss - f*) / (c ||g||^2), max_step) * g`, with
/// `loss` the sample's loss at `w` and `*g` its gradient (a dense gradient
/// for `form = FREESTEP_TABLE_DENSE`, a row and scalar for
/// `FREESTEP_TABLE_LINEAR`), the whole sample's, regulariser included.
/// Writes the step size taken into `*step`. A NaN or infinite loss is
/// refused with `FREESTEP_NON_FINITE_LOSS`, a NaN or infinite gradient with
/// `FREESTEP_NON_FINITE_GRADIENT`; on error `w` is
/// unchanged and `*step` not written. SPS keeps no state.
///
/// # Safety
///
/// `config`, `g` and `step` are valid; `w` is valid for `w_len` floats.
#[no_mangle]
pub unsafe extern "C" fn freestep_sps_step_f32(
    config: *const freestep_sps_config,
    w: *mut f32,
    w_len: usize,
    loss: f64,
    g: *const freestep_sample_f32,
    form: u32,
    step: *mut f64,
) -> freestep_status {
    // SAFETY: the same contract.
    boundary(|| unsafe { sps_step(config, w, w_len, loss, g, form, step) })
}

/// `freestep_sps_step_f32` for `double`.
///
/// # Safety
///
/// As for `freestep_sps_step_f32`.
#[no_mangle]
pub unsafe extern "C" fn freestep_sps_step_f64(
    config: *const freestep_sps_config,
    w: *mut f64,
    w_len: usize,
    loss: f64,
    g: *const freestep_sample_f64,
    form: u32,
    step: *mut f64,
) -> freestep_status {
    // SAFETY: the same contract.
    boundary(|| unsafe { sps_step(config, w, w_len, loss, g, form, step) })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use core::ptr::{null, null_mut};
    use std::vec;
    use std::vec::Vec;

    fn config(method: freestep_finite_sum_method, form: u32) -> freestep_finite_sum_config {
        freestep_finite_sum_config {
            method: method as u32,
            form,
            loss: freestep_loss::LOSS_SQUARED as u32,
            n: 3,
            d: 2,
            step_size: 0.2,
            l2: 0.0,
            l1: 0.0,
        }
    }

    fn init(c: &freestep_finite_sum_config) -> (freestep_finite_sum, Vec<f64>) {
        let mut m = core::mem::MaybeUninit::<freestep_finite_sum>::uninit();
        // SAFETY: valid pointers.
        let st = unsafe { freestep_finite_sum_init(m.as_mut_ptr(), c, RawPrecision(2)) };
        assert_eq!(st, freestep_status::OK);
        // SAFETY: written on success.
        let m = unsafe { m.assume_init() };
        let mut len = 0;
        // SAFETY: valid pointers.
        let st = unsafe { freestep_finite_sum_state_len(&m, &mut len) };
        assert_eq!(st, freestep_status::OK);
        (m, vec![0.0; len])
    }

    /// Least squares on three rows solved exactly by w = (1, 2).
    const X: [[f64; 2]; 3] = [[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]];
    const Y: [f64; 3] = [1.0, 4.0, 3.0];

    fn residual(i: usize, w: &[f64]) -> f64 {
        X[i][0] * w[0] + X[i][1] * w[1] - Y[i]
    }

    #[test]
    fn every_method_solves_least_squares_through_the_abi() {
        use freestep_finite_sum_method as M;
        for method in [M::SAGA, M::SAG, M::SVRG, M::FINITO, M::POINT_SAGA] {
            let mut c = config(method, 1);
            if method == M::POINT_SAGA {
                c.form = 0;
            }
            if method == M::FINITO {
                // Finito needs strong convexity, and with n = 3 much of it
                // (its analysis wants n >= 2L/mu) and a small step: alpha
                // = 4. The optimum moves to the ridge solution, checked by
                // its gradient below.
                c.l2 = 2.0;
                c.step_size = 1.0 / (4.0 * 2.0 * 3.0);
            }
            let (mut m, mut state) = init(&c);
            let mut w = [0.0f64; 2];
            let sl = state.len();
            let linear = |i: usize, w: &[f64]| freestep_sample_f64 {
                values: X[i].as_ptr(),
                len: 2,
                scalar: residual(i, w),
            };
            for epoch in 0..400 {
                if epoch == 0 || method == M::SVRG {
                    // SAFETY: valid arrays.
                    let st = unsafe {
                        freestep_finite_sum_begin_f64(
                            &mut m,
                            w.as_mut_ptr(),
                            2,
                            state.as_mut_ptr(),
                            sl,
                        )
                    };
                    assert_eq!(st, freestep_status::OK);
                    if method == M::SVRG || method == M::FINITO {
                        let w0 = w;
                        for i in 0..3 {
                            let s = linear(i, &w0);
                            // SAFETY: valid arrays.
                            let st = unsafe {
                                freestep_finite_sum_add_f64(
                                    &mut m,
                                    w.as_mut_ptr(),
                                    2,
                                    state.as_mut_ptr(),
                                    sl,
                                    i,
                                    &s,
                                )
                            };
                            assert_eq!(st, freestep_status::OK);
                        }
                    }
                }
                let snapshot = w;
                for i in 0..3 {
                    // SAFETY: valid arrays.
                    let st = unsafe {
                        if method == M::POINT_SAGA {
                            freestep_finite_sum_prox_step_f64(
                                &mut m,
                                w.as_mut_ptr(),
                                2,
                                state.as_mut_ptr(),
                                sl,
                                i,
                                X[i].as_ptr(),
                                2,
                                Y[i],
                            )
                        } else {
                            let (a, b) = (linear(i, &w), linear(i, &snapshot));
                            freestep_finite_sum_step_f64(
                                &mut m,
                                w.as_mut_ptr(),
                                2,
                                state.as_mut_ptr(),
                                sl,
                                i,
                                &a,
                                &b,
                            )
                        }
                    };
                    assert_eq!(st, freestep_status::OK, "{method:?}");
                }
            }
            // The full gradient (mean residual times row, plus l2 w) is 0.
            for k in 0..2 {
                let g: f64 = (0..3).map(|i| residual(i, &w) * X[i][k]).sum::<f64>() / 3.0;
                assert!((g + c.l2 * w[k]).abs() < 1e-9, "{method:?} {w:?}");
            }
        }
    }

    #[test]
    fn refusals_change_nothing_and_name_their_cause() {
        let c = config(freestep_finite_sum_method::SAGA, 0);
        let (mut m, mut state) = init(&c);
        state
            .iter_mut()
            .enumerate()
            .for_each(|(k, s)| *s = k as f64);
        let (m0, s0) = (m, state.clone());
        let mut w = [0.5f64, -0.5];
        let g = [1.0f64, f64::NAN];
        let sl = state.len();
        let sample = freestep_sample_f64 {
            values: g.as_ptr(),
            len: 2,
            scalar: 0.0,
        };
        let call = |m: &mut freestep_finite_sum, w: &mut [f64; 2], st: &mut [f64], len, i| {
            // SAFETY: valid arrays of the given lengths.
            unsafe {
                freestep_finite_sum_step_f64(
                    m,
                    w.as_mut_ptr(),
                    2,
                    st.as_mut_ptr(),
                    len,
                    i,
                    &sample,
                    null(),
                )
            }
        };
        assert_eq!(
            call(&mut m, &mut w, &mut state, sl, 1),
            freestep_status::NON_FINITE_GRADIENT
        );
        assert_eq!(
            call(&mut m, &mut w, &mut state, sl, 3),
            freestep_status::SAMPLE_INDEX
        );
        assert_eq!(
            call(&mut m, &mut w, &mut state, sl - 1, 0),
            freestep_status::BAD_TABLE_LENGTH
        );
        assert_eq!((m, &state[..], w), (m0, &s0[..], [0.5, -0.5]));
        // Wrong precision, a NULL sample and an unsupported call.
        let mut wf = [0.0f32; 2];
        let mut sf = vec![0.0f32; sl];
        // SAFETY: valid arrays.
        let st = unsafe {
            freestep_finite_sum_begin_f32(&mut m, wf.as_mut_ptr(), 2, sf.as_mut_ptr(), sl)
        };
        assert_eq!(st, freestep_status::WRONG_PRECISION);
        // SAFETY: valid arrays; the NULL sample is refused.
        let st = unsafe {
            freestep_finite_sum_step_f64(
                &mut m,
                w.as_mut_ptr(),
                2,
                state.as_mut_ptr(),
                sl,
                0,
                null(),
                null(),
            )
        };
        assert_eq!(st, freestep_status::NULL_POINTER);
        // SAFETY: valid arrays.
        let st = unsafe {
            freestep_finite_sum_add_f64(
                &mut m,
                w.as_mut_ptr(),
                2,
                state.as_mut_ptr(),
                sl,
                0,
                &sample,
            )
        };
        assert_eq!(st, freestep_status::UNSUPPORTED);
        assert_eq!((m, &state[..]), (m0, &s0[..]));
        // A linear table for Point-SAGA, and l1 for SAG, are refused at init.
        let mut out = core::mem::MaybeUninit::uninit();
        let bad = config(freestep_finite_sum_method::POINT_SAGA, 1);
        // SAFETY: valid pointers.
        let st = unsafe { freestep_finite_sum_init(out.as_mut_ptr(), &bad, RawPrecision(2)) };
        assert_eq!(st, freestep_status::WRONG_TABLE_FORM);
        let bad = freestep_finite_sum_config {
            l1: 0.1,
            ..config(freestep_finite_sum_method::SAG, 0)
        };
        // SAFETY: valid pointers.
        let st = unsafe { freestep_finite_sum_init(out.as_mut_ptr(), &bad, RawPrecision(2)) };
        assert_eq!(st, freestep_status::INVALID_HYPERPARAMETER);
        // SAFETY: NULL output.
        let st = unsafe { freestep_finite_sum_init(null_mut(), &c, RawPrecision(2)) };
        assert_eq!(st, freestep_status::NULL_POINTER);
    }

    #[test]
    fn svrg_refuses_a_step_before_its_snapshot_is_complete() {
        let c = config(freestep_finite_sum_method::SVRG, 1);
        let (mut m, mut state) = init(&c);
        let mut w = [0.0f64; 2];
        let sl = state.len();
        let s = freestep_sample_f64 {
            values: X[0].as_ptr(),
            len: 2,
            scalar: 1.0,
        };
        // SAFETY: valid arrays throughout.
        unsafe {
            let st = freestep_finite_sum_step_f64(
                &mut m,
                w.as_mut_ptr(),
                2,
                state.as_mut_ptr(),
                sl,
                0,
                &s,
                &s,
            );
            assert_eq!(st, freestep_status::NOT_READY);
            freestep_finite_sum_begin_f64(&mut m, w.as_mut_ptr(), 2, state.as_mut_ptr(), sl);
            let st = freestep_finite_sum_add_f64(
                &mut m,
                w.as_mut_ptr(),
                2,
                state.as_mut_ptr(),
                sl,
                1,
                &s,
            );
            assert_eq!(st, freestep_status::SAMPLE_INDEX);
        }
        assert_eq!(m.progress, 1);
    }

    #[test]
    fn sps_steps_through_the_abi() {
        let config = freestep_sps_config {
            c: 1.0,
            max_step: f64::INFINITY,
            lower_bound: 0.0,
        };
        // f(w) = (x.w - 1)^2 / 2 at w = 0 with x = (1, 1): loss 1/2,
        // gradient -(1, 1), step (1/2) / 2 = 1/4, w = (1/4, 1/4).
        let x = [1.0f64, 1.0];
        let g = freestep_sample_f64 {
            values: x.as_ptr(),
            len: 2,
            scalar: -1.0,
        };
        let mut w = [0.0f64; 2];
        let mut step = 0.0;
        // SAFETY: valid pointers.
        let st =
            unsafe { freestep_sps_step_f64(&config, w.as_mut_ptr(), 2, 0.5, &g, 1, &mut step) };
        assert_eq!((st, step, w), (freestep_status::OK, 0.25, [0.25, 0.25]));
        // SAFETY: valid pointers; the NaN loss is refused.
        let st = unsafe {
            freestep_sps_step_f64(&config, w.as_mut_ptr(), 2, f64::NAN, &g, 1, &mut step)
        };
        assert_eq!((st, w), (freestep_status::NON_FINITE_LOSS, [0.25, 0.25]));
    }

    #[test]
    fn sampling_through_the_abi() {
        let mut rng = freestep_rng { s: [0; 4] };
        let mut i = 0usize;
        // SAFETY: valid pointers throughout.
        unsafe {
            assert_eq!(
                freestep_rng_below(&mut rng, 5, &mut i),
                freestep_status::INVALID_HYPERPARAMETER
            );
            assert_eq!(freestep_rng_seed(&mut rng, 1), freestep_status::OK);
            assert_eq!(freestep_rng_below(&mut rng, 5, &mut i), freestep_status::OK);
            assert!(i < 5);
            let mut order = [0u32; 6];
            assert_eq!(
                freestep_rng_shuffle(&mut rng, order.as_mut_ptr(), 6),
                freestep_status::OK
            );
            let mut sorted = order;
            sorted.sort();
            assert_eq!(sorted, [0, 1, 2, 3, 4, 5]);
            let weights = [0.0, 1.0, 0.0];
            let mut cumulative = [0.0; 3];
            let st = freestep_weighted_init(weights.as_ptr(), cumulative.as_mut_ptr(), 3);
            assert_eq!(st, freestep_status::OK);
            for _ in 0..20 {
                let st = freestep_weighted_sample(cumulative.as_ptr(), 3, &mut rng, &mut i);
                assert_eq!((st, i), (freestep_status::OK, 1));
            }
        }
    }
}
