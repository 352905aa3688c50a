//! Fine-tuning (the page's run, also `fracture finetune`): the split, the before/after scores,
//! head-only freezing, a loss that explodes, and saving weights from any device.

#![allow(deprecated)] // `Device::ndarray`, deprecated in Burn 0.22 for flex (the page's CPU backend)
//!
//! The runs use flex, the fastest CPU backend natively; the page's backends share the step
//! (`tests/training_step.rs` compares them).

mod common;

use bone_fracture::classes::FractureClass;
use bone_fracture::data::{LabelledXray, SplitKind};
use bone_fracture::model::{Architecture, Classifier};
use bone_fracture::store::{classifier_from_bytes, weights_to_bytes, weights_to_bytes_async};
use bone_fracture::train::{fine_tune, held_out_split, predict, FineTuneOptions, Keep, Trainable, TrainingConfig};
use burn::prelude::*;

/// Three synthetic images of each class; the two of a class with an even index share a group.
fn images() -> Vec<LabelledXray> {
    FractureClass::ALL
        .iter()
        .flat_map(|&class| {
            (0..3).map(move |i| LabelledXray {
                xray: common::synthetic_xray(class.index()),
                class,
                group: format!("{}-{}", class.slug(), i % 2),
                file: format!("{}-{i}.png", class.slug()),
            })
        })
        .collect()
}

fn options(trainable: Trainable) -> FineTuneOptions {
    FineTuneOptions { trainable, epochs: 2, batch_size: 8, learning_rate: 1e-3, augment: false, valid_fraction: 0.3, seed: 3 }
}

fn base_model(device: &Device) -> (Classifier, TrainingConfig) {
    let architecture = Architecture::seed_cnn();
    device.seed(11);
    let fresh = architecture.init(device);
    // Through the weights format, as a shipped model arrives.
    let bytes = weights_to_bytes(&fresh).expect("serialising");
    let model = classifier_from_bytes(&architecture, &bytes, device).expect("loading");
    // Trained with settings for a long run on many images: a moving average, the last epoch
    // kept, a slower trunk.
    let mut config = TrainingConfig::new(architecture, SplitKind::Group);
    config.weight_average = 0.99;
    config.keep = Keep::Last;
    config.trunk_lr_factor = 0.1;
    (model, config)
}

#[test]
fn head_only_run_scores_the_same_held_out_images_before_and_after_and_freezes_the_convolutions() {
    let device = Device::flex();
    let (base, config) = base_model(&device);
    let images = images();
    let tuned =
        pollster::block_on(fine_tune(&base, &config, &images, &options(Trainable::Head), &device, &mut ())).expect("fine-tuning");
    let report = &tuned.report;
    assert_eq!(report.train_images + report.valid_images, images.len());
    let announced = held_out_split(&images, &options(Trainable::Head));
    assert_eq!(
        (announced.train.len(), announced.valid.len()),
        (report.train_images, report.valid_images),
        "the counts announced up front"
    );
    assert!(report.valid_images >= 5, "about 30 % held out, got {}", report.valid_images);
    assert!(report.grouped, "the fixture's images share groups");
    assert_eq!(report.history.len(), 2);
    assert!(!report.stopped && report.halted.is_none());
    let (before, after) = (report.before.as_ref().expect("scored before"), report.after.as_ref().expect("scored after"));
    assert_eq!((before.n, after.n), (report.valid_images, report.valid_images));
    // The held-out list is the validation part: labels match the images it points to, and no
    // group of it was trained on.
    for item in &report.held_out {
        assert_eq!(images[item.index].class.index(), item.actual);
    }
    let valid_groups: Vec<&str> = report.held_out.iter().map(|h| images[h.index].group.as_str()).collect();
    let held: std::collections::HashSet<usize> = report.held_out.iter().map(|h| h.index).collect();
    for (i, image) in images.iter().enumerate() {
        if !held.contains(&i) {
            assert!(!valid_groups.contains(&image.group.as_str()), "group {} on both sides", image.group);
        }
    }
    assert_eq!(tuned.config.trainable, Trainable::Head);
    assert_eq!(
        (tuned.config.keep, tuned.config.weight_average, tuned.config.trunk_lr_factor),
        (Keep::BestValidation, 0.0, 1.0),
        "fine-tuning keeps its best epoch, whatever the base was trained with"
    );

    let (old, new) = (common::weights_by_name(&base), common::weights_by_name(&tuned.model));
    assert_eq!(old.keys().collect::<Vec<_>>(), new.keys().collect::<Vec<_>>());
    for (name, values) in &old {
        let changed = values != &new[name];
        let head = name.contains(".hidden.") || name.contains(".output.");
        assert_eq!(changed, head, "{name}: changed {changed}, but it is {}in the head", if head { "" } else { "not " });
    }
}

#[test]
fn whole_network_run_lowers_the_training_loss() {
    let device = Device::flex();
    let (base, config) = base_model(&device);
    let mut opts = options(Trainable::Whole);
    opts.epochs = 3;
    let tuned = pollster::block_on(fine_tune(&base, &config, &images(), &opts, &device, &mut ())).expect("fine-tuning");
    let losses: Vec<f64> = tuned.report.history.iter().map(|e| e.train_loss).collect();
    assert!(losses[2] < losses[0], "training loss by epoch: {losses:?}");
    assert_ne!(
        common::weights_by_name(&base)["SeedCnn.blocks.0.conv.weight"],
        common::weights_by_name(&tuned.model)["SeedCnn.blocks.0.conv.weight"]
    );
}

#[test]
fn an_exploding_loss_ends_the_run_with_a_reason_and_keeps_the_starting_model() {
    let device = Device::flex();
    let (base, config) = base_model(&device);
    let mut opts = options(Trainable::Whole);
    opts.learning_rate = 1e12;
    let tuned = pollster::block_on(fine_tune(&base, &config, &images(), &opts, &device, &mut ())).expect("fine-tuning");
    let reason = tuned.report.halted.as_deref().expect("the run must stop on a NaN or infinite loss");
    assert!(reason.contains("lower learning rate"), "{reason}");
    assert_eq!(tuned.report.best_epoch, 0);
    assert_eq!(common::weights_by_name(&base), common::weights_by_name(&tuned.model), "the starting weights are kept");
}

#[test]
fn weights_read_back_asynchronously_from_wgpu_are_the_same_file() {
    let gpu = Device::wgpu_options().init().expect("a wgpu adapter (Mesa's lavapipe is enough)");
    let cpu = Device::ndarray();
    let (model, config) = base_model(&cpu);
    let bytes = weights_to_bytes(&model).expect("serialising on the CPU");
    let on_gpu = classifier_from_bytes(&config.architecture, &bytes, &gpu).expect("loading on wgpu");
    let from_gpu = pollster::block_on(weights_to_bytes_async(&on_gpu, &config.architecture)).expect("reading back");
    assert_eq!(from_gpu.len(), bytes.len());
    let reloaded = classifier_from_bytes(&config.architecture, &from_gpu, &cpu).expect("loading the saved file");
    // Every weight, batch-norm statistics included, comes back bit for bit (only the ids that
    // batch norm draws for its running statistics differ between files).
    assert_eq!(common::weights_by_name(&reloaded), common::weights_by_name(&model));
    let xray = common::synthetic_xray(4);
    let a = pollster::block_on(predict(&model, &[&xray], 1, &cpu)).expect("predicting");
    let b = pollster::block_on(predict(&reloaded, &[&xray], 1, &cpu)).expect("predicting");
    assert_eq!(a, b, "identical predictions after saving and loading back");
}
