//! Label-preserving random changes of a training image, applied per batch: a mirror image
//! (fractures are not left- or right-specific) and small exposure changes (X-rays come from
//! different machines, films and phone photos of films).

use rand::{Rng, RngExt};

use crate::data::decode::{Xray, INPUT_SIZE};

/// Largest relative brightness change (±).
const BRIGHTNESS: f32 = 0.1;
/// Largest relative contrast change (±).
const CONTRAST: f32 = 0.15;

/// A randomly changed copy of `xray`: mirrored left–right half of the time, then brightness
/// and contrast changed by up to ±10 % and ±15 %, values kept in [0, 1].
pub fn augment(xray: &Xray, rng: &mut impl Rng) -> Xray {
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
}
