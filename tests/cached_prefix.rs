//! The frozen prefix's cache feeds the network what running it would: its first view is the
//! image's own prefix output, predictions through it match the whole network's, and the
//! prediction averaged over its views is the mean of each view's.

mod common;

use bone_fracture::data::LabelledXray;
use bone_fracture::model::Classifier;
use bone_fracture::store::pytorch::{default_pth_path, efficientnet_from_pth, Head};
use bone_fracture::train::{predict, predict_averaged_views, predict_source, Cached, Source};
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

const FIRST_BLOCK: usize = 11;

fn max_difference(a: &[[f32; 10]], b: &[[f32; 10]]) -> f32 {
    a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn cached_views_stand_in_for_the_frozen_blocks() {
    let device = Device::flex();
    device.seed(3);
    // ImageNet's trunk, so that different views give different features and predictions.
    let network = efficientnet_from_pth(&default_pth_path(), Head::Fresh, &device).expect("the ImageNet weights load");
    let model = Classifier::EfficientNet(network).valid();
    let items = common::labelled_xrays(&[0, 3, 7]);
    let refs: Vec<&LabelledXray> = items.iter().collect();
    let mut rng = StdRng::seed_from_u64(5);
    let cache = pollster::block_on(Cached::build(&model, &refs, FIRST_BLOCK, 3, &mut rng, 2, &device)).expect("a cache");
    assert_eq!((cache.len(), cache.view_count(), cache.first_block()), (3, 3, FIRST_BLOCK));

    // View 0 is each image's own prefix output.
    let xrays: Vec<_> = items.iter().map(|i| &i.xray).collect();
    let direct = model.prefix(bone_fracture::data::images_to_tensor(xrays.iter().copied(), &device), FIRST_BLOCK);
    let cached = cache.batch(&[0, 1, 2], None, &device);
    let gap: f32 = (direct - cached).abs().max().into_scalar();
    assert!(gap < 1e-5, "view 0 differs from the prefix by {gap}");

    // Predicting through the cache is predicting the images.
    let whole = pollster::block_on(predict(&model, &xrays, 2, &device)).expect("predictions");
    let through_cache = pollster::block_on(predict_source(&model, &cache, 2, &device)).expect("predictions");
    assert!(max_difference(&whole, &through_cache) < 1e-5);

    // Averaging over views is the mean of each view's probabilities, and the augmented views
    // are not copies of the image.
    let per_view: Vec<_> =
        (0..3).map(|v| pollster::block_on(predict_source(&model, &cache.view(v), 2, &device)).expect("predictions")).collect();
    assert!(max_difference(&per_view[0], &per_view[1]) > 1e-6, "view 1 predicts as view 0");
    let mean: Vec<[f32; 10]> =
        (0..3).map(|i| std::array::from_fn(|c| per_view.iter().map(|rows| rows[i][c]).sum::<f32>() / 3.0)).collect();
    let averaged = pollster::block_on(predict_averaged_views(&model, &cache, 2, &device)).expect("predictions");
    assert!(max_difference(&mean, &averaged) < 1e-6);
}
