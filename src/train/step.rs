//! The one training step (forward → loss → backward → Adam) and batched prediction.

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::ExecutionError;

use super::mixup::Mix;
use super::source::{Cached, Source};
use super::{Evaluation, TrainError};
use crate::data::{images_to_tensor, test_time_views, Xray};
use crate::model::heatmap::heatmap_to_input_size;
use crate::model::Classifier;
use crate::NUM_CLASSES;

/// What one step measured on its batch, read back from the device.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Mean cross-entropy of the batch before the update.
    pub loss: f32,
    /// Correct top-1 predictions in the batch before the update.
    pub correct: usize,
    pub images: usize,
}

/// A model being trained with its optimiser state.
pub struct Trainer {
    model: Classifier,
    optimizer: ModuleOptimizer,
    learning_rate: f64,
    /// The head's parameters and the trunk's share of the learning rate, when the two differ.
    trunk_rate: Option<(Vec<ParamId>, f64)>,
    loss: CrossEntropyLoss,
    device: Device,
}

impl Trainer {
    /// Starts training `model` (from any device) on `device`'s autodiff counterpart.
    pub fn new(model: Classifier, adam: &burn::optim::AdamConfig, learning_rate: f64, device: &Device) -> Self {
        let device = device.clone().autodiff();
        let model = model.to_device(&device).train();
        let loss = CrossEntropyLossConfig::new().init(&device);
        Trainer { model, optimizer: adam.init(), learning_rate, trunk_rate: None, loss, device }
    }

    /// Trains the trunk at `factor` × the learning rate and the head (what
    /// [`Classifier::freeze_trunk`] leaves trainable) at the full rate; 1: one rate for all.
    pub fn with_trunk_lr_factor(mut self, factor: f64) -> Self {
        self.trunk_rate = (factor != 1.0).then(|| {
            let mut head = TrainedIds(Vec::new());
            self.model.clone().freeze_trunk().visit(&mut head);
            (head.0, factor)
        });
        self
    }

    /// Uses label smoothing `smoothing` (0: none) and, when given, one loss weight per class.
    pub fn with_loss(mut self, smoothing: f32, class_weights: Option<Vec<f32>>) -> Self {
        self.loss = CrossEntropyLossConfig::new()
            .with_smoothing((smoothing > 0.0).then_some(smoothing))
            .with_weights(class_weights)
            .init(&self.device);
        self
    }

    /// One optimisation step on one batch of images.
    pub async fn step(&mut self, images: &[&Xray], labels: &[usize]) -> Result<StepStats, TrainError> {
        let inputs = images_to_tensor(images.iter().copied(), &self.device);
        self.step_from(inputs, 0, labels).await
    }

    /// One optimisation step on a batch that enters the network at block `first_block` (see
    /// [`crate::train::source`]); `inputs` may live on any device.
    pub async fn step_from(&mut self, inputs: Tensor<4>, first_block: usize, labels: &[usize]) -> Result<StepStats, TrainError> {
        self.step_mixed(inputs, first_block, labels, None).await
    }

    /// [`Self::step_from`], on the batch blended as `mix` says when given ([`super::mixup`]).
    /// The reported accuracy counts each item's own label.
    pub async fn step_mixed(
        &mut self,
        inputs: Tensor<4>,
        first_block: usize,
        labels: &[usize],
        mix: Option<&Mix>,
    ) -> Result<StepStats, TrainError> {
        let inputs = inputs.to_device(&self.device);
        let targets = indices_to_tensor(labels, &self.device);
        let (loss, logits) = match mix {
            None => {
                let logits = self.model.forward_from(inputs, first_block);
                (self.loss.forward(logits.clone(), targets), logits)
            }
            Some(mix) => {
                let partner = indices_to_tensor(&mix.partner, &self.device);
                let blended =
                    inputs.clone().mul_scalar(mix.lambda) + inputs.select(0, partner.clone()).mul_scalar(1.0 - mix.lambda);
                let logits = self.model.forward_from(blended, first_block);
                let own = self.loss.forward(logits.clone(), targets.clone());
                let other = self.loss.forward(logits.clone(), targets.select(0, partner));
                (own.mul_scalar(mix.lambda) + other.mul_scalar(1.0 - mix.lambda), logits)
            }
        };
        let mut grads = loss.backward();
        let loss_value = read_f32(loss.detach()).await?[0];
        let scores = read_f32(logits.detach()).await?;
        let model = self.model.clone();
        self.model = match &self.trunk_rate {
            None => self.optimizer.step(self.learning_rate, model, GradientsParams::from_grads(grads, &self.model)),
            Some((head, factor)) => {
                let head_grads = GradientsParams::from_params(&mut grads, &self.model, head);
                let trunk_grads = GradientsParams::from_grads(grads, &self.model);
                let model = self.optimizer.step(self.learning_rate, model, head_grads);
                self.optimizer.step(self.learning_rate * factor, model, trunk_grads)
            }
        };
        let correct = scores.chunks_exact(NUM_CLASSES).zip(labels).filter(|(row, &label)| argmax(row) == label).count();
        Ok(StepStats { loss: loss_value, correct, images: labels.len() })
    }

