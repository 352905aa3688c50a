//! Any bytes through the upload path (format sniffing, decoders with limits, EXIF orientation,
//! DICOM, resize): a model input or a `DecodeError`, never a panic or an unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = bone_fracture::data::decode_xray(bytes);
});
