//! The shared training step lowers the loss on a tiny batch, on the CPU backend and on wgpu,
//! and both backends agree; its mixup variant is the blend it claims to be, and so is the
//! moving average of the weights, and the soup of several models; a trunk learning-rate factor
//! scales the trunk's update only.

// `Device::ndarray` is deprecated in Burn 0.22 in favour of `flex`; ndarray is still the CPU
// backend this project runs on.
#![allow(deprecated)]

mod common;

use bone_fracture::data::SplitKind;
use bone_fracture::data::{images_to_tensor, Xray};
use bone_fracture::model::Classifier;
use bone_fracture::model::{Architecture, SeedCnnConfig};
use bone_fracture::store::{classifier_from_bytes, weights_to_bytes};
use bone_fracture::train::mixup::Mix;
use bone_fracture::train::{average_weights, Trainer, TrainingConfig, WeightAverage};
use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::prelude::*;
use std::collections::HashMap;

/// Dropout off, so that two measurements of the same batch differ only by the update.
fn deterministic_cnn() -> Architecture {
    Architecture::SeedCnn(SeedCnnConfig::new().with_dropout(0.0))
}

fn tiny_batch() -> (Vec<Xray>, Vec<usize>) {
    let labels = vec![0, 3, 5, 9];
    (labels.iter().map(|&l| common::synthetic_xray(l)).collect(), labels)
}

/// The CPU device's random generator is shared by the tests, which run in parallel.
static SEEDED_INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A trainer of `architecture` from seeded weights. They are initialised on the CPU and
/// materialised through the weights format (parameters are lazy: moved uninitialised, they
/// would be drawn on the other device), so that every backend and call starts from the same
/// model.
fn seeded_trainer(device: &Device, architecture: &Architecture) -> Trainer {
    let config = TrainingConfig::new(architecture.clone(), SplitKind::Group);
    let model = {
        let _guard = SEEDED_INIT.lock().unwrap_or_else(|e| e.into_inner());
        Device::ndarray().seed(7);
        let fresh = architecture.init(&Device::ndarray());
        let bytes = weights_to_bytes(&fresh).expect("serialising fresh weights");
        classifier_from_bytes(architecture, &bytes, &Device::ndarray()).expect("loading them back")
    };
    Trainer::new(model, &config.adam(), config.learning_rate, device)
}

/// Loss before and after one step, measured on the same batch.
fn two_losses(device: &Device, architecture: &Architecture) -> (f32, f32) {
    let mut trainer = seeded_trainer(device, architecture);
    let (images, labels) = tiny_batch();
    let images: Vec<&Xray> = images.iter().collect();
    let first = pollster::block_on(trainer.step(&images, &labels)).expect("first step");
    let second = pollster::block_on(trainer.step(&images, &labels)).expect("second step");
    (first.loss, second.loss)
}

#[test]
fn one_step_lowers_the_loss_on_the_cpu_backend() {
    let (before, after) = two_losses(&Device::ndarray(), &deterministic_cnn());
    assert!(after < before, "loss {before} → {after}");
}

#[test]
fn one_step_lowers_the_loss_on_wgpu_and_agrees_with_the_cpu() {
    let device = Device::wgpu_options().init().expect("a wgpu adapter (Mesa's lavapipe is enough)");
    let (gpu_before, gpu_after) = two_losses(&device, &deterministic_cnn());
    assert!(gpu_after < gpu_before, "wgpu: loss {gpu_before} → {gpu_after}");
    let (cpu_before, cpu_after) = two_losses(&Device::ndarray(), &deterministic_cnn());
    assert!((gpu_before - cpu_before).abs() < 1e-3, "first loss: wgpu {gpu_before}, cpu {cpu_before}");
    assert!((gpu_after - cpu_after).abs() < 1e-2, "after one step: wgpu {gpu_after}, cpu {cpu_after}");
}

