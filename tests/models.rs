//! Output shapes of the models, EfficientNet's split forward pass, and save → load round trips.

// `Device::ndarray` is deprecated in Burn 0.22 in favour of `flex` (the page's CPU backend);
// these checks run on it, the plainest CPU reference.
#![allow(deprecated)]

mod common;

use bone_fracture::data::images_to_tensor;
use bone_fracture::data::SplitKind;
use bone_fracture::model::Architecture;
use bone_fracture::store::{classifier_from_bytes, classifier_from_card, weights_to_bytes, InputSpec, ModelCard, StoreError};
use bone_fracture::train::TrainingConfig;
use burn::prelude::*;

fn batch(n: usize, device: &Device) -> Tensor<4> {
    let xrays: Vec<_> = (0..n).map(common::synthetic_xray).collect();
    images_to_tensor(&xrays, device)
}

#[test]
fn both_models_map_a_batch_to_ten_probabilities() {
    let device = Device::ndarray();
    for architecture in [Architecture::seed_cnn(), Architecture::mlp(), Architecture::efficientnet_lite0()] {
        let model = architecture.init(&device).valid();
        let probabilities = model.probabilities(batch(3, &device));
        assert_eq!(probabilities.dims(), [3, 10], "{}", architecture.name());
        let sums = probabilities.sum_dim(1).into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
    }
}

#[test]
fn parameter_counts_match_the_notebook_models() {
    let device = Device::ndarray();
    // Conv: 3·3·c_in·c_out + c_out; BN: 4·c (γ, β and the running mean and variance, as Keras
    // counts them in "Total params"); dense 57600·100 + 100, 100·10 + 10.
    let cnn = Architecture::seed_cnn().init(&device);
    let convs: usize = [(3, 32), (32, 64), (64, 128), (128, 256)].iter().map(|&(i, o)| 9 * i * o + o + 4 * o).sum();
    assert_eq!(cnn.num_params(), convs + 57_600 * 100 + 100 + 100 * 10 + 10);
    // The MLP's first layer alone has 196608 · 300 weights: about 59 M parameters in all.
    let mlp = Architecture::mlp().init(&device);
    assert!((59_000_000..60_000_000).contains(&mlp.num_params()), "{}", mlp.num_params());
}

#[test]
fn efficientnet_from_a_cached_prefix_is_the_whole_network() {
    let device = Device::ndarray();
    let model = Architecture::efficientnet_lite0().init(&device).valid();
    // EfficientNet-Lite0 without its 1000-class head: 3.4 M weights (and batch-norm statistics).
    assert!((3_300_000..3_500_000).contains(&model.num_params()), "{}", model.num_params());
    let input = batch(2, &device);
    let whole = model.forward(input.clone()).into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    for blocks in [1, 8, 11, 16] {
        let split = model.forward_from(model.prefix(input.clone(), blocks), blocks);
        let split = split.into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
        let worst = whole.iter().zip(&split).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "split after block {blocks}: logits differ by {worst}");
    }
}

#[test]
fn save_then_load_gives_identical_predictions() {
    let device = Device::ndarray();
    let model = Architecture::seed_cnn().init(&device).valid();
    let bytes = weights_to_bytes(&model).unwrap();
    let loaded = classifier_from_bytes(&Architecture::seed_cnn(), &bytes, &device).unwrap();
    // Stored in f16: the first load rounds; after that a round trip changes nothing.
    let again = classifier_from_bytes(&Architecture::seed_cnn(), &weights_to_bytes(&loaded).unwrap(), &device).unwrap();
    let input = batch(4, &device);
    let p = |m: &bone_fracture::model::Classifier| {
        m.probabilities(input.clone()).into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
    };
    let (original, first, second) = (p(&model), p(&loaded), p(&again));
    assert_eq!(first, second, "a loaded model saved and loaded again predicts identically");
    let max_diff = original.iter().zip(&first).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(max_diff < 1e-2, "f16 storage moved a probability by {max_diff}");
}

#[test]
fn wrong_or_damaged_weights_are_refused_with_a_message() {
    let device = Device::ndarray();
    let cnn = Architecture::seed_cnn().init(&device).valid();
    let bytes = weights_to_bytes(&cnn).unwrap();
    let damaged = classifier_from_bytes(&Architecture::seed_cnn(), &bytes[..bytes.len() / 3], &device);
    assert!(matches!(damaged, Err(StoreError::Weights(_))), "{damaged:?}");
    let wrong = classifier_from_bytes(&Architecture::mlp(), &bytes, &device);
    assert!(matches!(wrong, Err(StoreError::Mismatch { .. })), "another network's weights are named as such: {wrong:?}");
    let mut card =
        ModelCard::new("t", "t", &cnn, TrainingConfig::new(Architecture::seed_cnn(), SplitKind::Group), InputSpec::default());
    card.weights = Some(bone_fracture::store::WeightsInfo {
        file: "model.bpk".into(),
        sha256: "0".repeat(64),
        bytes: bytes.len(),
        dtype: "f16".into(),
    });
    let err = classifier_from_card(&card, &bytes, &device).unwrap_err();
    assert!(err.to_string().contains("sha256"), "{err}");
}

#[test]
fn every_architecture_has_a_readable_name() {
    for architecture in [Architecture::seed_cnn(), Architecture::mlp(), Architecture::efficientnet_lite0()] {
        let readable = Architecture::readable(architecture.name());
        assert!(!readable.contains(architecture.name()), "{} reads as {readable}", architecture.name());
    }
    assert_eq!(Architecture::readable("efficientnet-lite0 (soup of 2) · 8 views"), "EfficientNet-Lite0 (soup of 2) · 8 views");
    assert_eq!(Architecture::readable("seed-cnn (fine-tuned)"), "Notebook CNN (fine-tuned)");
    assert_eq!(Architecture::readable("another model"), "another model");
}

/// Which of the batch's samples a block passed through unchanged (its residual branch dropped).
fn unchanged_samples(input: &Tensor<4>, output: Tensor<4>) -> Vec<bool> {
    let [batch, ..] = input.dims();
    let per_sample = |t: Tensor<4>| t.reshape([batch as i32, -1]).into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    let (input, output) = (per_sample(input.clone()), per_sample(output));
    let length = input.len() / batch;
    (0..batch).map(|i| input[i * length..(i + 1) * length] == output[i * length..(i + 1) * length]).collect()
}

#[test]
fn drop_path_drops_whole_samples_residual_branches_only_while_training() {
    use bone_fracture::model::EfficientNetLiteConfig;
    let device = Device::ndarray();
    let training = device.clone().autodiff();
    training.seed(3);
    // Block 12 keeps its shape (192 channels at 1/32 of the side), so it has a residual branch:
    // dropped with probability 0.8 × 12 / 16 = 0.6 per sample.
    let model = EfficientNetLiteConfig::new().init(&training).with_drop_path(0.8);
    let input = Tensor::<4>::random([16, 192, 4, 4], burn::tensor::Distribution::Default, &training);
    let dropped = unchanged_samples(&input, model.trunk(input.clone(), 12..13));
    let count = dropped.iter().filter(|&&d| d).count();
    assert!((1..16).contains(&count), "whole samples dropped, not all or none: {dropped:?}");

    // Frozen, or at inference, every sample runs through the block.
    let frozen = model.clone().freeze_first(13);
    assert!(unchanged_samples(&input, frozen.trunk(input.clone(), 12..13)).iter().all(|&d| !d));
    let inference = model.valid();
    let input = input.inner();
    assert!(unchanged_samples(&input, inference.trunk(input.clone(), 12..13)).iter().all(|&d| !d));
}
