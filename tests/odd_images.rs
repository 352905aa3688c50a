//! Images as they arrive in the wild: every one either becomes a model input or gives a message
//! naming what is wrong — never a panic, never an unbounded allocation.

use std::io::Cursor;

use bone_fracture::data::{decode_xray, DecodeError, INPUT_SIZE};
use image::codecs::gif::GifEncoder;
use image::{Delay, DynamicImage, Frame, ImageBuffer, ImageFormat, Luma, Rgb, RgbImage, Rgba, RgbaImage};

const PLANE: usize = INPUT_SIZE * INPUT_SIZE;

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
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

#[test]
fn sixteen_bit_grayscale_png_is_read_at_full_range() {
    let image = ImageBuffer::<Luma<u16>, _>::from_fn(40, 30, |x, _| Luma([if x < 20 { 65535 } else { 0 }]));
    let xray = decode_xray(&encode(&DynamicImage::ImageLuma16(image), ImageFormat::Png)).expect("16-bit PNG");
    assert_eq!(xray.original_size, (40, 30));
    assert_eq!(xray.pixels[0], 1.0, "white stays white");
    assert_eq!(xray.pixels[PLANE - 1], 0.0, "black stays black");
    assert_eq!(xray.pixels[0], xray.pixels[PLANE], "grey becomes equal R, G and B");
}

#[test]
fn a_one_pixel_image_fills_the_input() {
    let image = RgbImage::from_pixel(1, 1, Rgb([255, 0, 0]));
    let xray = decode_xray(&encode(&DynamicImage::ImageRgb8(image), ImageFormat::Png)).expect("1x1 PNG");
    assert!(xray.pixels[..PLANE].iter().all(|&v| v == 1.0) && xray.pixels[PLANE..].iter().all(|&v| v == 0.0));
}

#[test]
fn a_header_claiming_50000_by_50000_is_refused_before_decoding() {
    let mut png = encode(&DynamicImage::ImageRgb8(RgbImage::new(1, 1)), ImageFormat::Png);
    // IHDR: 8-byte signature, 4-byte length, "IHDR", width, height, ..., CRC over type and data.
    png[16..20].copy_from_slice(&50_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&50_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    match decode_xray(&png) {
        Err(DecodeError::TooLarge { width: 50_000, height: 50_000 }) => {}
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn an_animated_gif_gives_its_first_frame() {
    let frame = |colour: [u8; 4]| Frame::from_parts(RgbaImage::from_pixel(16, 16, Rgba(colour)), 0, 0, Delay::from_numer_denom_ms(100, 1));
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        encoder.encode_frames([frame([255, 0, 0, 255]), frame([0, 0, 255, 255])]).expect("two frames");
    }
    let xray = decode_xray(&bytes).expect("animated GIF");
    assert!(xray.pixels[0] > 0.9 && xray.pixels[2 * PLANE] < 0.1, "the first (red) frame");
}

#[test]
fn exif_orientation_turns_a_photographed_film_upright() {
    // 64x32, left half white: stored sideways with orientation 6 ("rotate 90° clockwise to view").
    let image = RgbImage::from_fn(64, 32, |x, _| if x < 32 { Rgb([255; 3]) } else { Rgb([0; 3]) });
    let jpeg = encode(&DynamicImage::ImageRgb8(image), ImageFormat::Jpeg);
    // APP1 "Exif": big-endian TIFF header, one IFD entry: Orientation (0x0112), SHORT, 1, value 6.
    let tiff: Vec<u8> = [
        &b"MM\0\x2a\0\0\0\x08"[..],
        &[0, 1],
        &[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0],
        &[0, 0, 0, 0],
    ]
    .concat();
    let payload = [&b"Exif\0\0"[..], &tiff].concat();
    let mut app1 = vec![0xff, 0xe1];
    app1.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    app1.extend_from_slice(&payload);
    let rotated = [&jpeg[..2], &app1, &jpeg[2..]].concat();
    let xray = decode_xray(&rotated).expect("JPEG with EXIF orientation");
    assert_eq!(xray.original_size, (32, 64), "width and height swap");
    let row_mean = |y: usize| (0..INPUT_SIZE).map(|x| xray.pixels[y * INPUT_SIZE + x]).sum::<f32>() / INPUT_SIZE as f32;
    assert!(row_mean(10) > 0.9 && row_mean(245) < 0.1, "the white half is on top: {} / {}", row_mean(10), row_mean(245));
}

#[test]
fn a_pdf_and_a_truncated_jpeg_say_what_they_are() {
    assert!(matches!(decode_xray(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), Err(DecodeError::UnknownFormat(_))));
    let jpeg = encode(&DynamicImage::ImageRgb8(RgbImage::from_pixel(64, 64, Rgb([9, 9, 9]))), ImageFormat::Jpeg);
    let message = match decode_xray(&jpeg[..jpeg.len() / 3]) {
        Err(e) => e.to_string(),
        Ok(_) => String::from("(decoded)"),
    };
    assert!(message.contains("damaged or incomplete"), "a truncated JPEG: {message}");
}
