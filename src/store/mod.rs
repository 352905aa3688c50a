//! Weights and `model.json` in and out, as bytes, so the command line and the browser share
//! one format: a burn-store `.bpk` file (f16 weights, batch-norm statistics in f32) and a
//! JSON model card naming the architecture, preprocessing, training run, metrics and the
//! weights' sha256.

pub mod gallery;
#[cfg(not(target_arch = "wasm32"))]
pub mod pytorch;
mod readback;
pub mod training_log;

use std::collections::BTreeMap;

use burn::module::Module;
use burn::store::{BurnpackStore, HalfPrecisionAdapter, ModuleSnapshot};
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::classes::FractureClass;
use crate::data::{Framing, INPUT_SIZE};
use crate::model::{Architecture, Classifier};
use crate::train::{Calibration, CrossValidation, Evaluation, FineTuned, TrainingConfig};

pub use gallery::{Gallery, Predicted, Thumbnail, GALLERY_FILE};
pub use readback::{host_copy, weights_to_bytes_async};
pub use training_log::{runs_in_log, soup_log, LogLine, LOG_FILE};

/// File name of the weights inside a model folder.
pub const WEIGHTS_FILE: &str = "model.bpk";
/// File name of the model card inside a model folder.
pub const CARD_FILE: &str = "model.json";

/// How an image becomes the model's input; the page shows this and must match it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub layout: String,
    pub resize: String,
    pub scale: String,
    /// Flat padding bars trimmed before resizing, or not (cards without it: the whole image).
    #[serde(default)]
    pub framing: Framing,
}

impl Default for InputSpec {
    fn default() -> Self {
        InputSpec {
            width: INPUT_SIZE,
            height: INPUT_SIZE,
            channels: 3,
            layout: "NCHW, RGB".into(),
            resize: "bilinear, half-pixel centres, no antialiasing (tf.image.resize)".into(),
            scale: "pixel / 255, in [0, 1]".into(),
            framing: Framing::Whole,
        }
    }
}

/// The weights file a card describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightsInfo {
    pub file: String,
    pub sha256: String,
    pub bytes: usize,
    pub dtype: String,
}

/// Validation metrics of one training run, with where they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    /// Architecture name (`seed-cnn`, `mlp`).
    pub model: String,
    pub split: crate::data::SplitKind,
    /// 1-based epoch kept (lowest validation loss).
    pub best_epoch: usize,
    pub train_images: usize,
    pub valid_images: usize,
    pub validation: Evaluation,
}

/// Another model's group-disjoint cross-validation on the same folds, for the comparison table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparedCrossValidation {
    /// The model, as the comparison table names it (`seed-cnn`, `mlp`).
    pub model: String,
    /// Its architecture's name (`Architecture::name`); empty in cards published before it was
    /// recorded.
    #[serde(default)]
    pub architecture: String,
    pub cross_validation: CrossValidation,
}

/// `model.json`: everything needed to rebuild, use and judge a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub id: String,
    pub name: String,
    /// Class folder names in output-index order.
    pub classes: Vec<String>,
    pub input: InputSpec,
    pub architecture: Architecture,
    pub parameters: usize,
    pub training: TrainingConfig,
    /// `None` for a card that records metrics only (a model too large to ship).
    pub weights: Option<WeightsInfo>,
    /// Metrics of these weights' own run, keyed by split (`group` or `random`).
    pub metrics: BTreeMap<String, RunMetrics>,
    /// Other runs to compare with (the same architecture on the other split, other models).
    #[serde(default)]
    pub comparison: Vec<RunMetrics>,
    /// The id of the model this one was fine-tuned from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fine_tuned_from: Option<String>,
    /// Temperature scaling fitted on this run's validation images; the page divides the
    /// logits by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// Test-time views: each answer is the mean of the probabilities of the image and
    /// `views - 1` augmented variants of it ([`crate::train::predict_views`]), as the page and
    /// `fracture evaluate` compute it; `calibration` and this run's `metrics` are fitted and
    /// measured on that mean. 1: the image alone.
    #[serde(default = "one_view", skip_serializing_if = "is_one_view")]
    pub views: usize,
    /// Group-disjoint cross-validation of the recipe these weights were trained with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_validation: Option<CrossValidation>,
    /// The same folds' models scored as the page answers: each answer the mean over `views`
    /// test-time views, the temperature fitted on the inner validation images' means
    /// (`fracture combine --views`, kept by `fracture publish --cv-views`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_validation_views: Option<CrossValidation>,
    /// For a soup, the training runs whose weights it averages (`training` is the first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub averaged_from: Vec<TrainingConfig>,
    /// Other models' cross-validations on the same folds (`fracture publish --runs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cross_validation_comparison: Vec<ComparedCrossValidation>,
}

