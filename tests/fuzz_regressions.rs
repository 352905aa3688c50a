//! Every input the fuzzers kept (`fuzz/corpus/`) or that once crashed them (`fuzz/regressions/`)
//! goes through the same path as its fuzz target again: a model input or a message, no panic.

use std::path::Path;

use bone_fracture::data::decode_xray;

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
