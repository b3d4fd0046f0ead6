//! The two opaque objects the caller allocates: the optimizer and the
//! partial sums of a phased step.
//!
//! Both start with a `Header` of plain integers: a magic number, the layout
//! version and the object's size. Every function reads the header with a
//! raw read and checks it before it forms a reference to the Rust value
//! behind it, so zeroed, uninitialised or foreign memory is refused with a
//! status instead of being interpreted.
//! The header cannot prove that the rest of the block is intact: a block
//! whose body was overwritten after init is the caller's bug.
//!
//! Both objects hold no pointers, so a byte copy (`memcpy`) of an object is
//! an equally valid object.

use core::mem::{align_of, size_of};

use freestep_core::mechanic::Mechanic;
use freestep_core::wrapper::ScheduleFreeWrapper;
use freestep_core::{
    Accelerated, Adagrad, Adam, DAdaptAdagrad, DAdaptAdam, DAdaptAdan, DAdaptLion, DAdaptSgd,
    Float, Lion, Madgrad, MirrorMadgrad, Momo, MomoAdam, Ngd, Optimizer, Partial, Polyak,
    PrimalAveraging, Prodigy, Rmsprop, ScheduleFreeAdamW, ScheduleFreeRAdam, ScheduleFreeSgd, Sgd,
    Shb,
};

use crate::boundary::check_ptr;
use crate::status::freestep_status;

/// An optimizer: a rule, its hyperparameters, its scalar state and the
/// layout of its state buffer. Opaque: allocate `freestep_optimizer_size()`
/// bytes aligned to `freestep_optimizer_align()` (or use
/// `FREESTEP_OPTIMIZER_MAX_SIZE` and `FREESTEP_OPTIMIZER_MAX_ALIGN` for a
/// static block), and fill it with one of the `freestep_*_init` functions.
/// It owns no memory, so it needs no destructor.
pub struct freestep_optimizer {
    _opaque: [u8; 0],
}

/// The partial sums of a phased step over one range of parameters. Opaque:
/// allocate `freestep_partial_size()` bytes aligned to
/// `freestep_partial_align()` (or the `FREESTEP_PARTIAL_MAX_*` bounds).
/// Only `freestep_optimizer_partial_*` and `freestep_partial_combine` write
/// one; a byte copy is valid within the same library build.
pub struct freestep_partial {
    _opaque: [u8; 0],
}

/// The element type of an optimizer's parameters, gradients and state.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum freestep_precision {
    /// `float`.
    F32 = 1,
    /// `double`.
    F64 = 2,
}

/// A `freestep_precision` as C passes it: any 32-bit number, since C does
/// not stop a caller from passing one that names no precision. The header
/// shows it as `freestep_precision` (see `ffi/cbindgen.toml`).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawPrecision(pub u32);

impl RawPrecision {
    /// The precision this number names, if any.
    pub(crate) fn get(self) -> Result<freestep_precision, freestep_status> {
        match self.0 {
            1 => Ok(freestep_precision::F32),
            2 => Ok(freestep_precision::F64),
            _ => Err(freestep_status::INVALID_PRECISION),
        }
    }
}

