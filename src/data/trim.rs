//! Trimming the flat bars many of the dataset's X-rays carry (black or white padding added to
//! make them square, scanner borders): rows and columns at the edges that are all one level are
//! cut before resizing, so the X-ray itself fills the model's input.

use image::RgbImage;
use serde::{Deserialize, Serialize};

/// How a decoded image is framed before it is resized; a model's card records the one it was
/// trained with, and every path that feeds that model (CLI, page, fine-tuning) applies it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// The whole image (the reference notebook's preprocessing).
    #[default]
    Whole,
    /// Flat bars at the edges trimmed first ([`content_box`]).
    TrimBars,
}

/// A line is flat when all but this share of its pixels lie within [`FLAT_RANGE`] grey levels.
const OUTLIERS: f32 = 0.02;
/// Grey levels (0–255) a flat line may span, JPEG ringing and noise included.
const FLAT_RANGE: u8 = 24;
/// Never cut more than this share of a side in total: a blank or nearly blank image stays whole.
const MAX_CUT: f32 = 0.6;

/// The part of `image` left after trimming flat bars: `(left, top, width, height)`.
pub fn content_box(image: &RgbImage) -> (u32, u32, u32, u32) {
    let (width, height) = image.dimensions();
    if width < 8 || height < 8 {
        return (0, 0, width, height);
    }
    let grey = |x: u32, y: u32| {
        let [r, g, b] = image.get_pixel(x, y).0;
        ((r as u16 + g as u16 + b as u16) / 3) as u8
    };
    let row_flat = |y: u32, from: u32, to: u32| is_flat((from..to).map(|x| grey(x, y)));
    let column_flat = |x: u32, from: u32, to: u32| is_flat((from..to).map(|y| grey(x, y)));

    let max_cut_x = (width as f32 * MAX_CUT) as u32;
    let max_cut_y = (height as f32 * MAX_CUT) as u32;
    let (mut left, mut right, mut top, mut bottom) = (0, width, 0, height);
    // Peel one flat line at a time from any edge, judging each line over what is left of the
    // others, so that a white bar on top does not hide black bars at the sides.
    loop {
        let can_cut_x = left + (width - right) < max_cut_x;
        let can_cut_y = top + (height - bottom) < max_cut_y;
        if can_cut_x && column_flat(left, top, bottom) {
            left += 1;
        } else if can_cut_x && column_flat(right - 1, top, bottom) {
            right -= 1;
        } else if can_cut_y && row_flat(top, left, right) {
            top += 1;
        } else if can_cut_y && row_flat(bottom - 1, left, right) {
            bottom -= 1;
        } else {
            break;
        }
    }
    (left, top, right - left, bottom - top)
}

/// The image with its flat bars cut off (a copy; the image itself when there are none).
pub fn trim_bars(image: RgbImage) -> RgbImage {
    let (left, top, width, height) = content_box(&image);
    if (width, height) == image.dimensions() {
        return image;
    }
    image::imageops::crop_imm(&image, left, top, width, height).to_image()
}

/// Whether all but [`OUTLIERS`] of `levels` fall within [`FLAT_RANGE`] of each other.
fn is_flat(levels: impl Iterator<Item = u8>) -> bool {
    let mut histogram = [0u32; 256];
    let mut n = 0u32;
    for level in levels {
        histogram[level as usize] += 1;
        n += 1;
    }
    let skip = (n as f32 * OUTLIERS / 2.0) as u32;
    let percentile = |from_top: bool| {
        let mut seen = 0;
        let order: Box<dyn Iterator<Item = usize>> = if from_top { Box::new((0..256).rev()) } else { Box::new(0..256) };
        for level in order {
            seen += histogram[level];
            if seen > skip {
                return level as i32;
            }
        }
        0
    };
    percentile(true) - percentile(false) <= FLAT_RANGE as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// A textured "X-ray" of `w x h` inside black bars (left, right) and a white bar (top).
    fn padded(w: u32, h: u32, bars: (u32, u32, u32)) -> RgbImage {
        let (side, top, noise_seed) = bars;
        RgbImage::from_fn(w + 2 * side, h + top, |x, y| {
            if y < top {
                return Rgb([250, 250, 250]);
            }
            if x < side || x >= side + w {
                // JPEG-like ringing in the bar: a few levels of noise.
                return Rgb([((x * 7 + y * 3 + noise_seed) % 9) as u8; 3]);
            }
            let v = ((x - side) * 255 / w) as u8 ^ (((y - top) * 37) % 200) as u8;
            Rgb([v, v, v])
        })
    }

    #[test]
    fn bars_are_cut_and_content_is_kept() {
        let image = padded(200, 150, (60, 30, 1));
        assert_eq!(content_box(&image), (60, 30, 200, 150));
        let trimmed = trim_bars(image);
        assert_eq!(trimmed.dimensions(), (200, 150));
    }

    #[test]
    fn a_trimming_model_sees_a_padded_file_as_the_unpadded_one() {
        use crate::data::decode::{decode_xray, decode_xray_framed};
        let png = |image: &RgbImage| {
            let mut bytes = std::io::Cursor::new(Vec::new());
            image.write_to(&mut bytes, image::ImageFormat::Png).expect("PNG");
            bytes.into_inner()
        };
        let padded = padded(200, 150, (60, 30, 1));
        let content = image::imageops::crop_imm(&padded, 60, 30, 200, 150).to_image();
        let trimmed = decode_xray_framed(&png(&padded), Framing::TrimBars).unwrap();
        assert_eq!(trimmed.pixels, decode_xray(&png(&content)).unwrap().pixels);
        assert_eq!(trimmed.original_size, (320, 180), "the file's own size is still reported");
        assert_ne!(decode_xray(&png(&padded)).unwrap().pixels, trimmed.pixels, "whole framing keeps the bars");
    }

    #[test]
    fn images_without_bars_and_blank_images_stay_whole() {
        let image = padded(200, 150, (0, 0, 0));
        assert_eq!(content_box(&image), (0, 0, 200, 150));
        let blank = RgbImage::from_pixel(100, 80, Rgb([0, 0, 0]));
        let (_, _, w, h) = content_box(&blank);
        assert!(w >= 40 && h >= 32, "at most {MAX_CUT} of a side is cut: {w}x{h}");
        let tiny = RgbImage::from_pixel(3, 3, Rgb([9, 9, 9]));
        assert_eq!(content_box(&tiny), (0, 0, 3, 3));
    }
}
