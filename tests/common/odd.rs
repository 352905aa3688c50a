//! Odd image files, generated: the native decode tests and the page's end-to-end tests (which
//! read the copies in `tests/fixtures/odd/`) use the same bytes.
#![allow(dead_code)]

use std::io::Cursor;

use image::codecs::gif::GifEncoder;
use image::{Delay, DynamicImage, Frame, ImageBuffer, ImageFormat, Luma, Rgb, RgbImage, Rgba, RgbaImage};

pub fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).expect("encoding a test image");
    bytes.into_inner()
}

/// CRC-32 (PNG's), to forge a valid chunk.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// 40x30, 16-bit grey: left half white, right half black.
pub fn gray16_png() -> Vec<u8> {
    let image = ImageBuffer::<Luma<u16>, _>::from_fn(40, 30, |x, _| Luma([if x < 20 { 65535 } else { 0 }]));
    encode(&DynamicImage::ImageLuma16(image), ImageFormat::Png)
}

/// One red pixel.
pub fn one_pixel_png() -> Vec<u8> {
    encode(&DynamicImage::ImageRgb8(RgbImage::from_pixel(1, 1, Rgb([255, 0, 0]))), ImageFormat::Png)
}

/// A 1x1 PNG whose header claims 50000x50000 pixels (with a valid CRC).
pub fn huge_header_png() -> Vec<u8> {
    let mut png = encode(&DynamicImage::ImageRgb8(RgbImage::new(1, 1)), ImageFormat::Png);
    // IHDR: 8-byte signature, 4-byte length, "IHDR", width, height, ..., CRC over type and data.
    png[16..20].copy_from_slice(&50_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&50_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// Two 16x16 frames: red, then blue.
pub fn animated_gif() -> Vec<u8> {
    let frame = |colour: [u8; 4]| {
        Frame::from_parts(RgbaImage::from_pixel(16, 16, Rgba(colour)), 0, 0, Delay::from_numer_denom_ms(100, 1))
    };
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        encoder.encode_frames([frame([255, 0, 0, 255]), frame([0, 0, 255, 255])]).expect("two frames");
    }
    bytes
}

/// 64x32, left half white, stored sideways with EXIF orientation 6 ("rotate 90° clockwise to
/// view"): upright it is 32x64 with the white half on top.
pub fn exif_rotated_jpeg() -> Vec<u8> {
    let image = RgbImage::from_fn(64, 32, |x, _| if x < 32 { Rgb([255; 3]) } else { Rgb([0; 3]) });
    let jpeg = encode(&DynamicImage::ImageRgb8(image), ImageFormat::Jpeg);
    // APP1 "Exif": big-endian TIFF header, one IFD entry: Orientation (0x0112), SHORT, 1, value 6.
    let tiff: Vec<u8> =
        [&b"MM\0\x2a\0\0\0\x08"[..], &[0, 1], &[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0], &[0, 0, 0, 0]].concat();
    let payload = [&b"Exif\0\0"[..], &tiff].concat();
    let mut app1 = vec![0xff, 0xe1];
    app1.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    app1.extend_from_slice(&payload);
    [&jpeg[..2], &app1, &jpeg[2..]].concat()
}

/// 48x48 CMYK JPEG (as print workflows and some scanners write): top half white (no ink),
/// bottom half black (full K).
pub fn cmyk_jpeg() -> Vec<u8> {
    let pixels: Vec<u8> = (0..48 * 48).flat_map(|i| if i < 24 * 48 { [0, 0, 0, 0] } else { [0, 0, 0, 255] }).collect();
    let mut bytes = Vec::new();
    jpeg_encoder::Encoder::new(&mut bytes, 90)
        .encode(&pixels, 48, 48, jpeg_encoder::ColorType::Cmyk)
        .expect("encoding a CMYK JPEG");
    bytes
}

/// The first third of a JPEG.
pub fn truncated_jpeg() -> Vec<u8> {
    let jpeg = encode(&DynamicImage::ImageRgb8(RgbImage::from_pixel(64, 64, Rgb([9, 9, 9]))), ImageFormat::Jpeg);
    jpeg[..jpeg.len() / 3].to_vec()
}

/// The start of a PDF.
pub fn pdf() -> Vec<u8> {
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec()
}

/// The page's end-to-end fixtures: file name → bytes.
pub fn page_fixtures() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("gray16.png", gray16_png()),
        ("one-pixel.png", one_pixel_png()),
        ("huge-header.png", huge_header_png()),
        ("animated.gif", animated_gif()),
        ("exif-rotated.jpg", exif_rotated_jpeg()),
        ("cmyk.jpg", cmyk_jpeg()),
        ("truncated.jpg", truncated_jpeg()),
        ("document.pdf", pdf()),
    ]
}
