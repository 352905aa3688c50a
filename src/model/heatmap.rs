//! A class activation map, made drawable: rectified, scaled to 0–255 by its own maximum and
//! resized bilinearly (half-pixel centres) to the model's input size, so it lies exactly over
//! the image the model saw.

use crate::data::INPUT_SIZE;

/// `values` is an `h`×`w` map (row-major); the result is `INPUT_SIZE`² bytes, 0 where the map
/// is at or below zero and 255 at its maximum. An all-negative map gives all zeros.
pub fn heatmap_to_input_size(values: &[f32], h: usize, w: usize) -> Vec<u8> {
    assert_eq!(values.len(), h * w, "an h×w map");
    let max = values.iter().copied().fold(0.0f32, f32::max);
    let scale = if max > 0.0 { 1.0 / max } else { 0.0 };
    let at = |r: usize, c: usize| values[r * w + c].max(0.0) * scale;
    let source = |x: usize, n: usize| ((x as f32 + 0.5) * n as f32 / INPUT_SIZE as f32 - 0.5).clamp(0.0, (n - 1) as f32);
    let mut out = Vec::with_capacity(INPUT_SIZE * INPUT_SIZE);
    for y in 0..INPUT_SIZE {
        let sy = source(y, h);
        let (y0, fy) = (sy.floor() as usize, sy.fract());
        let y1 = (y0 + 1).min(h - 1);
        for x in 0..INPUT_SIZE {
            let sx = source(x, w);
            let (x0, fx) = (sx.floor() as usize, sx.fract());
            let x1 = (x0 + 1).min(w - 1);
            let top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx;
            let bottom = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx;
            out.push(((top * (1.0 - fy) + bottom * fy) * 255.0).round() as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_255_where_the_map_peaks_and_negatives_are_0() {
        // 2x2: strongest bottom-right, negative top-left.
        let out = heatmap_to_input_size(&[-1.0, 0.5, 0.5, 2.0], 2, 2);
        assert_eq!(out.len(), INPUT_SIZE * INPUT_SIZE);
        assert_eq!(out[INPUT_SIZE * INPUT_SIZE - 1], 255);
        assert_eq!(out[0], 0);
        assert!(heatmap_to_input_size(&[-1.0; 4], 2, 2).iter().all(|&v| v == 0));
    }
}