/// The update rule of an optimizer.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum freestep_rule {
    /// SGD with momentum (`freestep_sgd_init`).
    RULE_SGD = 1,
    /// Adam with coupled weight decay (`freestep_adam_init`).
    RULE_ADAM = 2,
    /// Adam with decoupled weight decay, that is AdamW (`freestep_adam_init`
    /// with `decoupled_weight_decay` set).
    RULE_ADAMW = 3,
    /// Schedule-Free SGD (`freestep_sgd_schedulefree_init`).
    RULE_SGD_SCHEDULEFREE = 4,
    /// Schedule-Free AdamW (`freestep_adamw_schedulefree_init`).
    RULE_ADAMW_SCHEDULEFREE = 5,
    /// Prodigy (`freestep_prodigy_init`).
    RULE_PRODIGY = 6,
    /// AdaGrad (`freestep_adagrad_init`).
    RULE_ADAGRAD = 7,
    /// RMSprop (`freestep_rmsprop_init`).
    RULE_RMSPROP = 8,
    /// MADGRAD (`freestep_madgrad_init`).
    RULE_MADGRAD = 9,
    /// Lion (`freestep_lion_init`).
    RULE_LION = 10,
    /// D-Adaptation Adam (`freestep_dadapt_adam_init`).
    RULE_DADAPT_ADAM = 11,
    /// D-Adaptation SGD (`freestep_dadapt_sgd_init`).
    RULE_DADAPT_SGD = 12,
    /// D-Adaptation Lion (`freestep_dadapt_lion_init`).
    RULE_DADAPT_LION = 13,
    /// D-Adaptation AdaGrad (`freestep_dadapt_adagrad_init`).
    RULE_DADAPT_ADAGRAD = 14,
    /// D-Adaptation Adan (`freestep_dadapt_adan_init`).
    RULE_DADAPT_ADAN = 15,
    /// Mirror MADGRAD (`freestep_mirror_madgrad_init`).
    RULE_MIRROR_MADGRAD = 16,
    /// MoMo (`freestep_momo_init`); steps need the loss.
    RULE_MOMO = 17,
    /// MoMo-Adam (`freestep_momo_adam_init`); steps need the loss.
    RULE_MOMO_ADAM = 18,
    /// Schedule-Free RAdam (`freestep_radam_schedulefree_init`).
    RULE_RADAM_SCHEDULEFREE = 19,
    /// Gradient descent with the Polyak step size (`freestep_polyak_init`);
    /// its steps need the loss (`freestep_optimizer_step_loss_*`).
    RULE_POLYAK = 25,
    /// Normalized gradient descent (`freestep_ngd_init`).
    RULE_NGD = 26,
    /// Stochastic heavy ball with weighted iterate averaging
    /// (`freestep_shb_init`).
    RULE_SHB = 27,
    /// SGD with momentum in its primal-averaging form
    /// (`freestep_primal_averaging_init`).
    RULE_PRIMAL_AVERAGING = 28,
    /// Nesterov's accelerated gradient method for strongly convex objectives
    /// (`freestep_accelerated_init`).
    RULE_ACCELERATED = 29,
}

/// Parameters per layout tile: a phased-step range must start on a multiple
/// of this.
pub const FREESTEP_TILE: usize = 256;

/// The most parameter groups an optimizer can hold.
pub const FREESTEP_MAX_GROUPS: usize = 16;

/// An upper bound of `freestep_optimizer_size()` on every target, for
/// static blocks.
pub const FREESTEP_OPTIMIZER_MAX_SIZE: usize = 2048;

/// An upper bound of `freestep_optimizer_align()` on every target.
pub const FREESTEP_OPTIMIZER_MAX_ALIGN: usize = 16;

/// An upper bound of `freestep_partial_size()` on every target.
pub const FREESTEP_PARTIAL_MAX_SIZE: usize = 1280;

/// An upper bound of `freestep_partial_align()` on every target.
pub const FREESTEP_PARTIAL_MAX_ALIGN: usize = 16;

// cbindgen prints only literal constants, so the values above are written
// out; these checks fail the build when core or the objects outgrow them.
const _: () = {
    assert!(FREESTEP_TILE == freestep_core::TILE);
    assert!(FREESTEP_MAX_GROUPS == freestep_core::MAX_GROUPS);
    assert!(size_of::<Object>() <= FREESTEP_OPTIMIZER_MAX_SIZE);
    assert!(align_of::<Object>() <= FREESTEP_OPTIMIZER_MAX_ALIGN);
    assert!(size_of::<PartialObject>() <= FREESTEP_PARTIAL_MAX_SIZE);
    assert!(align_of::<PartialObject>() <= FREESTEP_PARTIAL_MAX_ALIGN);
    assert!(size_of::<Object>() <= u32::MAX as usize);
};

