//! The epoch loop: shuffled batches, per-batch and per-epoch reports, validation after each
//! epoch, and the best epoch by validation loss kept (the notebook's `ModelCheckpoint`), or the
//! last one ([`Keep`]).

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use burn::prelude::*;

use super::mixup::Mix;
use super::source::{Images, Source};
use super::{predict_source, Evaluation, Keep, TrainError, Trainable, Trainer, TrainingConfig, WeightAverage};
use crate::data::LabelledXray;
use crate::model::Classifier;

/// Progress after one batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchReport {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based batch within the epoch.
    pub batch: usize,
    pub batches: usize,
    pub loss: f32,
    pub accuracy: f32,
    pub images_per_second: f64,
    /// Estimated time to the end of the run.
    pub seconds_left: f64,
}

/// One line of the per-epoch log (`metrics.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub valid_loss: f64,
    pub valid_accuracy: f64,
    pub valid_top3_accuracy: f64,
    pub seconds: f64,
    pub images_per_second: f64,
    /// Whether this epoch is the one kept so far: the lowest validation loss, or with
    /// [`Keep::Last`] every epoch in turn.
    pub best: bool,
}

/// Receives progress while training and may ask it to stop.
pub trait TrainObserver {
    fn on_batch(&mut self, _report: &BatchReport) {}
    fn on_epoch(&mut self, _report: &EpochReport) {}
    /// The epoch's model, in evaluation mode, before it is kept or dropped: for measurements
    /// that must not steer the run (the command line's cross-validation scores each epoch on
    /// the fold being held out, to study how many epochs to train).
    fn on_epoch_model(&mut self, _epoch: usize, _model: &Classifier) {}
    /// Awaited after every batch. A browser worker yields to its event loop here, so that a
    /// Stop message can arrive even on the CPU backend, whose steps never wait.
    fn pause(&mut self) -> impl std::future::Future<Output = ()> {
        std::future::ready(())
    }
    /// Checked after every batch; `true` ends the run after the current step.
    fn should_stop(&mut self) -> bool {
        false
    }
}

impl TrainObserver for () {}

/// The result of a run.
pub struct FitOutcome {
    /// The model of the best epoch, in evaluation mode.
    pub model: Classifier,
    /// 1-based epoch of `model`; 0 when stopped before the first epoch ended (then `model`
    /// is the starting model).
    pub best_epoch: usize,
    /// Validation metrics of `model`.
    pub evaluation: Option<Evaluation>,
    pub history: Vec<EpochReport>,
    /// Whether the observer stopped the run early.
    pub stopped: bool,
    /// Why the run ended before its last epoch on its own (a loss that became NaN or
    /// infinite); `model` is then the best epoch before it.
    pub halted: Option<TrainError>,
}

/// Trains `model` on `train`, validating on `valid` after each epoch.
///
/// With [`Trainable::Head`] only the dense layers at the end learn; with `augment` each image
/// is randomly changed every time it is used ([`crate::data::augment`]); `schedule` sets each
/// step's learning rate and `mixup` blends each batch ([`super::mixup`]); with
/// `weight_average` each epoch is validated and kept as the running average of the weights.
pub async fn fit(
    config: &TrainingConfig,
    model: Classifier,
    train: &[&LabelledXray],
    valid: &[&LabelledXray],
    device: &Device,
    observer: &mut impl TrainObserver,
) -> Result<FitOutcome, TrainError> {
    fit_source(config, model, &Images(train), &Images(valid), device, observer).await
}

