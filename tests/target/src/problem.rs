//! The fixed problem every target trains on: inputs made of integers and
//! exact conversions, and a gradient of additions and multiplications only,
//! so that its bits cannot depend on the target's math library.

/// Parameters of the f32 problem: more than one tile of 256, so that every
/// rule crosses a tile boundary and the phased checks split the step.
pub const N: usize = 260;

/// Steps of each trajectory.
pub const STEPS: usize = 24;

/// Steps (from 0) at which the problem feeds special gradients.
pub const ZERO_GRAD_STEP: usize = 5;
pub const SPIKE_STEP: usize = 11;
pub const HALF_ZERO_STEP: usize = 17;

/// splitmix64: a tiny, well-mixed generator with the same output everywhere.
pub struct Rng(u64);

impl Rng {
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`: 24 random bits, converted exactly.
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 * (1.0 / 16_777_216.0);
        lo + (hi - lo) * unit
    }
}

/// `f(x) = Σ a_i (x_i − c_i)² / 2 + q Σ ln(1 + x_i²) / 2`: a separable
/// quadratic (minimum at `c` when `q = 0`) with an optional bounded term that
/// makes the gradient, `a_i (x_i − c_i) + q x_i / (1 + x_i²)`, nonlinear
/// while keeping every trajectory finite. Division is correctly rounded like
/// addition and multiplication, so the gradient's bits are the same on
/// every target.
///
/// The coefficients are drawn per element from the seed when needed rather
/// than stored, which keeps the 16 KiB of a Cortex-M0 for the optimizer.
pub struct Problem {
    seed: u64,
    q: f32,
}

/// One element's coefficients: curvature, optimum and starting point.
pub struct Element {
    pub a: f32,
    pub c: f32,
    pub x0: f32,
}

impl Problem {
    pub const fn new(seed: u64, q: f32) -> Self {
        Self { seed, q }
    }

    pub fn element(&self, i: usize) -> Element {
        let mut rng = Rng::new(self.seed ^ (i as u64).wrapping_mul(0xd1b5_4a32_d192_ed03));
        Element {
            a: rng.uniform(0.5, 2.5),
            c: rng.uniform(-1.0, 1.0),
            x0: rng.uniform(-2.0, 2.0),
        }
    }

    /// Writes the starting point.
    pub fn start(&self, x: &mut [f32]) {
        for (i, x) in x.iter_mut().enumerate() {
            *x = self.element(i).x0;
        }
    }

    /// The gradient at `x`, as fed at trajectory step `step`: zero at
    /// [`ZERO_GRAD_STEP`], a thousand times larger at [`SPIKE_STEP`], and zero
    /// on the first 100 elements at [`HALF_ZERO_STEP`].
    pub fn gradient(&self, step: usize, x: &[f32], g: &mut [f32]) {
        for (i, (&x, g)) in x.iter().zip(g.iter_mut()).enumerate() {
            let e = self.element(i);
            let mut v = e.a * (x - e.c) + self.q * x / (1.0 + x * x);
            match step {
                ZERO_GRAD_STEP => v = 0.0,
                SPIKE_STEP => v *= 1000.0,
                HALF_ZERO_STEP if i < 100 => v = 0.0,
                _ => {}
            }
            *g = v;
        }
    }

    /// `f(x)` for the quadratic part, in f64.
    pub fn quadratic_value(&self, x: &[f32]) -> f64 {
        let mut f = 0.0f64;
        for (i, &x) in x.iter().enumerate() {
            let e = self.element(i);
            let d = x as f64 - e.c as f64;
            f += 0.5 * e.a as f64 * d * d;
        }
        f
    }

    /// `f` at the starting point.
    pub fn start_value(&self, n: usize) -> f64 {
        let mut f = 0.0f64;
        for i in 0..n {
            let e = self.element(i);
            let d = e.x0 as f64 - e.c as f64;
            f += 0.5 * e.a as f64 * d * d;
        }
        f
    }
}

/// FNV-1a over 32-bit words: the digest of trajectory bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv(pub u64);

impl Fnv {
    pub const fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    pub fn word(&mut self, w: u32) {
        for b in w.to_le_bytes() {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    pub fn f32s(&mut self, xs: &[f32]) {
        for x in xs {
            self.word(x.to_bits());
        }
    }

    pub fn f64s(&mut self, xs: &[f64]) {
        for x in xs {
            let b = x.to_bits();
            self.word(b as u32);
            self.word((b >> 32) as u32);
        }
    }
}