const OPTIMIZER_MAGIC: u64 = u64::from_le_bytes(*b"fstepOPT");
const PARTIAL_MAGIC: u64 = u64::from_le_bytes(*b"fstepSUM");

/// Bumped whenever the layout of either object changes, so that a block
/// written by another build of the library is refused. The header's size
/// field catches most such changes even when this is forgotten.
const LAYOUT_VERSION: u32 = 1;

/// The first bytes of both objects: integers only, so that every bit
/// pattern is a valid value and a raw read of foreign memory is sound.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    magic: u64,
    version: u32,
    size: u32,
}

impl Header {
    const fn new(magic: u64, size: usize) -> Self {
        Self {
            magic,
            version: LAYOUT_VERSION,
            size: size as u32,
        }
    }

    /// True when the header is one that `new` wrote for this object type.
    fn is(&self, magic: u64, size: usize) -> bool {
        self.magic == magic && self.version == LAYOUT_VERSION && self.size as usize == size
    }

    /// Reads the header at the start of `p` and checks it.
    ///
    /// # Safety
    ///
    /// `p` must point to at least `size_of::<Header>()` readable,
    /// initialised bytes.
    unsafe fn check<T>(p: *const T, magic: u64) -> Result<Self, ()> {
        // SAFETY: the caller checked `p` for NULL and for the alignment of
        // the object, which is at least the header's; the contract makes the
        // bytes readable, and a header of integers accepts any bits.
        let header = unsafe { p.cast::<Header>().read() };
        match header.is(magic, size_of::<T>()) {
            true => Ok(header),
            false => Err(()),
        }
    }
}

/// One optimizer of each rule.
#[derive(Clone, Debug)]
pub(crate) enum Any<T: Float> {
    Sgd(Optimizer<T, Sgd>),
    Adam(Optimizer<T, Adam>),
    SgdScheduleFree(Optimizer<T, ScheduleFreeSgd>),
    AdamWScheduleFree(Optimizer<T, ScheduleFreeAdamW>),
    RAdamScheduleFree(Optimizer<T, ScheduleFreeRAdam>),
    Prodigy(Optimizer<T, Prodigy>),
    Adagrad(Optimizer<T, Adagrad>),
    Rmsprop(Optimizer<T, Rmsprop>),
    Madgrad(Optimizer<T, Madgrad>),
    Lion(Optimizer<T, Lion>),
    DAdaptAdam(Optimizer<T, DAdaptAdam>),
    DAdaptSgd(Optimizer<T, DAdaptSgd>),
    DAdaptLion(Optimizer<T, DAdaptLion>),
    DAdaptAdagrad(Optimizer<T, DAdaptAdagrad>),
    DAdaptAdan(Optimizer<T, DAdaptAdan>),
    MirrorMadgrad(Optimizer<T, MirrorMadgrad>),
    Momo(Optimizer<T, Momo>),
    MomoAdam(Optimizer<T, MomoAdam>),
    Polyak(Optimizer<T, Polyak>),
    Ngd(Optimizer<T, Ngd>),
    Accelerated(Optimizer<T, Accelerated>),
    PrimalAveraging(Optimizer<T, PrimalAveraging>),
    Shb(Optimizer<T, Shb>),
}