/// [`fit`] on any [`Source`] of inputs (images, or a frozen prefix's cached output). With
/// `augment`, a cached source picks one of its views of each item.
pub async fn fit_source(
    config: &TrainingConfig,
    model: Classifier,
    train: &impl Source,
    valid: &impl Source,
    device: &Device,
    observer: &mut impl TrainObserver,
) -> Result<FitOutcome, TrainError> {
    if train.is_empty() {
        return Err(TrainError::NoData("the training part of the split is empty".into()));
    }
    // Burn draws a fresh layer's weights when they are first read — after this point, and before
    // the first step draws any dropout mask (tests/training_step.rs) — so this seed (not one set
    // when the model was built) gives the new layers their first weights.
    device.seed(config.init_seed());
    let model = model.with_drop_path(config.drop_path);
    let trainable = match config.trainable {
        Trainable::Whole => model.clone(),
        Trainable::Head => model.clone().freeze_trunk(),
        Trainable::AfterBlock(blocks) => model.clone().freeze_first(blocks),
    };
    let class_weights = config.class_weighted.then(|| class_weights(train));
    let mut trainer = Trainer::new(trainable, &config.adam(), config.learning_rate, device)
        .with_loss(config.label_smoothing, class_weights)
        .with_trunk_lr_factor(config.trunk_lr_factor);
    let mut outcome =
        FitOutcome { model: model.valid(), best_epoch: 0, evaluation: None, history: Vec::new(), stopped: false, halted: None };
    let mut augment_rng = StdRng::seed_from_u64(config.seed.wrapping_mul(31));
    let mut mixup_rng = StdRng::seed_from_u64(config.seed.wrapping_mul(37));
    let mut average = (config.weight_average > 0.0).then(|| WeightAverage::new(config.weight_average));
    let batch_size = config.batch_size.max(1);
    let batches = train.len().div_ceil(batch_size);
    let total_steps = batches * config.epochs;
    let started = Instant::now();
    let mut order: Vec<usize> = (0..train.len()).collect();
    let valid_labels: Vec<usize> = (0..valid.len()).map(|i| valid.label(i)).collect();

    for epoch in 1..=config.epochs {
        let epoch_started = Instant::now();
        order.shuffle(&mut StdRng::seed_from_u64(config.seed.wrapping_add(epoch as u64)));
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        for (b, chunk) in order.chunks(batch_size).enumerate() {
            let labels: Vec<usize> = chunk.iter().map(|&i| train.label(i)).collect();
            let inputs = train.batch(chunk, config.augment.then_some(&mut augment_rng), device);
            let step = (epoch - 1) * batches + b;
            trainer.set_learning_rate(config.schedule.rate(config.learning_rate, step, total_steps));
            let mix = (config.mixup > 0.0).then(|| Mix::draw(config.mixup, chunk.len(), &mut mixup_rng));
            let stats = trainer.step_mixed(inputs, train.first_block(), &labels, mix.as_ref()).await?;
            if !stats.loss.is_finite() {
                outcome.halted = Some(TrainError::NonFiniteLoss { epoch, batch: b + 1, value: stats.loss });
                break;
            }
            if let Some(average) = &mut average {
                average.update(trainer.model());
            }
            loss_sum += stats.loss as f64 * stats.images as f64;
            correct += stats.correct;
            seen += stats.images;
            let done = (epoch - 1) * batches + b + 1;
            let elapsed = started.elapsed().as_secs_f64();
            observer.on_batch(&BatchReport {
                epoch,
                batch: b + 1,
                batches,
                loss: stats.loss,
                accuracy: stats.correct as f32 / stats.images as f32,
                images_per_second: seen as f64 / epoch_started.elapsed().as_secs_f64().max(1e-9),
                seconds_left: elapsed / done as f64 * (total_steps - done) as f64,
            });
            observer.pause().await;
            if observer.should_stop() {
                outcome.stopped = true;
                break;
            }
        }
        if outcome.halted.is_some() || (outcome.stopped && seen < train.len()) {
            break; // a partial epoch is not validated or kept
        }
        let seconds = epoch_started.elapsed().as_secs_f64();
        let model = average.as_ref().and_then(WeightAverage::model).unwrap_or_else(|| trainer.model());
        let evaluation = if valid.is_empty() {
            None
        } else {
            let rows = predict_source(&model, valid, batch_size, device).await?;
            Some(Evaluation::from_probabilities(&rows, &valid_labels))
        };
        // Without validation images the latest epoch is kept.
        let valid_loss = evaluation.as_ref().map_or(f64::NAN, |e| e.loss);
        let best = match (&outcome.evaluation, config.keep) {
            (Some(previous), Keep::BestValidation) => valid_loss < previous.loss,
            _ => true,
        };
        let report = EpochReport {
            epoch,
            train_loss: loss_sum / seen as f64,
            train_accuracy: correct as f64 / seen as f64,
            valid_loss,
            valid_accuracy: evaluation.as_ref().map_or(f64::NAN, |e| e.accuracy),
            valid_top3_accuracy: evaluation.as_ref().map_or(f64::NAN, |e| e.top3_accuracy),
            seconds,
            images_per_second: seen as f64 / seconds.max(1e-9),
            best,
        };
        observer.on_epoch(&report);
        observer.on_epoch_model(epoch, &model);
        outcome.history.push(report);
        if best {
            outcome.model = model;
            outcome.best_epoch = epoch;
            outcome.evaluation = evaluation;
        }
        if outcome.stopped {
            break;
        }
    }
    Ok(outcome)
}

/// `n / (classes × count)` per class, so each class weighs the same in the loss; a class with
/// no training images gets weight 0.
fn class_weights(train: &impl Source) -> Vec<f32> {
    let mut counts = [0usize; crate::NUM_CLASSES];
    (0..train.len()).for_each(|i| counts[train.label(i)] += 1);
    let n = train.len() as f32;
    counts.iter().map(|&c| if c == 0 { 0.0 } else { n / (crate::NUM_CLASSES as f32 * c as f32) }).collect()
}