fn one_view() -> usize {
    1
}

fn is_one_view(views: &usize) -> bool {
    *views == 1
}

/// Key of a fine-tuning run's held-out metrics in [`ModelCard::metrics`].
pub const FINE_TUNE_METRICS: &str = "fine-tune";

/// Why weights or a card could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the weights file is damaged or is not a burnpack file: {0}")]
    Weights(String),
    #[error("the weights do not fit the {architecture} architecture: {message}")]
    Mismatch { architecture: String, message: String },
    #[error("the weights' sha256 is {actual}, but model.json expects {expected}: the download is corrupt or stale")]
    Checksum { expected: String, actual: String },
    #[error("model.json is not valid: {0}")]
    Card(String),
    #[error("{0}")]
    Io(String),
}

impl ModelCard {
    /// A card for a model trained as `training` says on images prepared as `input` says.
    pub fn new(id: &str, name: &str, model: &Classifier, training: TrainingConfig, input: InputSpec) -> Self {
        ModelCard {
            id: id.into(),
            name: name.into(),
            classes: FractureClass::ALL.iter().map(|c| c.folder_name().to_string()).collect(),
            input,
            architecture: training.architecture.clone(),
            parameters: model.num_params(),
            training,
            weights: None,
            metrics: BTreeMap::new(),
            comparison: Vec::new(),
            fine_tuned_from: None,
            calibration: None,
            views: 1,
            cross_validation: None,
            cross_validation_views: None,
            averaged_from: Vec::new(),
            cross_validation_comparison: Vec::new(),
        }
    }

    /// The card of `tuned`, fine-tuned from the model `base` describes: the run's settings,
    /// its held-out scores (under [`FINE_TUNE_METRICS`]), and the base model's metrics for
    /// comparison. Its weights entry is filled in when the weights are written.
    pub fn fine_tuned(base: &ModelCard, id: &str, name: &str, tuned: &FineTuned) -> Self {
        let mut card = ModelCard::new(id, name, &tuned.model, tuned.config.clone(), base.input.clone());
        card.fine_tuned_from = Some(base.id.clone());
        if let Some(after) = &tuned.report.after {
            card.metrics.insert(
                FINE_TUNE_METRICS.into(),
                RunMetrics {
                    model: format!("{} (fine-tuned)", base.architecture.name()),
                    split: tuned.config.split,
                    best_epoch: tuned.report.best_epoch,
                    train_images: tuned.report.train_images,
                    valid_images: tuned.report.valid_images,
                    validation: after.clone(),
                },
            );
        }
        card.comparison = base.metrics.values().chain(&base.comparison).cloned().collect();
        card.cross_validation_comparison = base.compared_cross_validations();
        card
    }

    /// Fills in the weights entry for `bytes`, a burnpack file written by [`weights_to_bytes`].
    pub fn describe_weights(&mut self, bytes: &[u8]) {
        self.weights = Some(WeightsInfo {
            file: WEIGHTS_FILE.into(),
            sha256: sha256_hex(bytes),
            bytes: bytes.len(),
            dtype: "f16 (batch-norm in f32)".into(),
        });
    }

    /// Parses `model.json` and checks that its classes are this build's classes.
    pub fn from_json(json: &str) -> Result<Self, StoreError> {
        let card: ModelCard = serde_json::from_str(json).map_err(|e| StoreError::Card(e.to_string()))?;
        let expected: Vec<_> = FractureClass::ALL.iter().map(|c| c.folder_name()).collect();
        if card.classes != expected {
            return Err(StoreError::Card(format!("its classes {:?} are not {:?}", card.classes, expected)));
        }
        Ok(card)
    }

    /// The cross-validation of the answer the page gives: over the card's views where it was
    /// measured so, else the image alone's.
    pub fn answer_cross_validation(&self) -> Option<&CrossValidation> {
        self.cross_validation_views.as_ref().or(self.cross_validation.as_ref())
    }

    /// The comparison table's name for this model's answer: its group run's (which says how it
    /// answers, `efficientnet-lite0 (soup of 2) · 8 views`), else its architecture's.
    pub fn answer_name(&self) -> String {
        self.metrics.get("group").map_or_else(|| self.architecture.name().to_string(), |m| m.model.clone())
    }

