//! Label-preserving random changes of a training image, applied per batch: a mirror image
//! (fractures are not left- or right-specific), a small rotation and zoom (views are never
//! exactly aligned) and small exposure changes (X-rays come from different machines, films
//! and phone photos of films).

use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};

use crate::data::decode::{Xray, INPUT_SIZE};

/// Largest relative brightness change (±).
const BRIGHTNESS: f32 = 0.1;
/// Largest relative contrast change (±).
const CONTRAST: f32 = 0.15;
/// Largest rotation (±, degrees).
const ROTATION_DEGREES: f32 = 10.0;
/// Smallest share of the image side a zoomed view keeps (the crop is 85–100 % of the side).
const MIN_CROP: f32 = 0.85;

/// A randomly changed copy of `xray`: mirrored left–right half of the time, rotated by up to
/// ±10° and cropped to 85–100 % of its side (anywhere that fits) and scaled back up, then
/// brightness and contrast changed by up to ±10 % and ±15 %, values kept in [0, 1].
pub fn augment(xray: &Xray, rng: &mut impl Rng) -> Xray {
    let angle = rng.random_range(-ROTATION_DEGREES..=ROTATION_DEGREES).to_radians();
    let crop = rng.random_range(MIN_CROP..=1.0);
    let slack = (1.0 - crop) * INPUT_SIZE as f32 / 2.0;
    let shift = (rng.random_range(-slack..=slack), rng.random_range(-slack..=slack));
    let xray = rotate_and_crop(xray, angle, crop, shift);
    let mirror = rng.random_bool(0.5);
    let brightness = rng.random_range(-BRIGHTNESS..=BRIGHTNESS);
    let contrast = 1.0 + rng.random_range(-CONTRAST..=CONTRAST);
    let mean = xray.pixels.iter().sum::<f32>() / xray.pixels.len().max(1) as f32;
    let mut pixels = Vec::with_capacity(xray.pixels.len());
    for row in xray.pixels.chunks_exact(INPUT_SIZE) {
        let adjust = |v: f32| ((v - mean) * contrast + mean + brightness).clamp(0.0, 1.0);
        if mirror {
            pixels.extend(row.iter().rev().map(|&v| adjust(v)));
        } else {
            pixels.extend(row.iter().map(|&v| adjust(v)));
        }
    }
    Xray { pixels, original_size: xray.original_size }
}

/// Seed of [`test_time_views`]: one image always gets the same views, and so the same answer.
const VIEWS_SEED: u64 = 0x5eed_71e5;

/// `xray` itself and `views - 1` variants of it made by [`augment`] (test-time augmentation: a
/// model's answer averaged over them is steadier than its answer on one view). The variants are
/// drawn the same way for every image and every call, so an upload's answer never changes.
pub fn test_time_views(xray: &Xray, views: usize) -> Vec<Xray> {
    let mut rng = StdRng::seed_from_u64(VIEWS_SEED);
    std::iter::once(xray.clone()).chain((1..views).map(|_| augment(xray, &mut rng))).collect()
}

/// Samples `xray` through a rotation by `angle` (radians) and a zoom to `crop` of the side about
/// the centre moved by `shift` pixels; bilinear, with the border pixels extended outwards.
fn rotate_and_crop(xray: &Xray, angle: f32, crop: f32, shift: (f32, f32)) -> Xray {
    let side = INPUT_SIZE;
    let centre = (side as f32 - 1.0) / 2.0;
    let (sin, cos) = angle.sin_cos();
    let last = (side - 1) as f32;
    let mut pixels = vec![0.0f32; xray.pixels.len()];
    for y in 0..side {
        for x in 0..side {
            let (dx, dy) = ((x as f32 - centre) * crop, (y as f32 - centre) * crop);
            let sx = (centre + shift.0 + cos * dx - sin * dy).clamp(0.0, last);
            let sy = (centre + shift.1 + sin * dx + cos * dy).clamp(0.0, last);
            let (x0, y0) = (sx.floor() as usize, sy.floor() as usize);
            let (x1, y1) = ((x0 + 1).min(side - 1), (y0 + 1).min(side - 1));
            let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
            for (plane_out, plane) in pixels.chunks_exact_mut(side * side).zip(xray.pixels.chunks_exact(side * side)) {
                let at = |r: usize, c: usize| plane[r * side + c];
                let top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx;
                let bottom = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx;
                plane_out[y * side + x] = top * (1.0 - fy) + bottom * fy;
            }
        }
    }
    Xray { pixels, original_size: xray.original_size }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    fn gradient() -> Xray {
        // Brightness grows left to right, so a mirror image is easy to recognise.
        let row: Vec<f32> = (0..INPUT_SIZE).map(|x| x as f32 / (INPUT_SIZE - 1) as f32).collect();
        Xray { pixels: row.repeat(3 * INPUT_SIZE), original_size: (640, 480) }
    }

    #[test]
    fn keeps_shape_and_range_and_sometimes_mirrors() {
        let xray = gradient();
        let mut rng = StdRng::seed_from_u64(1);
        let mut mirrored = 0;
        for _ in 0..20 {
            let out = augment(&xray, &mut rng);
            assert_eq!(out.pixels.len(), xray.pixels.len());
            assert_eq!(out.original_size, xray.original_size);
            assert!(out.pixels.iter().all(|v| (0.0..=1.0).contains(v)));
            assert_ne!(out.pixels, xray.pixels, "every call changes exposure");
            // Left edge brighter than the right edge: mirrored.
            mirrored += (out.pixels[0] > out.pixels[INPUT_SIZE - 1]) as usize;
        }
        assert!((3..=17).contains(&mirrored), "mirrored {mirrored} of 20");
    }

    #[test]
    fn test_time_views_start_with_the_image_and_repeat() {
        let xray = gradient();
        let views = test_time_views(&xray, 8);
        assert_eq!(views.len(), 8);
        assert_eq!(views[0].pixels, xray.pixels, "view 0 is the image itself");
        assert!(views[1..].iter().all(|v| v.pixels != xray.pixels), "the others are changed");
        assert!(views[1].pixels != views[2].pixels, "each variant is drawn afresh");
        let again = test_time_views(&xray, 8);
        assert!(views.iter().zip(&again).all(|(a, b)| a.pixels == b.pixels), "the same views every call");
        assert_eq!(test_time_views(&xray, 1).len(), 1);
        let more = test_time_views(&xray, 12);
        assert!(views.iter().zip(&more).all(|(a, b)| a.pixels == b.pixels), "fewer views are the first of more");
    }

    #[test]
    fn no_rotation_and_a_full_crop_keep_the_image() {
        let xray = gradient();
        let same = rotate_and_crop(&xray, 0.0, 1.0, (0.0, 0.0));
        let worst = same.pixels.iter().zip(&xray.pixels).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "identity resampling moved a value by {worst}");
        // A quarter turn takes the bright right edge of a left-to-right gradient to the top.
        let turned = rotate_and_crop(&xray, std::f32::consts::FRAC_PI_2, 1.0, (0.0, 0.0));
        let column: Vec<f32> = (0..INPUT_SIZE).map(|y| turned.pixels[y * INPUT_SIZE]).collect();
        assert!(column.windows(2).all(|w| w[0] + 1e-5 >= w[1]) && column[0] - column[INPUT_SIZE - 1] > 0.9, "not turned");
        // Zooming in keeps the middle and drops the edges.
        let zoomed = rotate_and_crop(&xray, 0.0, 0.5, (0.0, 0.0));
        assert!(zoomed.pixels[0] > 0.2 && zoomed.pixels[INPUT_SIZE - 1] < 0.8, "not zoomed");
    }
}
