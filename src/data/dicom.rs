//! DICOM files (`.dcm`) → a display-ready greyscale or RGB image, with the pure-Rust dicom-rs
//! crates: uncompressed, RLE and JPEG (baseline, extended, lossless) pixel data.
//!
//! Only the first frame is read. The modality LUT (rescale slope and intercept) and the first
//! VOI window are applied as a viewer would, so the model sees what a radiologist sees on screen;
//! without a window the values are stretched to the full range. `MONOCHROME1` images (where
//! the lowest value is white) are inverted so that bone is bright, as in the training images.

use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_pixeldata::{
    ConvertOptions, DecodedPixelData, PhotometricInterpretation, PixelDecoder, PlanarConfiguration, VoiLutOption,
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
    let (preamble, after_magic) =
        if bytes.starts_with(b"DICM") { (ReadPreamble::Never, &bytes[4..]) } else { (ReadPreamble::Always, &bytes[132..]) };
    check_declared_lengths(after_magic)?;
    let object = OpenFileOptions::new().read_preamble(preamble).from_reader(bytes).map_err(dicom_error)?;
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
    check_jpeg_frame(&object, columns, rows)?;
    let frame = object.decode_pixel_data_frame(0).map_err(dicom_error)?;
    to_image(&frame)
}

/// Most pixels read from one DICOM frame (a 43x35 cm detector at 0.1 mm is 4300x3500, 15
/// million): the frame is converted through 32-bit floats, so this bounds that copy to 160 MB.
const MAX_DICOM_PIXELS: u64 = 40_000_000;

/// The JPEG transfer syntaxes decoded here (baseline, extended, lossless).
const JPEG_SYNTAXES: [&str; 4] =
    ["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"];

/// The JPEG decoder decodes by the JPEG's own header, and its output is copied into a buffer
/// sized by the file's Rows, Columns, Samples per Pixel and Bits Allocated (a mismatch panics,
/// and a panic in WebAssembly ends the worker): refuse a JPEG that does not match them.
fn check_jpeg_frame(object: &DefaultDicomObject, columns: u32, rows: u32) -> Result<(), DecodeError> {
    if !JPEG_SYNTAXES.contains(&object.meta().transfer_syntax()) {
        return Ok(());
    }
    let expected = JpegFrame {
        width: columns,
        height: rows,
        components: read_u32(object, tags::SAMPLES_PER_PIXEL)?,
        bytes_per_sample: read_u32(object, tags::BITS_ALLOCATED)?.div_ceil(8),
    };
    let value = object.element(tags::PIXEL_DATA).map_err(dicom_error)?.value();
    let (Some(fragments), Some(offsets)) = (value.fragments(), value.offset_table()) else {
        return Err(DecodeError::Dicom("JPEG pixel data without fragments".into()));
    };
    let frames = match object.element(tags::NUMBER_OF_FRAMES) {
        Ok(element) => element.to_int::<u32>().unwrap_or(1),
        Err(_) => 1,
    };
    match jpeg_frame(&first_frame_bytes(fragments, offsets, frames)) {
        Some(found) if found == expected => Ok(()),
        Some(found) => Err(DecodeError::Dicom(format!(
            "the JPEG inside is {}x{} pixels with {} component(s) of {} byte(s), but the file says {}x{} with {} of {}",
            found.width,
            found.height,
            found.components,
            found.bytes_per_sample,
            expected.width,
            expected.height,
            expected.components,
            expected.bytes_per_sample
        ))),
        None => Err(DecodeError::Dicom("the JPEG pixel data has no frame header".into())),
    }
}

/// The bytes the JPEG decoder is given for frame 0, gathered as dicom-rs's JPEG adapter does:
/// the one fragment when there is one per frame, else the fragments from the first offset in
/// the basic offset table up to the second.
fn first_frame_bytes(fragments: &[Vec<u8>], offsets: &[u32], frames: u32) -> Vec<u8> {
    if fragments.len() == 1 || fragments.len() == frames as usize {
        return fragments[0].clone();
    }
    let start = offsets.first().copied().unwrap_or(0) as usize;
    let next = offsets.get(1).map(|&o| o as usize);
    let (mut offset, mut bytes) = (0usize, Vec::new());
    for fragment in fragments {
        if offset >= start {
            bytes.extend_from_slice(fragment);
        }
        offset += fragment.len() + 8;
        if next.is_some_and(|next| offset >= next) {
            break;
        }
    }
    bytes
}

#[derive(Debug, PartialEq)]
struct JpegFrame {
    width: u32,
    height: u32,
    components: u32,
    bytes_per_sample: u32,
}

