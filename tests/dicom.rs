//! DICOM X-rays: 8- and 16-bit, MONOCHROME1 and 2, rescaled and windowed, all read back to the
//! grey levels a viewer shows; compressions without a decoder here are named; broken files give
//! messages.

mod common;

use bone_fracture::data::{decode_xray, DecodeError, INPUT_SIZE};
use common::dicom::{self, Storage};
use image::GrayImage;

const PLANE: usize = INPUT_SIZE * INPUT_SIZE;

fn grey_png(grey: &GrayImage) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    grey.write_to(&mut bytes, image::ImageFormat::Png).expect("encoding a PNG");
    bytes.into_inner()
}

#[test]
fn every_storage_reads_back_to_the_same_x_ray() {
    let grey = dicom::xray_grey();
    let reference = decode_xray(&grey_png(&grey)).expect("the grey PNG");
    for storage in [Storage::Mono2Bits8, Storage::Mono1Bits16Windowed, Storage::Mono2Bits16Rescaled] {
        let xray = decode_xray(&dicom::dicom_from_grey(&grey, storage, &[])).unwrap_or_else(|e| panic!("{storage:?}: {e}"));
        assert_eq!(xray.original_size, reference.original_size, "{storage:?}");
        let worst = xray.pixels.iter().zip(&reference.pixels).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst <= 1.0 / 255.0 + 1e-6, "{storage:?}: differs from the PNG by up to {worst}");
        assert_eq!(xray.pixels[..PLANE], xray.pixels[PLANE..2 * PLANE], "{storage:?}: grey gives equal R, G and B");
    }
}

#[test]
fn monochrome1_is_inverted_so_that_bone_stays_bright() {
    // MONOCHROME1 stores the negative; read without the inversion it would match the negative.
    let grey = dicom::xray_grey();
    let xray = decode_xray(&dicom::dicom_from_grey(&grey, Storage::Mono1Bits16Windowed, &[])).unwrap();
    let reference = decode_xray(&grey_png(&grey)).unwrap();
    let mean_gap = |to_negative: bool| {
        let gaps = xray.pixels.iter().zip(&reference.pixels).map(|(a, b)| (a - if to_negative { 1.0 - b } else { *b }).abs());
        gaps.sum::<f32>() / xray.pixels.len() as f32
    };
    assert!(mean_gap(false) < 0.002, "close to the image: {}", mean_gap(false));
    assert!(mean_gap(true) > 0.2, "far from its negative: {}", mean_gap(true));
}

#[test]
fn the_window_clips_and_no_window_stretches() {
    // 64x1 in four 16-pixel blocks: below the window, its low edge, its high edge, above it.
    let values: Vec<u16> = [100u16, 1000, 3000, 60000].iter().flat_map(|&v| [v; 16]).collect();
    let windowed = decode_xray(&dicom::dicom_raw16(64, 1, &values, Some(("2000.5", "2001")))).unwrap();
    // The centre of block `i` in the 256-wide input.
    let column = |xray: &bone_fracture::data::Xray, i: usize| xray.pixels[64 * i + 32];
    assert_eq!([column(&windowed, 0), column(&windowed, 1)], [0.0, 0.0], "at or below the window is black");
    assert_eq!([column(&windowed, 2), column(&windowed, 3)], [1.0, 1.0], "at or above its top is white");
    // Without a window the range 100..=60000 spans black to white.
    let stretched = decode_xray(&dicom::dicom_raw16(64, 1, &values, None)).unwrap();
    assert_eq!(column(&stretched, 0), 0.0);
    assert_eq!(column(&stretched, 3), 1.0);
    assert!((column(&stretched, 2) - (2900.0f32 / 59900.0 * 255.0).round() / 255.0).abs() < 1e-6);
}

#[test]
fn a_jpeg_compressed_file_reads_like_the_png() {
    let grey = dicom::xray_grey();
    let reference = decode_xray(&grey_png(&grey)).unwrap();
    let xray = decode_xray(&dicom::dicom_jpeg_baseline(&grey)).expect("JPEG baseline DICOM");
    let mean_gap = xray.pixels.iter().zip(&reference.pixels).map(|(a, b)| (a - b).abs()).sum::<f32>() / xray.pixels.len() as f32;
    assert!(mean_gap < 0.01, "JPEG at quality 95 stays close to the PNG: {mean_gap}");
}