    /// This model's answer's cross-validation followed by those it compares itself with: what
    /// a card that compares itself with this one carries.
    pub fn compared_cross_validations(&self) -> Vec<ComparedCrossValidation> {
        let own = self.answer_cross_validation().map(|cv| ComparedCrossValidation {
            model: self.answer_name(),
            architecture: self.architecture.name().into(),
            cross_validation: cv.clone(),
        });
        own.into_iter().chain(self.cross_validation_comparison.iter().cloned()).collect()
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a model card always serialises")
    }
}

/// Serialises the weights as a burnpack file, f16 except batch-norm statistics.
///
/// Reads every tensor synchronously: native only, or the CPU backend in a browser; on WebGPU
/// use [`weights_to_bytes_async`].
pub fn weights_to_bytes(model: &Classifier) -> Result<Vec<u8>, StoreError> {
    let mut store = BurnpackStore::from_bytes(None).with_to_adapter(HalfPrecisionAdapter::new());
    model.save_into(&mut store).map_err(|e| StoreError::Weights(e.to_string()))?;
    let bytes = store.get_bytes().map_err(|e| StoreError::Weights(e.to_string()))?;
    Ok(bytes.to_vec())
}

/// Builds `architecture` on `device` and loads weights into it; the result is in evaluation mode.
pub fn classifier_from_bytes(architecture: &Architecture, bytes: &[u8], device: &Device) -> Result<Classifier, StoreError> {
    let mut model = architecture.init(device);
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes.to_vec())))
        .with_from_adapter(HalfPrecisionAdapter::new())
        // Missing or unexpected tensors are reported below as another network's weights,
        // not as a damaged file.
        .allow_partial(true);
    let result = model.load_from(&mut store).map_err(|e| StoreError::Weights(e.to_string()))?;
    if !result.missing.is_empty() || !result.unused.is_empty() || !result.errors.is_empty() {
        return Err(StoreError::Mismatch {
            architecture: architecture.name().into(),
            message: format!(
                "{} of its tensors are missing ({}), {} are not this network's ({}), {} do not fit ({})",
                result.missing.len(),
                first_few(result.missing.iter().map(|(path, _)| path)),
                result.unused.len(),
                first_few(result.unused.iter()),
                result.errors.len(),
                first_few(result.errors.iter()),
            ),
        });
    }
    Ok(model.valid())
}

/// Up to three items, for a message that names what went wrong without listing everything.
fn first_few<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    let names: Vec<String> = items.take(3).map(|item| item.to_string()).collect();
    if names.is_empty() {
        "none".into()
    } else {
        format!("{}…", names.join(", "))
    }
}

/// Loads weights after checking them against the card's sha256.
pub fn classifier_from_card(card: &ModelCard, bytes: &[u8], device: &Device) -> Result<Classifier, StoreError> {
    if let Some(info) = &card.weights {
        let actual = sha256_hex(bytes);
        if actual != info.sha256 {
            return Err(StoreError::Checksum { expected: info.sha256.clone(), actual });
        }
    }
    classifier_from_bytes(&card.architecture, bytes, device)
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `model.bpk` (when `model` is given) and `model.json` into `dir`, filling in the
/// card's weights entry.
#[cfg(not(target_arch = "wasm32"))]
pub fn save_model_dir(dir: &std::path::Path, card: &mut ModelCard, model: Option<&Classifier>) -> Result<(), StoreError> {
    let io = |e: std::io::Error| StoreError::Io(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    if let Some(model) = model {
        let bytes = weights_to_bytes(model)?;
        card.describe_weights(&bytes);
        std::fs::write(dir.join(WEIGHTS_FILE), bytes).map_err(io)?;
    }
    std::fs::write(dir.join(CARD_FILE), card.to_json() + "\n").map_err(io)
}

/// Reads `model.json` and its weights from `dir`.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_model_dir(dir: &std::path::Path, device: &Device) -> Result<(ModelCard, Classifier), StoreError> {
    let read =
        |name: &str| std::fs::read(dir.join(name)).map_err(|e| StoreError::Io(format!("{}: {e}", dir.join(name).display())));
    let card = ModelCard::from_json(&String::from_utf8_lossy(&read(CARD_FILE)?))?;
    let info = card
        .weights
        .as_ref()
        .ok_or_else(|| StoreError::Card(format!("{} records metrics only and has no weights", dir.join(CARD_FILE).display())))?;
    let bytes = read(&info.file)?;
    let model = classifier_from_card(&card, &bytes, device)?;
    Ok((card, model))
}