#[test]
fn a_mixup_step_blends_the_images_and_the_two_labels_losses() {
    let device = Device::ndarray();
    let (images, labels) = tiny_batch();
    let refs: Vec<&Xray> = images.iter().collect();
    let mix = Mix { lambda: 0.7, partner: vec![2, 0, 3, 1] };
    let mixed_loss = |mix: &Mix| {
        let mut trainer = seeded_trainer(&device, &deterministic_cnn());
        let inputs = images_to_tensor(refs.iter().copied(), &device);
        pollster::block_on(trainer.step_mixed(inputs, 0, &labels, Some(mix))).expect("a mixup step").loss
    };
    // The same blend made on the host, scored once against each side's labels.
    let blended: Vec<Xray> = (0..labels.len())
        .map(|i| {
            let (own, other) = (&images[i].pixels, &images[mix.partner[i]].pixels);
            let pixels = own.iter().zip(other).map(|(a, b)| mix.lambda * a + (1.0 - mix.lambda) * b).collect();
            Xray { pixels, original_size: images[i].original_size }
        })
        .collect();
    let blended: Vec<&Xray> = blended.iter().collect();
    let plain_loss = |labels: &[usize]| {
        let mut trainer = seeded_trainer(&device, &deterministic_cnn());
        pollster::block_on(trainer.step(&blended, labels)).expect("a step").loss
    };
    let partner_labels: Vec<usize> = mix.partner.iter().map(|&p| labels[p]).collect();
    let expected = mix.lambda * plain_loss(&labels) + (1.0 - mix.lambda) * plain_loss(&partner_labels);
    let measured = mixed_loss(&mix);
    assert!((measured - expected).abs() < 1e-4, "mixup loss {measured}, expected {expected}");
    // λ = 1 is no mixing at all.
    let unmixed = mixed_loss(&Mix { lambda: 1.0, partner: mix.partner.clone() });
    let mut trainer = seeded_trainer(&device, &deterministic_cnn());
    let plain = pollster::block_on(trainer.step(&refs, &labels)).expect("a step").loss;
    assert!((unmixed - plain).abs() < 1e-5, "λ = 1: {unmixed} vs {plain}");
}

/// Every float tensor of a model (weights and batch-norm running statistics), by id.
fn tensors(model: &Classifier) -> HashMap<ParamId, Vec<f32>> {
    tensors_in_order(model).into_iter().collect()
}

/// Every float tensor of a model with its parameter id, in module order (as a soup matches them).
fn tensors_in_order(model: &Classifier) -> Vec<(ParamId, Vec<f32>)> {
    struct InOrder(Vec<(ParamId, Vec<f32>)>);
    impl ModuleVisitor for InOrder {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push((param.id, param.val().into_data().to_vec().expect("f32 values")));
        }
    }
    let mut visitor = InOrder(Vec::new());
    model.visit(&mut visitor);
    visitor.0
}

/// The seeded CNN before and after each of `steps` steps on the tiny batch (CPU backend).
fn models_along_steps(steps: usize) -> Vec<Classifier> {
    let mut trainer = seeded_trainer(&Device::ndarray(), &deterministic_cnn());
    let (images, labels) = tiny_batch();
    let refs: Vec<&Xray> = images.iter().collect();
    let mut models = vec![trainer.model()];
    for _ in 0..steps {
        pollster::block_on(trainer.step(&refs, &labels)).expect("a step");
        models.push(trainer.model());
    }
    models
}

#[test]
fn the_weight_average_blends_every_weight_and_running_statistic() {
    let mut models = models_along_steps(1);
    let (after, before) = (models.pop().expect("the model after the step"), models.pop().expect("and before it"));
    let after_model = after.clone();

    let mut average = WeightAverage::new(0.5);
    assert!(average.model().is_none());
    average.update(before.clone());
    let first = average.model().expect("an average of one model");
    average.update(after.clone());
    // The second update keeps min(0.5, 2 / 11) of the first.
    let keep = 2.0 / 11.0;
    let (before, after, averaged) = (tensors(&before), tensors(&after), tensors(&average.model().expect("an average")));
    assert_eq!(averaged.len(), before.len());
    let mut changed = 0;
    for (id, average) in &averaged {
        let (old, new) = (&before[id], &after[id]);
        changed += usize::from(old != new);
        for ((a, o), n) in average.iter().zip(old).zip(new) {
            let expected = keep * o + (1.0 - keep) * n;
            assert!((a - expected).abs() <= 1e-5 * (1.0 + expected.abs()), "{a} vs {expected}");
        }
    }
    // The step moved the weights and the batch-norm statistics: the check compared blends.
    assert!(changed > before.len() / 2, "only {changed} of {} tensors changed", before.len());
    // Models handed out or passed in earlier keep their values (running statistics included).
    assert_eq!(tensors(&first), before);
    assert_eq!(tensors(&after_model), after);
}

#[test]
fn a_soup_is_the_mean_of_its_models_weights_and_running_statistics() {
    let models = models_along_steps(2);
    let parts: Vec<_> = models.iter().map(tensors).collect();
    let soup = average_weights(&models).expect("a soup of three models");
    // Tensors are compared by position, as the soup matches them.
    let by_position: Vec<Vec<Vec<f32>>> =
        models.iter().map(|m| tensors_in_order(m).into_iter().map(|(_, values)| values).collect()).collect();
    let souped: Vec<Vec<f32>> = tensors_in_order(&soup).into_iter().map(|(_, values)| values).collect();
    assert_eq!(souped.len(), by_position[0].len());
    let mut differ = 0;
    for (i, mean) in souped.iter().enumerate() {
        differ += usize::from(by_position[0][i] != by_position[2][i]);
        for (j, m) in mean.iter().enumerate() {
            let expected = by_position.iter().map(|p| p[i][j]).sum::<f32>() / 3.0;
            assert!((m - expected).abs() <= 1e-5 * (1.0 + expected.abs()), "tensor {i}: {m} vs {expected}");
        }
    }
    // The steps moved most tensors, running statistics included: the check compared means.
    assert!(differ > souped.len() / 2, "only {differ} of {} tensors changed", souped.len());
    // The models it was made of keep their values.
    assert_eq!(models.iter().map(tensors).collect::<Vec<_>>(), parts);
    assert!(average_weights(&[]).is_none());
}

