//! Images as they arrive in the wild: every one either becomes a model input or gives a message
//! naming what is wrong — never a panic, never an unbounded allocation.

mod common;

use bone_fracture::data::{decode_xray, DecodeError, INPUT_SIZE};
use common::odd;

const PLANE: usize = INPUT_SIZE * INPUT_SIZE;

#[test]
fn sixteen_bit_grayscale_png_is_read_at_full_range() {
    let xray = decode_xray(&odd::gray16_png()).expect("16-bit PNG");
    assert_eq!(xray.original_size, (40, 30));
    assert_eq!(xray.pixels[0], 1.0, "white stays white");
    assert_eq!(xray.pixels[PLANE - 1], 0.0, "black stays black");
    assert_eq!(xray.pixels[0], xray.pixels[PLANE], "grey becomes equal R, G and B");
}

#[test]
fn a_one_pixel_image_fills_the_input() {
    let xray = decode_xray(&odd::one_pixel_png()).expect("1x1 PNG");
    assert!(xray.pixels[..PLANE].iter().all(|&v| v == 1.0) && xray.pixels[PLANE..].iter().all(|&v| v == 0.0));
}

#[test]
fn a_header_claiming_50000_by_50000_is_refused_before_decoding() {
    match decode_xray(&odd::huge_header_png()) {
        Err(DecodeError::TooLarge { width: 50_000, height: 50_000 }) => {}
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn an_animated_gif_gives_its_first_frame() {
    let xray = decode_xray(&odd::animated_gif()).expect("animated GIF");
    assert!(xray.pixels[0] > 0.9 && xray.pixels[2 * PLANE] < 0.1, "the first (red) frame");
}

#[test]
fn exif_orientation_turns_a_photographed_film_upright() {
    let xray = decode_xray(&odd::exif_rotated_jpeg()).expect("JPEG with EXIF orientation");
    assert_eq!(xray.original_size, (32, 64), "width and height swap");
    let row_mean = |y: usize| (0..INPUT_SIZE).map(|x| xray.pixels[y * INPUT_SIZE + x]).sum::<f32>() / INPUT_SIZE as f32;
    assert!(row_mean(10) > 0.9 && row_mean(245) < 0.1, "the white half is on top: {} / {}", row_mean(10), row_mean(245));
}

#[test]
fn a_pdf_and_a_truncated_jpeg_say_what_they_are() {
    assert!(matches!(decode_xray(&odd::pdf()), Err(DecodeError::UnknownFormat(_))));
    let message = match decode_xray(&odd::truncated_jpeg()) {
        Err(e) => e.to_string(),
        Ok(_) => String::from("(decoded)"),
    };
    assert!(message.contains("damaged or incomplete"), "a truncated JPEG: {message}");
}

#[test]
fn a_cmyk_jpeg_is_read_as_rgb() {
    let xray = decode_xray(&odd::cmyk_jpeg()).expect("CMYK JPEG");
    assert_eq!(xray.original_size, (48, 48));
    let row_mean = |y: usize| (0..INPUT_SIZE).map(|x| xray.pixels[y * INPUT_SIZE + x]).sum::<f32>() / INPUT_SIZE as f32;
    assert!(
        row_mean(10) > 0.9 && row_mean(245) < 0.1,
        "no ink is white, full black is black: {} / {}",
        row_mean(10),
        row_mean(245)
    );
}

/// `tests/fixtures/odd/` holds these generators' output for the page's end-to-end tests;
/// `UPDATE_FIXTURES=1 cargo test --test odd_images` rewrites it.
#[test]
fn the_page_fixtures_are_the_generators_output() {
    common::check_fixtures("tests/fixtures/odd", odd::page_fixtures());
}
