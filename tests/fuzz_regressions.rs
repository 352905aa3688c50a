//! Every input the fuzzers kept (`fuzz/corpus/`) or that once crashed them (`fuzz/regressions/`)
//! goes through the same path as its fuzz target again: a model input or a message, no panic.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use bone_fracture::data::decode_xray;

/// Records the largest single allocation, so that an input which once made the decoder ask for
/// gigabytes (an out-of-memory "crash" under the fuzzer) is caught here too.
struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

/// The decoders' own ceiling is 512 MiB (`MAX_DECODE_BYTES`); the fuzzers stop at 2 GiB.
const LARGEST_ALLOWED: usize = 1 << 30;

/// What `fuzz/fuzz_targets/decode_dicom.rs` does with its input.
fn as_dicom_file(body: &[u8]) -> Vec<u8> {
    [&[0u8; 128][..], b"DICM", body].concat()
}

fn replay(folder: &str, harness: fn(&[u8]) -> Vec<u8>) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let Ok(entries) = std::fs::read_dir(&dir) else { return 0 };
    let mut count = 0;
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let bytes = std::fs::read(&path).expect("reading a fuzz input");
        let outcome = std::panic::catch_unwind(|| decode_xray(&harness(&bytes)).map(|_| ()));
        assert!(outcome.is_ok(), "{} panics the decoder", path.display());
        let largest = LARGEST.load(Ordering::Relaxed);
        assert!(largest <= LARGEST_ALLOWED, "{} made the decoder allocate {largest} bytes at once", path.display());
        count += 1;
    }
    count
}

#[test]
fn the_image_decoder_survives_every_kept_input() {
    let kept = replay("fuzz/corpus/decode_image", <[u8]>::to_vec) + replay("fuzz/regressions/decode_image", <[u8]>::to_vec);
    assert!(kept > 0, "fuzz/corpus/decode_image is empty: run scripts/fuzz.sh");
}

#[test]
fn the_dicom_reader_survives_every_kept_input() {
    let kept = replay("fuzz/corpus/decode_dicom", as_dicom_file) + replay("fuzz/regressions/decode_dicom", as_dicom_file);
    assert!(kept > 0, "fuzz/corpus/decode_dicom is empty: run scripts/fuzz.sh");
}