/// Every weight of a model by name, batch-norm running statistics left out (a step moves them
/// whatever the learning rate).
fn learnt_weights(model: &Classifier) -> Vec<(String, Vec<f32>)> {
    common::weights_by_name(model)
        .into_iter()
        .filter(|(name, _)| !name.contains("running"))
        .map(|(name, bytes)| (name, bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()))
        .collect()
}

#[test]
fn a_trunk_learning_rate_factor_scales_the_trunks_update_and_leaves_the_heads() {
    let device = Device::ndarray();
    let (images, labels) = tiny_batch();
    let refs: Vec<&Xray> = images.iter().collect();
    let mut one_rate = seeded_trainer(&device, &deterministic_cnn());
    let start = learnt_weights(&one_rate.model());
    let mut slow_trunk = seeded_trainer(&device, &deterministic_cnn()).with_trunk_lr_factor(0.1);
    assert_eq!(learnt_weights(&slow_trunk.model()), start, "both start from the same weights");
    pollster::block_on(one_rate.step(&refs, &labels)).expect("a step at one rate");
    pollster::block_on(slow_trunk.step(&refs, &labels)).expect("a step with a slower trunk");
    let (full, scaled) = (learnt_weights(&one_rate.model()), learnt_weights(&slow_trunk.model()));

    // Adam's first update is the rate times m/(√v + ε), the same for both runs: the trunk's
    // moves a tenth as far, the head's (the seed CNN's dense layers) as far.
    let (mut trunk_moved, mut head_moved) = (0, 0);
    for (((name, w0), (_, w1)), (_, w2)) in start.iter().zip(&full).zip(&scaled) {
        let head = name.contains(".hidden.") || name.contains(".output.");
        let factor = if head { 1.0 } else { 0.1 };
        for ((a, b), c) in w0.iter().zip(w1).zip(w2) {
            let (full_step, scaled_step) = (b - a, c - a);
            assert!((scaled_step - factor * full_step).abs() <= 1e-6, "{name}: {scaled_step} vs {factor} × {full_step}");
        }
        let moved = w0.iter().zip(w1).any(|(a, b)| (b - a).abs() > 1e-5);
        if head {
            head_moved += usize::from(moved);
        } else {
            trunk_moved += usize::from(moved);
        }
    }
    assert!(trunk_moved >= 4 && head_moved >= 2, "the step moved {trunk_moved} trunk and {head_moved} head tensors");
}

/// Stochastic depth draws a mask per trainable residual block in every step, from the device's
/// generator that also draws the fresh head; runs that freeze different numbers of blocks, with
/// or without it, must still start from one head, or their weights cannot be averaged into a
/// soup. With a learning rate of 0 the head a run keeps is the one it started from.
#[test]
fn runs_start_from_one_head_whatever_they_freeze_and_drop() {
    use bone_fracture::data::LabelledXray;
    use bone_fracture::store::pytorch::{default_pth_path, efficientnet_from_pth, Head};
    use bone_fracture::train::{fit, Keep, Trainable};

    let items = common::labelled_xrays(&[0, 3, 7]);
    let items: Vec<&LabelledXray> = items.iter().collect();
    let device = Device::flex();
    let starting_head = |frozen: usize, drop_path: f64| {
        let mut config = TrainingConfig::new(Architecture::efficientnet_lite0(), SplitKind::Group);
        (config.epochs, config.batch_size, config.learning_rate) = (1, 3, 0.0);
        (config.trainable, config.keep, config.drop_path) = (Trainable::AfterBlock(frozen), Keep::Last, drop_path);
        let network = efficientnet_from_pth(&default_pth_path(), Head::Fresh, &device).expect("the ImageNet weights load");
        let outcome =
            pollster::block_on(fit(&config, Classifier::EfficientNet(network), &items, &items, &device, &mut ())).expect("a run");
        // The classifier's weight and bias come last in module order.
        tensors_in_order(&outcome.model).into_iter().rev().take(2).map(|(_, values)| values).collect::<Vec<_>>()
    };
    let shipped = starting_head(11, 0.0);
    assert_eq!(shipped[1].len(), 1280 * 10, "the classifier's weight");
    for (frozen, drop_path) in [(10, 0.0), (11, 0.8), (10, 0.8)] {
        assert!(starting_head(frozen, drop_path) == shipped, "{frozen} frozen, drop path {drop_path}: another head");
    }
}
