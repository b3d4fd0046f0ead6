//! Tests of the boundary from Rust: the object header check, the pointer
//! checks and the raw readings of C values. The C ABI test
//! (`tests/c/abi_test.c`) covers the functions end to end.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use core::mem::size_of;

use crate::boundary::{disjoint, Buf};
use crate::*;

/// A block with the alignment and size of an optimizer object.
#[repr(C, align(16))]
struct Block([u8; FREESTEP_OPTIMIZER_MAX_SIZE]);

impl Block {
    fn filled(byte: u8) -> Self {
        Self([byte; FREESTEP_OPTIMIZER_MAX_SIZE])
    }
    fn opt(&mut self) -> *mut freestep_optimizer {
        self.0.as_mut_ptr().cast()
    }
}

fn sgd_into(block: &mut Block, n: usize) -> freestep_status {
    let mut config = core::mem::MaybeUninit::uninit();
    assert_eq!(
        freestep_sgd_default_config(config.as_mut_ptr()),
        freestep_status::OK
    );
    // SAFETY: written by the call above.
    let config = unsafe { config.assume_init() };
    let size = block.0.len();
    // SAFETY: the block is large, aligned and writable; no groups.
    unsafe {
        freestep_sgd_init(
            block.opt(),
            size,
            &config,
            RawPrecision(1),
            n,
            core::ptr::null(),
            0,
        )
    }
}

fn state_len(block: &mut Block) -> Result<usize, freestep_status> {
    let mut len = usize::MAX;
    // SAFETY: `len` is a writable usize; the block is a block.
    match unsafe { freestep_optimizer_state_len(block.opt(), &mut len) } {
        freestep_status::OK => Ok(len),
        status => Err(status),
    }
}

#[test]
fn garbage_and_zeroed_blocks_are_refused() {
    for byte in [0x00, 0x5A, 0xFF] {
        let mut block = Block::filled(byte);
        assert_eq!(
            state_len(&mut block),
            Err(freestep_status::NOT_AN_OPTIMIZER)
        );
        // SAFETY: the block is readable; it is refused before use.
        let status = unsafe { freestep_optimizer_reset(block.opt()) };
        assert_eq!(status, freestep_status::NOT_AN_OPTIMIZER);
        assert!(block.0.iter().all(|&b| b == byte));
    }
}

#[test]
fn every_header_field_is_checked() {
    let mut block = Block::filled(0);
    assert_eq!(sgd_into(&mut block, 8), freestep_status::OK);
    assert_eq!(state_len(&mut block), Ok(0));
    // Magic (bytes 0..8), layout version (8..12), object size (12..16).
    for at in [0, 7, 8, 12] {
        let mut copy = Block(block.0);
        copy.0[at] ^= 0x01;
        assert_eq!(state_len(&mut copy), Err(freestep_status::NOT_AN_OPTIMIZER));
    }
    // A byte copy of a valid object is valid.
    let mut copy = Block(block.0);
    assert_eq!(state_len(&mut copy), Ok(0));
}

#[test]
fn init_writes_nothing_on_error() {
    let mut block = Block::filled(0xA5);
    let mut config = freestep_sgd_config {
        lr: -1.0,
        momentum: 0.0,
        dampening: 0.0,
        weight_decay: 0.0,
        nesterov: false,
        maximize: false,
    };
    let size = freestep_optimizer_size();
    let init = |block: &mut Block, config: &freestep_sgd_config, size, precision| {
        // SAFETY: valid block and config; no groups.
        unsafe {
            freestep_sgd_init(
                block.opt(),
                size,
                config,
                RawPrecision(precision),
                4,
                core::ptr::null(),
                0,
            )
        }
    };
    let s = freestep_status::INVALID_HYPERPARAMETER;
    assert_eq!(init(&mut block, &config, size, 1), s);
    config.lr = 0.1;
    let s = freestep_status::BUFFER_TOO_SMALL;
    assert_eq!(init(&mut block, &config, size - 1, 1), s);
    for precision in [0, 3, u32::MAX] {
        let s = freestep_status::INVALID_PRECISION;
        assert_eq!(init(&mut block, &config, size, precision), s);
    }
    assert!(block.0.iter().all(|&b| b == 0xA5));
    assert_eq!(init(&mut block, &config, size, 2), freestep_status::OK);
}

#[test]
fn flags_are_read_as_bytes() {
    // A C caller may store any byte in a bool; non-zero reads as true. The
    // struct lives in a byte array so that Rust never holds a bool of 2.
    #[repr(C, align(8))]
    struct Raw([u8; size_of::<freestep_sgd_config>()]);
    let config = freestep_sgd_config {
        lr: 0.1,
        momentum: 0.0,
        dampening: 0.0,
        weight_decay: 0.0,
        nesterov: false,
        maximize: false,
    };
    let mut raw = Raw([0; size_of::<freestep_sgd_config>()]);
    let at = core::mem::offset_of!(freestep_sgd_config, nesterov);
    // SAFETY: the array is as large and as aligned as the struct.
    unsafe {
        raw.0
            .as_mut_ptr()
            .cast::<freestep_sgd_config>()
            .write(config)
    };
    raw.0[at] = 2;
    let mut block = Block::filled(0);
    let size = block.0.len();
    // SAFETY: valid block, and a config pointer to initialised bytes.
    let status = unsafe {
        freestep_sgd_init(
            block.opt(),
            size,
            raw.0.as_ptr().cast(),
            RawPrecision(1),
            4,
            core::ptr::null(),
            0,
        )
    };
    // Nesterov without momentum is refused: the byte 2 was read as true.
    assert_eq!(status, freestep_status::INVALID_HYPERPARAMETER);
}

#[test]
fn arrays_are_checked_before_use() {
    let data = [0.0f32; 8];
    assert!(Buf::new(core::ptr::null::<f32>(), 0).is_ok());
    assert_eq!(
        Buf::new(core::ptr::null::<f32>(), 1).unwrap_err(),
        freestep_status::NULL_POINTER
    );
    let odd = data.as_ptr().cast::<u8>().wrapping_add(1).cast::<f32>();
    assert_eq!(
        Buf::new(odd, 1).unwrap_err(),
        freestep_status::MISALIGNED_POINTER
    );
    let huge = isize::MAX as usize / size_of::<f32>() + 1;
    assert_eq!(
        Buf::new(data.as_ptr(), huge).unwrap_err(),
        freestep_status::BAD_LENGTH
    );

    let all = Buf::new(data.as_ptr(), 8).unwrap();
    let (a, b) = (all.sub(0..4).unwrap(), all.sub(4..8).unwrap());
    assert!(disjoint(&a, &[&b]).is_ok());
    assert_eq!(
        disjoint(&a, &[&all.sub(3..5).unwrap()]),
        Err(freestep_status::OVERLAPPING_BUFFERS)
    );
    assert!(disjoint(&a, &[&all.sub(2..2).unwrap()]).is_ok());
    assert_eq!(all.sub(4..9).unwrap_err(), freestep_status::BAD_RANGE);
}

#[test]
fn object_sizes_fit_the_header_bounds() {
    assert!(freestep_optimizer_size() <= FREESTEP_OPTIMIZER_MAX_SIZE);
    assert!(freestep_optimizer_align() <= FREESTEP_OPTIMIZER_MAX_ALIGN);
    assert!(freestep_partial_size() <= FREESTEP_PARTIAL_MAX_SIZE);
    assert!(freestep_partial_align() <= FREESTEP_PARTIAL_MAX_ALIGN);
}