/// Runs `$e` with `$o` bound to the optimizer, whatever its rule.
macro_rules! each_rule {
    ($any:expr, $o:ident => $e:expr) => {
        match $any {
            Any::Sgd($o) => $e,
            Any::Adam($o) => $e,
            Any::SgdScheduleFree($o) => $e,
            Any::AdamWScheduleFree($o) => $e,
            Any::RAdamScheduleFree($o) => $e,
            Any::Prodigy($o) => $e,
            Any::Adagrad($o) => $e,
            Any::Rmsprop($o) => $e,
            Any::Madgrad($o) => $e,
            Any::Lion($o) => $e,
            Any::DAdaptAdam($o) => $e,
            Any::DAdaptSgd($o) => $e,
            Any::DAdaptLion($o) => $e,
            Any::DAdaptAdagrad($o) => $e,
            Any::DAdaptAdan($o) => $e,
            Any::MirrorMadgrad($o) => $e,
            Any::Momo($o) => $e,
            Any::MomoAdam($o) => $e,
            Any::Polyak($o) => $e,
            Any::Ngd($o) => $e,
            Any::Accelerated($o) => $e,
            Any::PrimalAveraging($o) => $e,
            Any::Shb($o) => $e,
        }
    };
}
pub(crate) use each_rule;

/// An optimizer's rule, Mechanic tuner and Schedule-Free wrapper.
pub(crate) type Parts<'a, T> = (
    &'a mut Any<T>,
    &'a mut Option<Mechanic>,
    &'a mut Option<ScheduleFreeWrapper>,
);

/// The optimizer in either precision.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    F32(Any<f32>),
    F64(Any<f64>),
}

/// The optimizer object behind a `freestep_optimizer *`.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct Object {
    header: Header,
    rule: freestep_rule,
    body: Body,
    /// The Mechanic tuner over the rule, once `freestep_optimizer_mechanize`
    /// has added one.
    tuner: Option<Mechanic>,
    /// The Schedule-Free wrapper around the rule, once
    /// `freestep_optimizer_schedulefree_wrap` has added one.
    wrapper: Option<ScheduleFreeWrapper>,
}

impl Object {
    /// A new object for an optimizer.
    pub fn new<T: Element>(rule: freestep_rule, any: Any<T>) -> Self {
        Self {
            header: Header::new(OPTIMIZER_MAGIC, size_of::<Self>()),
            rule,
            body: T::wrap(any),
            tuner: None,
            wrapper: None,
        }
    }

    /// The object at `p`, after checking the pointer and the header.
    ///
    /// # Safety
    ///
    /// A non-NULL, aligned `p` must point to `freestep_optimizer_size()`
    /// readable bytes that nothing writes while the reference lives.
    pub unsafe fn get<'a>(p: *const freestep_optimizer) -> Result<&'a Self, freestep_status> {
        let p = check_ptr(p.cast::<Self>())?;
        // SAFETY: `p` is non-NULL and aligned (checked just above) and the
        // contract makes the block readable.
        unsafe { Header::check(p.as_ptr(), OPTIMIZER_MAGIC) }
            .map_err(|()| freestep_status::NOT_AN_OPTIMIZER)?;
        // SAFETY: the header matches, so an init function of this build
        // wrote a whole `Object` here; the contract excludes writers.
        Ok(unsafe { p.as_ref() })
    }

    /// The object at `p`, mutably, after checking the pointer and the header.
    ///
    /// # Safety
    ///
    /// As for [`get`](Self::get), and no other call may use the object
    /// while the reference lives.
    pub unsafe fn get_mut<'a>(p: *mut freestep_optimizer) -> Result<&'a mut Self, freestep_status> {
        let mut p = check_ptr(p.cast::<Self>())?;
        // SAFETY: `p` is non-NULL and aligned (checked just above) and the
        // contract makes the block readable.
        unsafe { Header::check(p.as_ptr(), OPTIMIZER_MAGIC) }
            .map_err(|()| freestep_status::NOT_AN_OPTIMIZER)?;
        // SAFETY: the header matches, so an init function of this build
        // wrote a whole `Object` here; the contract gives exclusive access.
        Ok(unsafe { p.as_mut() })
    }

    /// The rule the object was initialised with.
    pub fn rule(&self) -> freestep_rule {
        self.rule
    }

