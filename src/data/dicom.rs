//! DICOM files (`.dcm`) → a display-ready greyscale or RGB image, with the pure-Rust dicom-rs
//! crates: uncompressed, deflated, RLE and JPEG (baseline, extended, lossless) pixel data.
//!
//! Only the first frame is read. The modality LUT (rescale slope and intercept) and the first
//! VOI window are applied as a viewer would, so the model sees what a radiologist sees on screen;
//! without a window the values are stretched to the full range. `MONOCHROME1` images (where
//! the lowest value is white) are inverted so that bone is bright, as in the training images.

use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_pixeldata::{
    ConvertOptions, DecodedPixelData, PhotometricInterpretation, PixelDecoder, PlanarConfiguration,
    VoiLutOption,
};
use dicom_transfer_syntax_registry::{TransferSyntaxIndex, TransferSyntaxRegistry};
use image::{DynamicImage, GrayImage, RgbImage};

use crate::data::decode::{DecodeError, MAX_SIDE};
use crate::data::dicom_lengths::check_declared_lengths;

/// Whether the bytes are a DICOM file: `DICM` after the 128-byte preamble (or, for files
/// written without one, at the very start).
pub fn is_dicom(bytes: &[u8]) -> bool {
    bytes.get(128..132) == Some(b"DICM") || bytes.starts_with(b"DICM")
}

/// Reads the first frame of a DICOM file as an 8-bit image.
pub fn decode_dicom(bytes: &[u8]) -> Result<DynamicImage, DecodeError> {
    let preamble = if bytes.starts_with(b"DICM") { ReadPreamble::Never } else { ReadPreamble::Always };
    let after_magic = if bytes.starts_with(b"DICM") { &bytes[4..] } else { &bytes[132..] };
    check_declared_lengths(after_magic)?;
    let object = OpenFileOptions::new()
        .read_preamble(preamble)
        .from_reader(bytes)
        .map_err(|e| DecodeError::Dicom(e.to_string()))?;
    check_transfer_syntax(&object)?;
    let (rows, columns) = (read_u32(&object, tags::ROWS)?, read_u32(&object, tags::COLUMNS)?);
    if rows > MAX_SIDE || columns > MAX_SIDE {
        return Err(DecodeError::TooLarge { width: columns, height: rows });
    }
    if rows == 0 || columns == 0 {
        return Err(DecodeError::NoPixels { width: columns, height: rows });
    }
    if rows as u64 * columns as u64 > MAX_DICOM_PIXELS {
        return Err(DecodeError::Dicom(format!(
            "the image is {columns}x{rows} pixels; at most {} million are read",
            MAX_DICOM_PIXELS / 1_000_000
        )));
    }
    check_jpeg_size(&object, columns, rows)?;
    let frame = object.decode_pixel_data_frame(0).map_err(|e| DecodeError::Dicom(e.to_string()))?;
    to_image(&frame)
}

/// Most pixels read from one DICOM frame (radiographs are up to about 4300x3500): the frame is
/// converted through 32-bit floats, so this bounds that copy to 160 MB.
const MAX_DICOM_PIXELS: u64 = 40_000_000;

/// The JPEG decoder allocates by the size in the JPEG's own header, which need not be the
/// file's Rows and Columns: refuse a mismatch before decoding.
fn check_jpeg_size(object: &DefaultDicomObject, columns: u32, rows: u32) -> Result<(), DecodeError> {
    let Ok(pixel_data) = object.element(tags::PIXEL_DATA) else { return Ok(()) };
    let Some(first) = pixel_data.value().fragments().and_then(|f| f.first()) else { return Ok(()) };
    match jpeg_size(first) {
        Some((width, height)) if (width, height) != (columns, rows) => Err(DecodeError::Dicom(format!(
            "the compressed image inside is {width}x{height} pixels but the file says {columns}x{rows}"
        ))),
        _ => Ok(()),
    }
}

/// Width and height from a JPEG's start-of-frame segment, if it has one.
fn jpeg_size(jpeg: &[u8]) -> Option<(u32, u32)> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut pos = 2;
    while pos + 9 <= jpeg.len() {
        if jpeg[pos] != 0xFF {
            return None;
        }
        let marker = jpeg[pos + 1];
        if marker == 0xFF {
            pos += 1; // fill byte
            continue;
        }
        let length = u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]) as usize;
        // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let height = u16::from_be_bytes([jpeg[pos + 5], jpeg[pos + 6]]) as u32;
            let width = u16::from_be_bytes([jpeg[pos + 7], jpeg[pos + 8]]) as u32;
            return Some((width, height));
        }
        pos += 2 + length;
    }
    None
}

