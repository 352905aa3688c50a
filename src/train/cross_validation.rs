//! Cross-validation results: what each held-out fold scored, before and after temperature
//! scaling, and their mean ± standard deviation. `fracture cv` fills them in; `model.json`
//! keeps the summary of the recipe its weights were trained with.

use serde::{Deserialize, Serialize};

use super::calibration::{apply_all, expected_calibration_error, Calibration};
use super::Evaluation;
use crate::NUM_CLASSES;

/// One fold: the model trained on the other folds, scored on this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldResult {
    /// 1-based.
    pub fold: usize,
    pub train_images: usize,
    /// Images of the training folds held back to pick the epoch and fit the temperature.
    pub inner_valid_images: usize,
    pub test_images: usize,
    pub best_epoch: usize,
    /// Fitted on the inner validation images, never on the fold.
    pub calibration: Calibration,
    /// The fold's scores with the raw softmax.
    pub raw: Evaluation,
    pub raw_ece: f64,
    /// Mean cross-entropy and ECE on the fold after temperature scaling (top-1, top-3 and F1
    /// do not change).
    pub calibrated_loss: f64,
    pub calibrated_ece: f64,
    /// The fold scored again with each image's probabilities averaged over its cached views
    /// (the image and its augmented variants): a measure of test-time augmentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub averaged_views: Option<AveragedViews>,
}

/// A fold's scores with test-time augmentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AveragedViews {
    pub views: usize,
    pub raw: Evaluation,
}

impl FoldResult {
    /// Scores `test` (probability rows and labels) with and without `calibration`.
    pub fn score(
        fold: usize,
        sizes: (usize, usize),
        best_epoch: usize,
        calibration: Calibration,
        test: &[[f32; NUM_CLASSES]],
        labels: &[usize],
    ) -> Self {
        let calibrated = apply_all(test, calibration.temperature);
        FoldResult {
            fold,
            train_images: sizes.0,
            inner_valid_images: sizes.1,
            test_images: labels.len(),
            best_epoch,
            raw: Evaluation::from_probabilities(test, labels),
            raw_ece: expected_calibration_error(test, labels),
            calibrated_loss: Evaluation::from_probabilities(&calibrated, labels).loss,
            calibrated_ece: expected_calibration_error(&calibrated, labels),
            calibration,
            averaged_views: None,
        }
    }
}

/// What a fold's model answered for one image (a line of `fold-N/predictions.jsonl`), so that
/// models can be compared and combined afterwards without retraining them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub part: PredictionPart,
    /// `class-folder/file-name`.
    pub file: String,
    /// The true class's index.
    pub label: usize,
    /// The raw softmax.
    pub probabilities: [f32; NUM_CLASSES],
    /// The softmax averaged over the image's cached views, when there are several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub averaged_views: Option<[f32; NUM_CLASSES]>,
}

/// Which images of a fold a prediction is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PredictionPart {
    /// The training folds' held-back tenth, which picks the epoch and fits the temperature.
    InnerValid,
    /// The fold being scored.
    Test,
}

/// Mean and (sample) standard deviation over folds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanSd {
    pub mean: f64,
    pub sd: f64,
}

impl MeanSd {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let values: Vec<f64> = values.into_iter().collect();
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        MeanSd { mean, sd: var.sqrt() }
    }
}

impl std::fmt::Display for MeanSd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3} ± {:.3}", self.mean, self.sd)
    }
}

/// A recipe's cross-validation: its folds and their summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    /// What was cross-validated (model and training flags), in words.
    pub recipe: String,
    pub folds: usize,
    /// The seed the folds were drawn with (runs with the same one share their folds).
    pub seed: u64,
    /// Each answer the mean over this many test-time views, the page's fixed ones
    /// ([`crate::train::predict_views`], `fracture combine --views`); absent: the image alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<usize>,
    pub top1: MeanSd,
    pub top3: MeanSd,
    pub macro_f1: MeanSd,
    pub loss: MeanSd,
    pub ece: MeanSd,
    pub calibrated_loss: MeanSd,
    pub calibrated_ece: MeanSd,
    pub temperature: MeanSd,
    /// Every fold's details.
    pub results: Vec<FoldResult>,
}

impl CrossValidation {
    pub fn summarise(recipe: &str, folds: usize, seed: u64, results: Vec<FoldResult>) -> Self {
        let of = |f: fn(&FoldResult) -> f64| MeanSd::of(results.iter().map(f));
        CrossValidation {
            recipe: recipe.into(),
            folds,
            seed,
            views: None,
            top1: of(|r| r.raw.accuracy),
            top3: of(|r| r.raw.top3_accuracy),
            macro_f1: of(|r| r.raw.macro_f1),
            loss: of(|r| r.raw.loss),
            ece: of(|r| r.raw_ece),
            calibrated_loss: of(|r| r.calibrated_loss),
            calibrated_ece: of(|r| r.calibrated_ece),
            temperature: of(|r| r.calibration.temperature),
            results,
        }
    }
}