#[test]
fn a_multi_frame_file_gives_its_first_frame() {
    let white = GrayImage::from_pixel(16, 16, image::Luma([255]));
    let black = GrayImage::from_pixel(16, 16, image::Luma([0]));
    let mut first = white.clone();
    first.put_pixel(0, 0, image::Luma([0])); // min-max needs two levels
    let xray = decode_xray(&dicom::dicom_from_grey(&first, Storage::Mono1Bits16Windowed, &[&black, &black])).unwrap();
    assert!(xray.pixels[PLANE - 1] > 0.99, "the first (white) frame, not the black ones");
}

#[test]
fn jpeg_2000_is_named_with_what_to_do() {
    match decode_xray(&dicom::dicom_jpeg2000(64, 64)) {
        Err(e @ DecodeError::DicomCompression(_)) => {
            let message = e.to_string();
            assert!(message.contains("JPEG 2000") && message.contains("1.2.840.10008.1.2.4.90"), "{message}");
            assert!(message.contains("export the image as PNG"), "{message}");
        }
        other => panic!("expected DicomCompression, got {other:?}"),
    }
}

#[test]
fn broken_dicom_files_give_messages() {
    let grey = dicom::xray_grey();
    let good = dicom::dicom_from_grey(&grey, Storage::Mono2Bits16Rescaled, &[]);
    // Cut inside the meta group, inside the attributes, and inside the pixel data.
    for cut in [140, 400, good.len() - 1000] {
        match decode_xray(&good[..cut]) {
            Err(DecodeError::Dicom(message)) => assert!(!message.is_empty()),
            other => panic!("cut at {cut}: expected a DICOM message, got {other:?}"),
        }
    }
    // The pixel data claims 3 GB in a 100 kB file: refused before anything is allocated.
    let mut claims = good.clone();
    let at = claims.windows(6).position(|w| w == [0xE0, 0x7F, 0x10, 0x00, b'O', b'W']).expect("the pixel data header") + 8;
    claims[at..at + 4].copy_from_slice(&0xC000_0000u32.to_le_bytes());
    match decode_xray(&claims) {
        Err(DecodeError::Dicom(message)) => assert!(message.contains("claims 3221225472 bytes"), "{message}"),
        other => panic!("expected a DICOM message, got {other:?}"),
    }
    // A JPEG inside whose header claims more pixels than the file's Rows and Columns.
    let mut jpeg = dicom::dicom_jpeg_baseline(&grey);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("a baseline SOF") + 5;
    jpeg[sof..sof + 4].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    match decode_xray(&jpeg) {
        Err(DecodeError::Dicom(message)) => assert!(
            message.contains("65535x65535 pixels with 1 component(s) of 1 byte(s), but the file says 153x320"),
            "{message}"
        ),
        other => panic!("expected a DICOM message, got {other:?}"),
    }
    // Rows claims 40000: refused by size before the pixel data is touched.
    let mut huge = dicom::dicom_raw16(4, 1, &[1, 2, 3, 4], None);
    let rows = find_rows(&huge);
    huge[rows..rows + 2].copy_from_slice(&40000u16.to_le_bytes());
    assert!(matches!(decode_xray(&huge), Err(DecodeError::TooLarge { height: 40000, .. })), "{:?}", decode_xray(&huge).err());
}

/// Offset of the Rows (0028,0010) value: tag, "US", 2-byte length, then the value.
fn find_rows(bytes: &[u8]) -> usize {
    let needle = [0x28, 0x00, 0x10, 0x00, b'U', b'S', 2, 0];
    bytes.windows(8).position(|w| w == needle).expect("a Rows element") + 8
}

/// `tests/fixtures/dicom/` holds these generators' output for the page's end-to-end tests;
/// `UPDATE_FIXTURES=1 cargo test --test dicom` rewrites it.
#[test]
fn the_page_fixtures_are_the_generators_output() {
    common::check_fixtures("tests/fixtures/dicom", dicom::page_fixtures());
}

/// The fuzz targets' seed inputs in `fuzz/seeds/`, likewise.
#[test]
fn the_fuzz_seeds_are_the_generators_output() {
    common::check_fixtures("fuzz/seeds", dicom::fuzz_seeds());
}
