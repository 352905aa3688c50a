//! Bytes of an image file → the 256x256 RGB input the models see.
//!
//! The preprocessing reproduces Keras' `image_dataset_from_directory` defaults: decode to RGB,
//! resize to 256x256 with bilinear interpolation (half-pixel centres, no antialiasing, as
//! `tf.image.resize`), then scale to [0, 1] (the notebook's `Rescaling(1/255)`). The EXIF
//! orientation is applied first so that a photographed film is upright. DICOM files are read by
//! [`crate::data::dicom`] (first frame, windowed as a viewer shows it).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use crate::data::dicom::{decode_dicom, is_dicom};
use crate::data::trim::{trim_bars, Framing};

/// Side length of the square model input, in pixels.
pub const INPUT_SIZE: usize = 256;

/// Largest width or height accepted, in pixels; larger files are refused before decoding.
pub const MAX_SIDE: u32 = 16_384;

/// Most memory the decoder may allocate for one image, in bytes.
pub const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// A preprocessed X-ray: `3 x 256 x 256` values in [0, 1], channel-major (CHW), ready for the
/// models' `[batch, 3, 256, 256]` input.
#[derive(Debug, Clone, PartialEq)]
pub struct Xray {
    /// Pixel values, `[channel][row][column]`, red then green then blue.
    pub pixels: Vec<f32>,
    /// Width and height of the file before resizing.
    pub original_size: (u32, u32),
}

/// Why a file could not be read as an image.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the file is empty")]
    Empty,
    #[error("not an image in a supported format (JPEG, PNG, WebP, BMP, TIFF, GIF, DICOM): {0}")]
    UnknownFormat(String),
    #[error("the image is {width}x{height} pixels; the largest accepted side is {MAX_SIDE} pixels")]
    TooLarge { width: u32, height: u32 },
    #[error("the image has no pixels ({width}x{height})")]
    NoPixels { width: u32, height: u32 },
    #[error("the image data is damaged or incomplete: {0}")]
    Corrupt(String),
    #[error("the DICOM file could not be read: {0}")]
    Dicom(String),
    #[error(
        "the DICOM pixel data is compressed as {0}, which this page cannot decode; \
         export the image as PNG, JPEG or uncompressed DICOM and try again"
    )]
    DicomCompression(String),
}

/// Decodes an image file's bytes and preprocesses it for the models, whole.
pub fn decode_xray(bytes: &[u8]) -> Result<Xray, DecodeError> {
    decode_xray_framed(bytes, Framing::Whole)
}

/// Decodes an image file's bytes and preprocesses it for a model trained with `framing`.
pub fn decode_xray_framed(bytes: &[u8], framing: Framing) -> Result<Xray, DecodeError> {
    let image = decode_upright(bytes)?;
    let original_size = (image.width(), image.height());
    if original_size.0 == 0 || original_size.1 == 0 {
        return Err(DecodeError::NoPixels { width: original_size.0, height: original_size.1 });
    }
    let rgb = match framing {
        Framing::Whole => image.to_rgb8(),
        Framing::TrimBars => trim_bars(image.to_rgb8()),
    };
    Ok(Xray { pixels: resize_bilinear_chw(&rgb, INPUT_SIZE), original_size })
}

/// Decodes with size limits and applies the EXIF orientation.
fn decode_upright(bytes: &[u8]) -> Result<DynamicImage, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if is_dicom(bytes) {
        return decode_dicom(bytes);
    }
    let mut reader =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    if reader.format().is_none() {
        return Err(DecodeError::UnknownFormat("the file's first bytes match no image format".into()));
    }
    // On 32-bit wasm the PNG decoder refuses a huge header while reading it ("memory limit
    // exceeded"); name the size instead. Elsewhere the check below does it.
    if let Some((width, height)) = png_dimensions(bytes) {
        if width > MAX_SIDE || height > MAX_SIDE {
            return Err(DecodeError::TooLarge { width, height });
        }
    }
    reader.no_limits();
    let mut decoder = reader.into_decoder().map_err(classify_image_error)?;
    let (width, height) = decoder.dimensions();
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(DecodeError::TooLarge { width, height });
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    decoder.set_limits(limits).map_err(classify_image_error)?;
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(classify_image_error)?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok(image)
}

/// Width and height from a PNG's IHDR chunk, without decoding anything.
fn png_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() < 24 || &bytes[..8] != SIGNATURE || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let be = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    Some((be(16), be(20)))
}

