//! CNN training throughput of the shared training step: images per second and peak memory,
//! for one backend per process (so that peak memory is that backend's own).
//!
//! `scripts/bench.sh` runs it for flex, ndarray and wgpu next to Keras and PyTorch. Direct use:
//! `cargo bench --bench train_throughput -- cpu|flex|wgpu [--data DIR] [--steps N]
//! [--model seed-cnn|efficientnet-lite0] [--frozen-blocks N]` (EfficientNet with the stem and
//! its first N blocks frozen; the default trains the whole network).

use std::time::Instant;

use bone_fracture::data::SplitKind;
use bone_fracture::data::{decode_xray, list_class_files, Xray};
use bone_fracture::model::Architecture;
use bone_fracture::model::Classifier;
use bone_fracture::train::{Trainer, TrainingConfig};
use burn::tensor::Device;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let backend = args.first().map(String::as_str).unwrap_or("cpu");
    let option = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let steps: usize = option("--steps").map_or(6, |s| s.parse().expect("--steps takes a number"));
    let device = match backend {
        #[allow(deprecated)] // ndarray: this project's CPU backend (deprecated in Burn 0.22 for flex)
        "cpu" => Device::ndarray(),
        "flex" => Device::flex(),
        "wgpu" => Device::wgpu_options().init().expect("a wgpu adapter"),
        other => panic!("unknown backend {other}; use cpu, flex or wgpu"),
    };
    let architecture = match option("--model").as_deref().unwrap_or("seed-cnn") {
        "seed-cnn" => Architecture::seed_cnn(),
        "efficientnet-lite0" => Architecture::efficientnet_lite0(),
        other => panic!("unknown model {other}; use seed-cnn or efficientnet-lite0"),
    };
    let config = TrainingConfig::new(architecture, SplitKind::Group);
    let images: Vec<Xray> = match option("--data") {
        Some(dir) => first_images(dir.as_ref(), config.batch_size),
        None => (0..config.batch_size).map(|i| noise_image(i as u64)).collect(),
    };
    let labels: Vec<usize> = (0..images.len()).map(|i| i % 10).collect();
    let batch: Vec<&Xray> = images.iter().collect();
    let model: Classifier = match option("--frozen-blocks") {
        Some(n) => config.architecture.init(&device).freeze_first(n.parse().expect("--frozen-blocks takes a number")),
        None => config.architecture.init(&device),
    };
    let mut trainer = Trainer::new(model, &config.adam(), config.learning_rate, &device);
    // The first step compiles kernels and allocates; it is not timed.
    pollster::block_on(trainer.step(&batch, &labels)).expect("warm-up step");
    let start = Instant::now();
    for _ in 0..steps {
        pollster::block_on(trainer.step(&batch, &labels)).expect("training step");
    }
    let seconds = start.elapsed().as_secs_f64();
    let per_second = (steps * batch.len()) as f64 / seconds;
    println!(
        "{backend}\t{}\t{steps}\t{per_second:.2}\t{:.1}\t{}",
        batch.len(),
        seconds / steps as f64 * 1000.0,
        peak_memory_mib().map_or("n/a".into(), |m| format!("{m:.0}"))
    );
}

/// `n` images spread over a folder of class folders. Only these are decoded, so that peak memory
/// is the training step's, not the dataset's.
fn first_images(dir: &std::path::Path, n: usize) -> Vec<Xray> {
    let files = list_class_files(dir).expect("the data folder");
    let stride = (files.len() / n).max(1);
    let images: Vec<Xray> =
        files.iter().step_by(stride).filter_map(|(_, path, _)| decode_xray(&std::fs::read(path).ok()?).ok()).take(n).collect();
    assert_eq!(images.len(), n, "{} holds fewer than {n} readable images", dir.display());
    images
}

/// A deterministic pseudo-random image (used when no data folder is given).
fn noise_image(seed: u64) -> Xray {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let image = image::RgbImage::from_fn(512, 512, |_, _| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let v = (state >> 56) as u8;
        image::Rgb([v, v, v])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).expect("encode");
    decode_xray(&png.into_inner()).expect("decode")
}

/// Peak resident memory of this process (Linux `VmHWM`), in MiB.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
