//! Temperature scaling (Guo et al. 2017): one number T, fitted on validation data, that divides
//! the logits so that the softmax's confidence matches how often the model is right. It never
//! changes which class ranks first. Plain arithmetic on probability rows, no tensors.

use serde::{Deserialize, Serialize};

use crate::NUM_CLASSES;

/// Bins of the expected calibration error (equal-width in confidence).
pub const ECE_BINS: usize = 15;
/// Probabilities below this are clipped before the logarithm (as in [`super::Evaluation`]).
const PROB_FLOOR: f64 = 1e-7;

/// A fitted temperature and what it did on the data it was fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Logits are divided by this before the softmax (1 = unchanged).
    pub temperature: f64,
    /// Images it was fitted on.
    pub fitted_on: usize,
    pub nll_before: f64,
    pub nll_after: f64,
    pub ece_before: f64,
    pub ece_after: f64,
}

impl Calibration {
    /// Fits the temperature that minimises the negative log-likelihood of `labels` under
    /// `probabilities` (softmax outputs; their logarithms are the logits up to a constant per
    /// row, which the softmax ignores). Golden-section search over log T in [1/20, 20].
    pub fn fit(probabilities: &[[f32; NUM_CLASSES]], labels: &[usize]) -> Self {
        let nll = |t: f64| mean_nll(&apply_all(probabilities, t), labels);
        let (mut lo, mut hi) = ((1.0f64 / 20.0).ln(), 20.0f64.ln());
        let ratio = (5.0f64.sqrt() - 1.0) / 2.0;
        for _ in 0..60 {
            let a = hi - ratio * (hi - lo);
            let b = lo + ratio * (hi - lo);
            if nll(a.exp()) <= nll(b.exp()) {
                hi = b
            } else {
                lo = a
            }
        }
        let temperature = ((lo + hi) / 2.0).exp();
        let after = apply_all(probabilities, temperature);
        Calibration {
            temperature,
            fitted_on: labels.len(),
            nll_before: mean_nll(probabilities, labels),
            nll_after: mean_nll(&after, labels),
            ece_before: expected_calibration_error(probabilities, labels),
            ece_after: expected_calibration_error(&after, labels),
        }
    }
}

/// `row` with its logits divided by `temperature`: softmax(ln p / T).
pub fn apply_temperature(row: &[f32; NUM_CLASSES], temperature: f64) -> [f32; NUM_CLASSES] {
    let logits: Vec<f64> = row.iter().map(|&p| (p as f64).max(1e-30).ln() / temperature).collect();
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    let mut out = [0.0f32; NUM_CLASSES];
    for (o, e) in out.iter_mut().zip(exp) {
        *o = (e / sum) as f32;
    }
    out
}

/// Every row with [`apply_temperature`].
pub fn apply_all(rows: &[[f32; NUM_CLASSES]], temperature: f64) -> Vec<[f32; NUM_CLASSES]> {
    rows.iter().map(|row| apply_temperature(row, temperature)).collect()
}

/// Mean negative log-likelihood of the labels.
pub fn mean_nll(rows: &[[f32; NUM_CLASSES]], labels: &[usize]) -> f64 {
    let total: f64 = rows.iter().zip(labels).map(|(row, &l)| -(row[l] as f64).max(PROB_FLOOR).ln()).sum();
    total / labels.len().max(1) as f64
}

/// Expected calibration error: the images are binned by top-1 confidence into [`ECE_BINS`]
/// equal-width bins; the gap between mean confidence and accuracy in each bin, weighted by
/// the bin's share of the images.
pub fn expected_calibration_error(rows: &[[f32; NUM_CLASSES]], labels: &[usize]) -> f64 {
    let mut bins = [(0usize, 0.0f64, 0usize); ECE_BINS]; // (count, confidence sum, correct)
    for (row, &label) in rows.iter().zip(labels) {
        let (top, confidence) =
            row.iter().enumerate().fold((0, f32::MIN), |best, (i, &p)| if p > best.1 { (i, p) } else { best });
        let bin = ((confidence as f64 * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        bins[bin].0 += 1;
        bins[bin].1 += confidence as f64;
        bins[bin].2 += (top == label) as usize;
    }
    let n = labels.len().max(1) as f64;
    bins.iter().filter(|b| b.0 > 0).map(|&(_, confidence, correct)| (confidence - correct as f64).abs() / n).sum()
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    use super::*;

    /// Labels drawn from softmax(z), reported as softmax(3 z): a model three times too sure.
    fn overconfident(n: usize, seed: u64) -> (Vec<[f32; NUM_CLASSES]>, Vec<usize>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (mut rows, mut labels) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let mut honest = [0.0f32; NUM_CLASSES];
            for v in honest.iter_mut() {
                *v = rng.random_range(0.0f32..1.0).powi(2) * 4.0;
            }
            let honest = softmax_of(&honest);
            let u: f32 = rng.random_range(0.0..1.0);
            let mut acc = 0.0;
            let label = honest
                .iter()
                .position(|&p| {
                    acc += p;
                    u < acc
                })
                .unwrap_or(NUM_CLASSES - 1);
            rows.push(apply_temperature(&honest, 1.0 / 3.0));
            labels.push(label);
        }
        (rows, labels)
    }

    fn softmax_of(logits: &[f32; NUM_CLASSES]) -> [f32; NUM_CLASSES] {
        let exp: Vec<f32> = logits.iter().map(|l| l.exp()).collect();
        let sum: f32 = exp.iter().sum();
        let mut out = [0.0; NUM_CLASSES];
        out.iter_mut().zip(exp).for_each(|(o, e)| *o = e / sum);
        out
    }

    #[test]
    fn temperature_undoes_overconfidence() {
        let (rows, labels) = overconfident(4000, 7);
        let calibration = Calibration::fit(&rows, &labels);
        assert!((calibration.temperature - 3.0).abs() < 0.3, "T = {}", calibration.temperature);
        assert!(calibration.nll_after < calibration.nll_before - 0.05, "{calibration:?}");
        assert!(calibration.ece_after < calibration.ece_before / 2.0, "{calibration:?}");
        // On fresh data from the same model the fitted T helps too.
        let (rows, labels) = overconfident(4000, 8);
        let after = apply_all(&rows, calibration.temperature);
        assert!(mean_nll(&after, &labels) < mean_nll(&rows, &labels) - 0.05);
    }

    #[test]
    fn temperature_keeps_the_ranking_and_sums_to_one() {
        let row = [0.5, 0.2, 0.1, 0.05, 0.05, 0.04, 0.03, 0.02, 0.005, 0.005];
        for t in [0.5, 1.0, 2.5] {
            let out = apply_temperature(&row, t);
            assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            assert!(out.windows(2).all(|w| w[0] >= w[1]), "T = {t}: {out:?}");
        }
        assert!(apply_temperature(&row, 2.5)[0] < 0.5 && apply_temperature(&row, 0.5)[0] > 0.5);
    }

    #[test]
    fn ece_of_a_perfectly_calibrated_bin_is_zero_and_of_a_wrong_sure_model_is_one() {
        let mut sure = [0.0f32; NUM_CLASSES];
        sure[0] = 1.0;
        assert!(expected_calibration_error(&[sure; 4], &[0; 4]) < 1e-6);
        assert!((expected_calibration_error(&[sure; 4], &[1; 4]) - 1.0).abs() < 1e-6);
    }
}