/// Names the compression when its decoder is not built in (JPEG 2000, JPEG-LS, JPEG XL…), so
/// the visitor knows what to convert from.
fn check_transfer_syntax(object: &DefaultDicomObject) -> Result<(), DecodeError> {
    let uid = object.meta().transfer_syntax().trim_end_matches(['\0', ' ']);
    match TransferSyntaxRegistry.get(uid) {
        None => Err(DecodeError::DicomCompression(format!("an unknown transfer syntax ({uid})"))),
        Some(syntax) if !syntax.can_decode_all() => {
            Err(DecodeError::DicomCompression(format!("{} ({uid})", syntax.name())))
        }
        Some(_) => Ok(()),
    }
}

fn read_u32(object: &DefaultDicomObject, tag: dicom_object::Tag) -> Result<u32, DecodeError> {
    let element = object.element(tag).map_err(|e| DecodeError::Dicom(e.to_string()))?;
    element.to_int::<u32>().map_err(|e| DecodeError::Dicom(format!("{tag}: {e}")))
}

fn to_image(frame: &DecodedPixelData<'_>) -> Result<DynamicImage, DecodeError> {
    let (width, height) = (frame.columns(), frame.rows());
    let unsupported = |what: String| Err(DecodeError::Dicom(format!("unsupported pixel data: {what}")));
    if !matches!(frame.bits_allocated(), 8 | 16) {
        return unsupported(format!("{} bits allocated per sample (8 or 16 are read)", frame.bits_allocated()));
    }
    if frame.bits_stored() == 0 || frame.bits_stored() > frame.bits_allocated() {
        return unsupported(format!("{} bits stored in {} allocated", frame.bits_stored(), frame.bits_allocated()));
    }
    match (frame.photometric_interpretation(), frame.samples_per_pixel()) {
        (PhotometricInterpretation::Monochrome1 | PhotometricInterpretation::Monochrome2, 1) => {
            let grey = to_grey(frame)?;
            GrayImage::from_raw(width, height, grey)
                .map(DynamicImage::ImageLuma8)
                .ok_or_else(|| DecodeError::Dicom("the pixel data is shorter than its rows and columns".into()))
        }
        (PhotometricInterpretation::Rgb, 3) if frame.bits_allocated() == 8 => {
            if frame.planar_configuration() != PlanarConfiguration::Standard {
                return unsupported("colour planes stored one after the other".into());
            }
            let rgb = frame.frame_data(0).map_err(|e| DecodeError::Dicom(e.to_string()))?.to_vec();
            RgbImage::from_raw(width, height, rgb)
                .map(DynamicImage::ImageRgb8)
                .ok_or_else(|| DecodeError::Dicom("the pixel data is shorter than its rows and columns".into()))
        }
        (other, samples) => unsupported(format!("{other} with {samples} sample(s) per pixel")),
    }
}

/// Rescale, then the first VOI window (or min-max when there is none), then 0..=255, with
/// `MONOCHROME1` inverted.
fn to_grey(frame: &DecodedPixelData<'_>) -> Result<Vec<u8>, DecodeError> {
    let options = ConvertOptions::new().with_voi_lut(VoiLutOption::First);
    let values: Vec<f32> =
        frame.to_vec_frame_with_options(0, &options).map_err(|e| DecodeError::Dicom(e.to_string()))?;
    let has_window = frame.window().ok().flatten().is_some_and(|windows| !windows.is_empty());
    let (low, high) = if has_window && frame.bits_allocated() == 16 {
        // A window maps to 0..=2^n - 1, n the power of two at or above Bits Stored.
        (0.0, ((1u64 << (frame.bits_stored() as u32).next_power_of_two()) - 1) as f32)
    } else if has_window {
        (0.0, 255.0)
    } else {
        let low = values.iter().copied().fold(f32::INFINITY, f32::min);
        let high = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        (low, high)
    };
    let span = if high > low { high - low } else { 1.0 };
    let invert = *frame.photometric_interpretation() == PhotometricInterpretation::Monochrome1;
    Ok(values
        .iter()
        .map(|&v| {
            let level = (((v - low) / span).clamp(0.0, 1.0) * 255.0).round() as u8;
            if invert { 255 - level } else { level }
        })
        .collect())
}