fn classify_image_error(error: image::ImageError) -> DecodeError {
    match error {
        image::ImageError::Unsupported(e) => DecodeError::UnknownFormat(e.to_string()),
        image::ImageError::Limits(e) => DecodeError::Corrupt(format!("over the decoding limits: {e}")),
        other => DecodeError::Corrupt(other.to_string()),
    }
}

/// Bilinear resize to `size x size` with half-pixel centres and no antialiasing (the
/// behaviour of `tf.image.resize(method="bilinear")`), scaled to [0, 1], in CHW order.
fn resize_bilinear_chw(rgb: &image::RgbImage, size: usize) -> Vec<f32> {
    let (width, height) = (rgb.width() as usize, rgb.height() as usize);
    let raw = rgb.as_raw();
    let taps = |in_len: usize| -> Vec<(usize, usize, f32)> {
        let scale = in_len as f32 / size as f32;
        (0..size)
            .map(|out| {
                let centre = ((out as f32 + 0.5) * scale - 0.5).max(0.0);
                let low = (centre.floor() as usize).min(in_len - 1);
                let high = (low + 1).min(in_len - 1);
                (low, high, centre - low as f32)
            })
            .collect()
    };
    let (rows, cols) = (taps(height), taps(width));
    let plane = size * size;
    let mut out = vec![0.0f32; 3 * plane];
    for (y, &(y0, y1, wy)) in rows.iter().enumerate() {
        for (x, &(x0, x1, wx)) in cols.iter().enumerate() {
            for c in 0..3 {
                let at = |yy: usize, xx: usize| raw[(yy * width + xx) * 3 + c] as f32;
                let top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * wx;
                let bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * wx;
                out[c * plane + y * size + x] = (top + (bottom - top) * wy) / 255.0;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgb, RgbImage};

    fn encode(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).expect("encoding a test image");
        bytes.into_inner()
    }

    #[test]
    fn known_image_gives_known_values() {
        // 2x2 image: red, green / blue, white. Upscaled to 256, the corners keep their colours
        // and the centre is the mean of the four pixels.
        let mut image = RgbImage::new(2, 2);
        image.put_pixel(0, 0, Rgb([255, 0, 0]));
        image.put_pixel(1, 0, Rgb([0, 255, 0]));
        image.put_pixel(0, 1, Rgb([0, 0, 255]));
        image.put_pixel(1, 1, Rgb([255, 255, 255]));
        let xray = decode_xray(&encode(&image, ImageFormat::Png)).unwrap();
        let plane = INPUT_SIZE * INPUT_SIZE;
        assert_eq!(xray.pixels.len(), 3 * plane);
        assert_eq!(xray.original_size, (2, 2));
        let px = |c: usize, y: usize, x: usize| xray.pixels[c * plane + y * INPUT_SIZE + x];
        assert_eq!([px(0, 0, 0), px(1, 0, 0), px(2, 0, 0)], [1.0, 0.0, 0.0]);
        assert_eq!([px(0, 255, 255), px(1, 255, 255), px(2, 255, 255)], [1.0, 1.0, 1.0]);
        // Output pixel 128 has its centre at input coordinate 128.5 * 2/256 - 0.5 = 0.50390625.
        let w = 0.50390625f32;
        let red = (1.0 - w) * (1.0 - w) + w * w; // red at (0,0) and (1,1)
        assert!((px(0, 128, 128) - red).abs() < 1e-6, "{}", px(0, 128, 128));
        // Downscaling a constant image keeps the constant.
        let grey = RgbImage::from_pixel(640, 480, Rgb([51, 102, 204]));
        let xray = decode_xray(&encode(&grey, ImageFormat::Jpeg)).unwrap();
        assert!((xray.pixels[0] - 0.2).abs() < 0.01 && (xray.pixels[2 * plane] - 0.8).abs() < 0.01);
    }

    #[test]
    fn bad_bytes_give_messages() {
        assert!(matches!(decode_xray(&[]), Err(DecodeError::Empty)));
        assert!(matches!(decode_xray(b"hello, not an image"), Err(DecodeError::UnknownFormat(_))));
        let png = encode(&RgbImage::new(8, 8), ImageFormat::Png);
        assert!(matches!(decode_xray(&png[..png.len() / 2]), Err(DecodeError::Corrupt(_))));
    }
}