    /// The learning rate of the following steps.
    pub fn set_learning_rate(&mut self, rate: f64) {
        self.learning_rate = rate;
    }

    /// The model in evaluation mode (no autodiff, dropout off, batch-norm running statistics).
    pub fn model(&self) -> Classifier {
        self.model.valid()
    }
}

/// Class probabilities for each image, computed in batches of `batch_size`.
/// `model` must be in evaluation mode (`valid()`).
pub async fn predict(
    model: &Classifier,
    images: &[&Xray],
    batch_size: usize,
    device: &Device,
) -> Result<Vec<[f32; NUM_CLASSES]>, TrainError> {
    let batches = images.chunks(batch_size.max(1)).map(|chunk| images_to_tensor(chunk.iter().copied(), device));
    predict_batches(model, batches, 0).await
}

/// Class probabilities for each image, each the mean over its `views` test-time views
/// ([`test_time_views`]; 1: the image alone, as [`predict`]), one image's views per batch
/// (`batch_size` applies only to the image alone).
/// This is how a model card's `views` are applied, in the page and in `fracture evaluate`.
pub async fn predict_views(
    model: &Classifier,
    images: &[&Xray],
    views: usize,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<[f32; NUM_CLASSES]>, TrainError> {
    if views <= 1 {
        return predict(model, images, batch_size, device).await;
    }
    Ok(predict_each_view(model, images, views, device).await?.iter().map(|rows| mean_row(rows)).collect())
}

/// Each image's class probabilities on each of its `views` test-time views
/// ([`test_time_views`]; the image itself first), one image's views per batch. The mean of the
/// first `n` rows of an image is its [`predict_views`] answer for `n` views, since the views of
/// a smaller count are the first of a larger one.
pub async fn predict_each_view(
    model: &Classifier,
    images: &[&Xray],
    views: usize,
    device: &Device,
) -> Result<Vec<Vec<[f32; NUM_CLASSES]>>, TrainError> {
    let mut rows = Vec::with_capacity(images.len());
    for xray in images {
        let batch = images_to_tensor(&test_time_views(xray, views.max(1)), device);
        rows.push(predict_batches(model, std::iter::once(batch), 0).await?);
    }
    Ok(rows)
}

/// The mean of probability rows.
pub fn mean_row(rows: &[[f32; NUM_CLASSES]]) -> [f32; NUM_CLASSES] {
    let mut mean = [0.0; NUM_CLASSES];
    for row in rows {
        mean.iter_mut().zip(row).for_each(|(m, p)| *m += p / rows.len() as f32);
    }
    mean
}

/// One image's class probabilities, averaged over its `views` test-time views as
/// [`predict_views`] averages them, and, when the network pools globally before a linear
/// classifier (EfficientNet), the class activation map of the first choice on the image itself
/// (view 0) at the input's size ([`crate::model::heatmap`]); computed in the same forward pass,
/// on any backend.
pub async fn predict_with_heatmap(
    model: &Classifier,
    xray: &Xray,
    views: usize,
    device: &Device,
) -> Result<([f32; NUM_CLASSES], Option<Vec<u8>>), TrainError> {
    let Classifier::EfficientNet(network) = model else {
        return Ok((predict_views(model, &[xray], views, 1, device).await?[0], None));
    };
    let (logits, maps) = network.forward_with_maps(images_to_tensor(&test_time_views(xray, views), device));
    let rows: Vec<[f32; NUM_CLASSES]> = probability_rows(&read_f32(softmax(logits, 1)).await?).collect();
    let row = mean_row(&rows);
    let [_, channels, h, w] = maps.dims();
    let cam = network.class_activation(maps.slice([0..1, 0..channels, 0..h, 0..w]), argmax(&row));
    Ok((row, Some(heatmap_to_input_size(&read_f32(cam).await?, h, w))))
}

/// Class probabilities for every item of `source`, in order, `batch_size` at a time.
pub async fn predict_source(
    model: &Classifier,
    source: &impl Source,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<[f32; NUM_CLASSES]>, TrainError> {
    let all: Vec<usize> = (0..source.len()).collect();
    let batches = all.chunks(batch_size.max(1)).map(|chunk| source.batch(chunk, None, device));
    predict_batches(model, batches, source.first_block()).await
}

/// Class probabilities for every item of `cached`, averaged over all its views (test-time
/// augmentation with the cached variants).
pub async fn predict_averaged_views(
    model: &Classifier,
    cached: &Cached,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<[f32; NUM_CLASSES]>, TrainError> {
    let views = cached.view_count();
    let mut sum = vec![[0.0f32; NUM_CLASSES]; cached.len()];
    for view in 0..views {
        for (total, row) in sum.iter_mut().zip(predict_source(model, &cached.view(view), batch_size, device).await?) {
            total.iter_mut().zip(row).for_each(|(t, p)| *t += p / views as f32);
        }
    }
    Ok(sum)
}

async fn predict_batches(
    model: &Classifier,
    batches: impl Iterator<Item = Tensor<4>>,
    first_block: usize,
) -> Result<Vec<[f32; NUM_CLASSES]>, TrainError> {
    let mut rows = Vec::new();
    for inputs in batches {
        let probabilities = softmax(model.forward_from(inputs, first_block), 1);
        rows.extend(probability_rows(&read_f32(probabilities).await?));
    }
    Ok(rows)
}

/// A batch's probabilities, read back flat, as one row per item.
fn probability_rows(values: &[f32]) -> impl Iterator<Item = [f32; NUM_CLASSES]> + '_ {
    values.chunks_exact(NUM_CLASSES).map(|row| row.try_into().expect("NUM_CLASSES values"))
}

/// Predicts every image and scores the predictions against `labels`.
pub async fn evaluate(
    model: &Classifier,
    images: &[&Xray],
    labels: &[usize],
    batch_size: usize,
    device: &Device,
) -> Result<Evaluation, TrainError> {
    let probabilities = predict(model, images, batch_size, device).await?;
    Ok(Evaluation::from_probabilities(&probabilities, labels))
}

/// Class labels, or batch positions, as an integer tensor.
fn indices_to_tensor(indices: &[usize], device: &Device) -> Tensor<1, Int> {
    let values: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(values, [indices.len()]), device)
}

/// Reads a tensor back to the host; awaited, so it also works on WebGPU in a browser.
pub(super) async fn read_f32<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, TrainError> {
    let data = tensor.into_data_async().await.map_err(|e| match e {
        ExecutionError::DevicePoisoned { reason } => TrainError::DeviceLost(reason),
        other => TrainError::Device(format!("{other:?}")),
    })?;
    data.convert::<f32>().try_into_vec::<f32>().map_err(|e| TrainError::Device(format!("{e:?}")))
}

fn argmax(row: &[f32]) -> usize {
    // The first of equal maxima, as `ranked_classes` orders ties.
    row.iter().enumerate().min_by(|a, b| b.1.total_cmp(a.1)).map_or(0, |(i, _)| i)
}

/// The ids of the parameters a model trains (those that take gradients).
struct TrainedIds(Vec<ParamId>);

impl ModuleVisitor for TrainedIds {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if param.is_require_grad() {
            self.0.push(param.id);
        }
    }
}
