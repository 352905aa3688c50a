//! Fine-tuning a trained model on a person's own labelled X-rays: split them, score the model
//! before, train it with [`fit`], score it after on the same validation images. The page's
//! worker and `fracture finetune` both run this function.

use serde::{Deserialize, Serialize};

use burn::prelude::*;

use super::{fit, predict, EpochReport, Evaluation, Keep, TrainError, TrainObserver, Trainable, TrainingConfig};
use crate::data::{split, LabelledXray, Split, SplitKind, Xray};
use crate::model::Classifier;
use crate::train::metrics::ranked_classes;

/// What a person can choose about a fine-tuning run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FineTuneOptions {
    pub trainable: Trainable,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub augment: bool,
    /// Share of the images held out to score the model before and after.
    pub valid_fraction: f64,
    pub seed: u64,
}

impl Default for FineTuneOptions {
    /// Head only, 3 epochs of batch 16 at Adam 1e-4 (a tenth of the notebook's rate, which
    /// would undo the pretrained weights on a few images), augmentation on, 15 % held out.
    fn default() -> Self {
        FineTuneOptions {
            trainable: Trainable::Head,
            epochs: 3,
            batch_size: 16,
            learning_rate: 1e-4,
            augment: true,
            valid_fraction: 0.15,
            seed: 7,
        }
    }
}

/// One held-out image and what the model said about it before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldOutImage {
    /// Index into the images given to [`fine_tune`].
    pub index: usize,
    pub actual: usize,
    pub before: usize,
    pub after: usize,
}

/// Everything a run measured; the page draws its charts and tables from this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FineTuneReport {
    pub train_images: usize,
    pub valid_images: usize,
    /// Whether the split kept near-duplicate groups together (a manifest named them).
    pub grouped: bool,
    /// The starting model on the held-out images; `None` without held-out images.
    pub before: Option<Evaluation>,
    /// The kept model on the same images.
    pub after: Option<Evaluation>,
    pub held_out: Vec<HeldOutImage>,
    pub history: Vec<EpochReport>,
    /// 1-based epoch kept (lowest validation loss); 0: no whole epoch finished, the starting
    /// model is kept.
    pub best_epoch: usize,
    pub stopped: bool,
    /// Why the run ended by itself before its last epoch (a loss that became NaN).
    pub halted: Option<String>,
}

/// A finished run: the kept model (on the training device, in evaluation mode), the settings
/// that reproduce it, and its report.
pub struct FineTuned {
    pub model: Classifier,
    pub config: TrainingConfig,
    pub report: FineTuneReport,
}

/// The split [`fine_tune`] makes of `images`: near-duplicate groups on one side, stratified by
/// class, `options.valid_fraction` held out. Callers use it to announce the counts up front.
pub fn held_out_split(images: &[LabelledXray], options: &FineTuneOptions) -> Split {
    let classes: Vec<_> = images.iter().map(|i| i.class).collect();
    let groups: Vec<_> = images.iter().map(|i| i.group.clone()).collect();
    split(SplitKind::Group, &classes, &groups, options.valid_fraction, options.seed)
}

/// Fine-tunes `base` (trained with `base_config`) on `images`.
///
/// Images that share a `group` stay on one side of the split. Before training, the starting
/// model is scored on the held-out part; after, the kept model is scored on the same images.
pub async fn fine_tune(
    base: &Classifier,
    base_config: &TrainingConfig,
    images: &[LabelledXray],
    options: &FineTuneOptions,
    device: &Device,
    observer: &mut impl TrainObserver,
) -> Result<FineTuned, TrainError> {
    if images.is_empty() {
        return Err(TrainError::NoData("no labelled images were given".into()));
    }
    let config = TrainingConfig {
        epochs: options.epochs.max(1),
        batch_size: options.batch_size.max(1),
        learning_rate: options.learning_rate,
        seed: options.seed,
        init_seed: None,
        split: SplitKind::Group,
        valid_fraction: options.valid_fraction,
        trainable: options.trainable,
        augment: options.augment,
        // A few images and a few epochs: keep the epoch with the lowest held-out loss, as the
        // report promises, and no moving average, which would lag behind so short a run; one
        // learning rate, the one the person chose.
        weight_average: 0.0,
        keep: Keep::BestValidation,
        trunk_lr_factor: 1.0,
        ..base_config.clone()
    };
    let groups: Vec<_> = images.iter().map(|i| i.group.as_str()).collect();
    let grouped = {
        let mut unique = groups.clone();
        unique.sort();
        unique.dedup();
        unique.len() < groups.len()
    };
    let parts = held_out_split(images, options);
    let train: Vec<&LabelledXray> = parts.train.iter().map(|&i| &images[i]).collect();
    let valid: Vec<&LabelledXray> = parts.valid.iter().map(|&i| &images[i]).collect();
    let valid_xrays: Vec<&Xray> = valid.iter().map(|i| &i.xray).collect();
    let labels: Vec<usize> = valid.iter().map(|i| i.class.index()).collect();

    let base = base.valid();
    let before = predict(&base, &valid_xrays, config.batch_size, device).await?;
    let outcome = fit(&config, base, &train, &valid, device, observer).await?;
    let after = predict(&outcome.model, &valid_xrays, config.batch_size, device).await?;

    let held_out = parts
        .valid
        .iter()
        .zip(&labels)
        .zip(before.iter().zip(&after))
        .map(|((&index, &actual), (b, a))| HeldOutImage {
            index,
            actual,
            before: ranked_classes(b)[0],
            after: ranked_classes(a)[0],
        })
        .collect();
    let score = |rows: &[[f32; crate::NUM_CLASSES]]| (!rows.is_empty()).then(|| Evaluation::from_probabilities(rows, &labels));
    let report = FineTuneReport {
        train_images: train.len(),
        valid_images: valid.len(),
        grouped,
        before: score(&before),
        after: score(&after),
        held_out,
        history: outcome.history,
        best_epoch: outcome.best_epoch,
        stopped: outcome.stopped,
        halted: outcome.halted.map(|e| e.to_string()),
    };
    Ok(FineTuned { model: outcome.model, config, report })
}