    /// The optimizer, if its precision is `T`, for the calls a Mechanic
    /// tuner or a Schedule-Free wrapper does not support (the phases; the
    /// rule's own Schedule-Free switches).
    pub fn any<T: Element>(&self) -> Result<&Any<T>, freestep_status> {
        if self.tuner.is_some() || self.wrapper.is_some() {
            return Err(freestep_status::UNSUPPORTED);
        }
        T::any(&self.body).ok_or(freestep_status::WRONG_PRECISION)
    }

    /// The optimizer, mutably, if its precision is `T`; see [`any`](Self::any).
    pub fn any_mut<T: Element>(&mut self) -> Result<&mut Any<T>, freestep_status> {
        if self.tuner.is_some() || self.wrapper.is_some() {
            return Err(freestep_status::UNSUPPORTED);
        }
        T::any_mut(&mut self.body).ok_or(freestep_status::WRONG_PRECISION)
    }

    /// The optimizer with its tuner and wrapper, if its precision is `T`.
    pub fn parts_mut<T: Element>(&mut self) -> Result<Parts<'_, T>, freestep_status> {
        let any = T::any_mut(&mut self.body).ok_or(freestep_status::WRONG_PRECISION)?;
        Ok((any, &mut self.tuner, &mut self.wrapper))
    }

    /// The optimizer and its wrapper, if its precision is `T`.
    pub fn wrapped<T: Element>(
        &self,
    ) -> Result<(&Any<T>, Option<&ScheduleFreeWrapper>), freestep_status> {
        let any = T::any(&self.body).ok_or(freestep_status::WRONG_PRECISION)?;
        Ok((any, self.wrapper.as_ref()))
    }

    /// The Schedule-Free wrapper, if the optimizer has one.
    pub fn wrapper(&self) -> Option<&ScheduleFreeWrapper> {
        self.wrapper.as_ref()
    }

    /// The Schedule-Free wrapper, mutably, if the optimizer has one.
    pub fn wrapper_mut(&mut self) -> Option<&mut ScheduleFreeWrapper> {
        self.wrapper.as_mut()
    }

    /// Puts `wrapper` around the rule, replacing any earlier one.
    pub fn set_wrapper(&mut self, wrapper: ScheduleFreeWrapper) {
        self.wrapper = Some(wrapper);
    }

    /// The Mechanic tuner, if the optimizer has one.
    pub fn tuner(&self) -> Option<&Mechanic> {
        self.tuner.as_ref()
    }

    /// The Mechanic tuner, mutably, if the optimizer has one.
    pub fn tuner_mut(&mut self) -> Option<&mut Mechanic> {
        self.tuner.as_mut()
    }

    /// Puts `tuner` over the rule, replacing any earlier one.
    pub fn set_tuner(&mut self, tuner: Mechanic) {
        self.tuner = Some(tuner);
    }

    /// Runs `f` with the optimizer in whichever precision it has.
    pub fn with_any<R>(
        &self,
        f32: impl FnOnce(&Any<f32>) -> R,
        f64: impl FnOnce(&Any<f64>) -> R,
    ) -> R {
        match &self.body {
            Body::F32(any) => f32(any),
            Body::F64(any) => f64(any),
        }
    }

    /// Runs `f` with the optimizer, mutably, in whichever precision it has.
    pub fn with_any_mut<R>(
        &mut self,
        f32: impl FnOnce(&mut Any<f32>) -> R,
        f64: impl FnOnce(&mut Any<f64>) -> R,
    ) -> R {
        match &mut self.body {
            Body::F32(any) => f32(any),
            Body::F64(any) => f64(any),
        }
    }
}

/// The partial sums in either precision.
// The block is allocated by the caller at the largest size anyway, so the
// smaller variant wastes nothing that boxing could save.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
pub(crate) enum PartialBody {
    F32(Partial<f32>),
    F64(Partial<f64>),
}

/// The partial object behind a `freestep_partial *`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct PartialObject {
    header: Header,
    body: PartialBody,
}