/// The first JPEG's start-of-frame segment: size, components, and sample precision (decoded
/// to one byte up to 8 bits, two above).
fn jpeg_frame(jpeg: &[u8]) -> Option<JpegFrame> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut pos = 2;
    while pos + 10 <= jpeg.len() {
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
            return Some(JpegFrame {
                height: u16::from_be_bytes([jpeg[pos + 5], jpeg[pos + 6]]) as u32,
                width: u16::from_be_bytes([jpeg[pos + 7], jpeg[pos + 8]]) as u32,
                components: jpeg[pos + 9] as u32,
                bytes_per_sample: if jpeg[pos + 4] > 8 { 2 } else { 1 },
            });
        }
        pos += 2 + length;
    }
    None
}

/// Names the compression when its decoder is not built in (JPEG 2000, JPEG-LS, JPEG XL…), so
/// the visitor knows what to convert from.
fn check_transfer_syntax(object: &DefaultDicomObject) -> Result<(), DecodeError> {
    // The meta table's getter has already trimmed the padding.
    let uid = object.meta().transfer_syntax();
    match TransferSyntaxRegistry.get(uid) {
        None => Err(DecodeError::DicomCompression(format!("an unknown transfer syntax ({uid})"))),
        Some(syntax) if !syntax.can_decode_all() => Err(DecodeError::DicomCompression(format!("{} ({uid})", syntax.name()))),
        Some(_) => Ok(()),
    }
}

fn dicom_error(error: impl std::fmt::Display) -> DecodeError {
    DecodeError::Dicom(error.to_string())
}

fn read_u32(object: &DefaultDicomObject, tag: dicom_object::Tag) -> Result<u32, DecodeError> {
    let element = object.element(tag).map_err(dicom_error)?;
    element.to_int::<u32>().map_err(|e| DecodeError::Dicom(format!("{tag}: {e}")))
}

fn to_image(frame: &DecodedPixelData<'_>) -> Result<DynamicImage, DecodeError> {
    let (width, height) = (frame.columns(), frame.rows());
    let unsupported = |what: String| Err(DecodeError::Dicom(format!("unsupported pixel data: {what}")));
    let short = || DecodeError::Dicom("the pixel data is shorter than its rows and columns".into());
    if !matches!(frame.bits_allocated(), 8 | 16) {
        return unsupported(format!("{} bits allocated per sample (8 or 16 are read)", frame.bits_allocated()));
    }
    if frame.bits_stored() == 0 || frame.bits_stored() > frame.bits_allocated() {
        return unsupported(format!("{} bits stored in {} allocated", frame.bits_stored(), frame.bits_allocated()));
    }
    match (frame.photometric_interpretation(), frame.samples_per_pixel()) {
        (PhotometricInterpretation::Monochrome1 | PhotometricInterpretation::Monochrome2, 1) => {
            GrayImage::from_raw(width, height, to_grey(frame)?).map(DynamicImage::ImageLuma8).ok_or_else(short)
        }
        (PhotometricInterpretation::Rgb, 3) if frame.bits_allocated() == 8 => {
            if frame.planar_configuration() != PlanarConfiguration::Standard {
                return unsupported("colour planes stored one after the other".into());
            }
            let rgb = frame.frame_data(0).map_err(dicom_error)?.to_vec();
            RgbImage::from_raw(width, height, rgb).map(DynamicImage::ImageRgb8).ok_or_else(short)
        }
        (other, samples) => unsupported(format!("{other} with {samples} sample(s) per pixel")),
    }
}

/// Rescale, then the first VOI window (or min-max when there is none), then 0..=255, with
/// `MONOCHROME1` inverted.
fn to_grey(frame: &DecodedPixelData<'_>) -> Result<Vec<u8>, DecodeError> {
    let options = ConvertOptions::new().with_voi_lut(VoiLutOption::First);
    let values: Vec<f32> = frame.to_vec_frame_with_options(0, &options).map_err(dicom_error)?;
    let has_window = frame.window().ok().flatten().is_some_and(|windows| !windows.is_empty());
    let (low, high) = if has_window {
        // dicom-pixeldata maps a window to 0..=2^n - 1: n is 8 for 8-bit samples, else the power
        // of two at or above Bits Stored.
        let bits = if frame.bits_allocated() == 8 { 8 } else { (frame.bits_stored() as u32).next_power_of_two() };
        (0.0, ((1u64 << bits) - 1) as f32)
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
            if invert {
                255 - level
            } else {
                level
            }
        })
        .collect())
}
