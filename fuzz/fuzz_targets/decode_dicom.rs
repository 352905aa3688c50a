//! Bytes after a DICOM preamble and `DICM` magic: the file meta group, the data set and the
//! pixel data (native, RLE, JPEG, deflate) parsed and windowed without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let mut file = vec![0u8; 128];
    file.extend_from_slice(b"DICM");
    file.extend_from_slice(body);
    let _ = bone_fracture::data::decode_xray(&file);
});
