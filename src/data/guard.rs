//! "Does this look like an X-ray?": X-rays are grey, photos of cats and coffee are not. The
//! page warns (and still classifies) when an image is more colourful than nearly every
//! training image.

use crate::data::decode::{Xray, INPUT_SIZE};

/// Mean over pixels of max(R, G, B) − min(R, G, B), in [0, 1]: 0 for a grey image.
pub fn colourfulness(xray: &Xray) -> f32 {
    let plane = INPUT_SIZE * INPUT_SIZE;
    let (r, rest) = xray.pixels.split_at(plane);
    let (g, b) = rest.split_at(plane);
    let total: f64 = (0..plane).map(|i| (r[i].max(g[i]).max(b[i]) - r[i].min(g[i]).min(b[i])) as f64).sum();
    (total / plane as f64) as f32
}

/// Above this, an image is more colourful than 98.4 % of the 992 training X-rays (measured on
/// `../shared/data/bone-break` at the model's input size; the median is 0.00, the 90th
/// percentile 0.025; the colourful ones carry coloured annotations).
pub const COLOURFUL: f32 = 0.15;

/// A warning for the visitor when `xray` does not look like the training X-rays.
pub fn unlike_an_xray(xray: &Xray) -> Option<String> {
    let score = colourfulness(xray);
    (score > COLOURFUL).then(|| {
        format!(
            "This does not look like an X-ray: it is in colour (colourfulness {score:.2}; 98 % of the training X-rays \
             are below {COLOURFUL}). The network only knows X-rays, so the answer below is unlikely to mean anything."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(rgb: [f32; 3]) -> Xray {
        let plane = INPUT_SIZE * INPUT_SIZE;
        Xray { pixels: rgb.iter().flat_map(|&v| std::iter::repeat_n(v, plane)).collect(), original_size: (1, 1) }
    }

    #[test]
    fn grey_is_an_x_ray_and_a_saturated_colour_is_not() {
        assert_eq!(colourfulness(&filled([0.4, 0.4, 0.4])), 0.0);
        assert!(unlike_an_xray(&filled([0.4, 0.4, 0.4])).is_none());
        assert!((colourfulness(&filled([0.9, 0.5, 0.1])) - 0.8).abs() < 1e-6);
        assert!(unlike_an_xray(&filled([0.9, 0.5, 0.1])).expect("a warning").contains("in colour"));
    }
}