impl PartialObject {
    /// A partial object holding `partial`.
    pub fn new<T: Element>(partial: Partial<T>) -> Self {
        Self {
            header: Header::new(PARTIAL_MAGIC, size_of::<Self>()),
            body: T::wrap_partial(partial),
        }
    }

    /// A copy of the partial object at `p`, after checking the pointer and
    /// the header.
    ///
    /// # Safety
    ///
    /// A non-NULL, aligned `p` must point to `freestep_partial_size()`
    /// readable bytes that nothing writes during the call.
    pub unsafe fn read(p: *const freestep_partial) -> Result<Self, freestep_status> {
        let p = check_ptr(p.cast::<Self>())?;
        // SAFETY: `p` is non-NULL and aligned (checked just above) and the
        // contract makes the block readable.
        unsafe { Header::check(p.as_ptr(), PARTIAL_MAGIC) }
            .map_err(|()| freestep_status::NOT_A_PARTIAL)?;
        // SAFETY: the header matches, so this build wrote a whole
        // `PartialObject` here; reading copies it out.
        Ok(unsafe { p.as_ptr().read() })
    }

    /// The partial, if its precision is `T`.
    pub fn get<T: Element>(&self) -> Result<Partial<T>, freestep_status> {
        T::partial(&self.body).ok_or(freestep_status::WRONG_PRECISION)
    }

    /// The combination of two partials of the same precision.
    pub fn combine(&self, other: &Self) -> Result<Self, freestep_status> {
        match (&self.body, &other.body) {
            (PartialBody::F32(a), PartialBody::F32(b)) => Ok(Self::new(a.combine(b))),
            (PartialBody::F64(a), PartialBody::F64(b)) => Ok(Self::new(a.combine(b))),
            _ => Err(freestep_status::WRONG_PRECISION),
        }
    }
}

/// `f32` or `f64`: picks the matching variant out of the objects.
pub(crate) trait Element: Float {
    fn wrap(any: Any<Self>) -> Body;
    fn any(body: &Body) -> Option<&Any<Self>>;
    fn any_mut(body: &mut Body) -> Option<&mut Any<Self>>;
    fn wrap_partial(partial: Partial<Self>) -> PartialBody;
    fn partial(body: &PartialBody) -> Option<Partial<Self>>;
}

/// Implements [`Element`] for one type with its two variants.
macro_rules! element {
    ($t:ty, $variant:ident) => {
        impl Element for $t {
            fn wrap(any: Any<Self>) -> Body {
                Body::$variant(any)
            }
            fn any(body: &Body) -> Option<&Any<Self>> {
                match body {
                    Body::$variant(any) => Some(any),
                    _ => None,
                }
            }
            fn any_mut(body: &mut Body) -> Option<&mut Any<Self>> {
                match body {
                    Body::$variant(any) => Some(any),
                    _ => None,
                }
            }
            fn wrap_partial(partial: Partial<Self>) -> PartialBody {
                PartialBody::$variant(partial)
            }
            fn partial(body: &PartialBody) -> Option<Partial<Self>> {
                match body {
                    PartialBody::$variant(p) => Some(*p),
                    _ => None,
                }
            }
        }
    };
}
element!(f32, F32);
element!(f64, F64);

/// The size in bytes of an optimizer object on this target: allocate at
/// least this much for `freestep_*_init`.
#[no_mangle]
pub extern "C" fn freestep_optimizer_size() -> usize {
    size_of::<Object>()
}

/// The alignment in bytes an optimizer object needs on this target.
#[no_mangle]
pub extern "C" fn freestep_optimizer_align() -> usize {
    align_of::<Object>()
}

/// The size in bytes of a partial object on this target.
#[no_mangle]
pub extern "C" fn freestep_partial_size() -> usize {
    size_of::<PartialObject>()
}

/// The alignment in bytes a partial object needs on this target.
#[no_mangle]
pub extern "C" fn freestep_partial_align() -> usize {
    align_of::<PartialObject>()
}
