//! The shipped models in `public/models/`: each card matches its weights, the three backends give
//! the same probabilities, the default model is cross-validated and calibrated, and `fracture
//! evaluate --json` scores it with consistent metrics.
//! Fixtures: the committed sample X-rays in `public/samples/` (one per class).

use std::path::{Path, PathBuf};

use bone_fracture::classes::FractureClass;
use bone_fracture::data::{decode_xray, Xray, INPUT_SIZE};
use bone_fracture::store::{load_model_dir, sha256_hex, ModelCard};
use bone_fracture::train::{predict, predict_views, predict_with_heatmap};
use burn::tensor::Device;

const SEED_DIR: &str = "public/models/seed-cnn";

/// `index.json`'s default and every listed model folder.
fn index() -> (String, Vec<PathBuf>) {
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("public/models/index.json").unwrap()).expect("index.json");
    let dirs = index["models"].as_array().expect("a model list").iter();
    let dirs = dirs.map(|m| Path::new("public/models").join(m["path"].as_str().expect("a path"))).collect();
    (index["default"].as_str().expect("a default").to_string(), dirs)
}

fn card(dir: &Path) -> ModelCard {
    ModelCard::from_json(&std::fs::read_to_string(dir.join("model.json")).unwrap()).expect("a valid model.json")
}

fn samples() -> Vec<(FractureClass, PathBuf)> {
    FractureClass::ALL.iter().map(|&c| (c, PathBuf::from(format!("public/samples/{}.jpg", c.slug())))).collect()
}

/// A folder of class folders holding the samples, as `fracture evaluate` reads it.
fn sample_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (class, path) in samples() {
        let class_dir = dir.path().join(class.folder_name());
        std::fs::create_dir_all(&class_dir).expect("class folder");
        std::fs::copy(&path, class_dir.join("sample.jpg")).expect("copy a sample");
    }
    dir
}

#[test]
fn every_card_describes_its_weights() {
    let (default, dirs) = index();
    assert!(dirs.len() >= 2, "the transfer model and the seed CNN are shipped");
    for dir in &dirs {
        let card = card(dir);
        let info = card.weights.as_ref().expect("the shipped card names its weights");
        let bytes = std::fs::read(dir.join(&info.file)).expect("the weights file");
        assert_eq!(sha256_hex(&bytes), info.sha256, "{}", dir.display());
        assert_eq!(bytes.len(), info.bytes, "{}", dir.display());
        assert!(card.metrics.contains_key("group"), "{}: the honest split's metrics", dir.display());
        let rows: Vec<String> = card.comparison.iter().map(|m| format!("{} {:?}", m.model, m.split)).collect();
        let distinct: std::collections::HashSet<_> = rows.iter().collect();
        assert_eq!(distinct.len(), rows.len(), "{}: each compared model and split once", dir.display());
    }
    assert!(dirs.iter().any(|dir| card(dir).id == default), "the default {default} is listed");
}

#[test]
fn the_default_model_is_cross_validated_and_calibrated() {
    let (default, dirs) = index();
    let card = dirs.iter().map(|dir| card(dir)).find(|c| c.id == default).expect("the default's card");
    let cv = card.cross_validation.as_ref().expect("the default's recipe is cross-validated");
    assert_eq!((cv.folds, cv.results.len()), (5, 5), "five group-disjoint folds");
    assert_eq!(cv.results.iter().map(|r| r.test_images).sum::<usize>(), 992, "every image is scored once");
    let calibration = card.calibration.as_ref().expect("a fitted temperature");
    assert!(calibration.temperature > 0.0 && calibration.nll_after <= calibration.nll_before + 1e-9);
    // Its comparison table cites the seed CNN's cross-validation on the same folds.
    let seed = crate::card(Path::new(SEED_DIR));
    let compared = card.cross_validation_comparison.iter().find(|c| c.model == "seed-cnn").expect("the seed CNN's folds");
    assert_eq!(compared.architecture, seed.architecture.name(), "named by its architecture");
    assert_eq!(Some(&compared.cross_validation), seed.answer_cross_validation(), "as the seed CNN's card has it");
    assert_eq!((compared.cross_validation.folds, compared.cross_validation.seed), (cv.folds, cv.seed), "the same folds");
}

#[test]
fn the_seed_cnn_card_keeps_both_splits_and_the_mlp() {
    let card = card(Path::new(SEED_DIR));
    for split in ["group", "random"] {
        let run = card.metrics.get(split).unwrap_or_else(|| panic!("the card has the {split} split's metrics"));
        assert!(run.validation.n > 0 && run.validation.accuracy <= run.validation.top3_accuracy);
    }
    assert!(card.comparison.iter().any(|run| run.model == "mlp"), "the MLP's numbers are there to compare");
}

#[test]
fn ndarray_flex_and_wgpu_give_the_same_probabilities() {
    let xrays: Vec<Xray> =
        samples().iter().map(|(_, path)| decode_xray(&std::fs::read(path).unwrap()).expect("a sample decodes")).collect();
    let refs: Vec<&Xray> = xrays.iter().collect();
    let wgpu_device = Device::wgpu_options().init().expect("a wgpu adapter (Mesa's lavapipe in CI)");
    for dir in index().1 {
        let run = |device: Device| {
            let (_, model) = load_model_dir(&dir, &device).expect("the shipped model loads");
            pollster::block_on(predict(&model, &refs, 4, &device)).expect("prediction")
        };
        #[allow(deprecated)] // ndarray: the page's CPU backend before flex replaced it
        let ndarray = run(Device::ndarray());
        let flex = run(Device::flex());
        let wgpu = run(wgpu_device.clone());
        let d = dir.display();
        for (i, row) in ndarray.iter().enumerate() {
            for c in 0..row.len() {
                assert!(
                    (row[c] - flex[i][c]).abs() < 1e-4,
                    "{d}, image {i}, class {c}: ndarray {} vs flex {}",
                    row[c],
                    flex[i][c]
                );
                assert!(
                    (row[c] - wgpu[i][c]).abs() < 1e-3,
                    "{d}, image {i}, class {c}: ndarray {} vs wgpu {}",
                    row[c],
                    wgpu[i][c]
                );
            }
        }
    }
}

#[test]
fn evaluate_json_scores_the_shipped_model() {
    let data = sample_folder();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fracture"))
        .args(["evaluate", "--model", SEED_DIR, "--json", "--backend", "cpu", "--data"])
        .arg(data.path())
        .output()
        .expect("fracture runs");
    assert!(output.status.success(), "fracture evaluate failed: {}", String::from_utf8_lossy(&output.stderr));
    let metrics: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object on stdout");
    assert_eq!(metrics["n"], 10);
    let confusion: Vec<Vec<u64>> = serde_json::from_value(metrics["confusion"].clone()).expect("confusion matrix");
    assert_eq!(confusion.len(), 10);
    assert!(confusion.iter().all(|row| row.len() == 10 && row.iter().sum::<u64>() == 1), "one image per class");
    let correct: u64 = (0..10).map(|i| confusion[i][i]).sum();
    let accuracy = metrics["accuracy"].as_f64().expect("accuracy");
    assert!((accuracy - correct as f64 / 10.0).abs() < 1e-12, "accuracy {accuracy} vs the confusion's diagonal {correct}");
    assert!(metrics["top3_accuracy"].as_f64().unwrap() >= accuracy);
    assert!(metrics["loss"].as_f64().unwrap().is_finite());
    let per_class = metrics["per_class"].as_array().expect("per-class metrics");
    assert_eq!(per_class.len(), 10);
    assert_eq!(per_class[2]["class"], "Fracture Dislocation");
    assert!(metrics["macro_f1"].as_f64().is_some());
}

#[test]
fn the_default_model_maps_its_evidence_over_a_real_x_ray() {
    let (default, dirs) = index();
    let dir = dirs.iter().find(|dir| card(dir).id == default).expect("the default's folder");
    let device = Device::flex();
    let (_, model) = load_model_dir(dir, &device).expect("the default model loads");
    let xray = decode_xray(&std::fs::read("public/samples/oblique.jpg").unwrap()).expect("a sample decodes");
    let (row, heatmap) = pollster::block_on(predict_with_heatmap(&model, &xray, 1, &device)).expect("prediction");
    let heatmap = heatmap.expect("EfficientNet has a class activation map");
    assert_eq!(heatmap.len(), INPUT_SIZE * INPUT_SIZE, "the map covers the model's input");
    assert!(heatmap.iter().max() > Some(&240), "scaled to its own peak (bilinear, so the cell centre is near, not on, a pixel)");
    let distinct: std::collections::BTreeSet<u8> = heatmap.iter().copied().collect();
    assert!(distinct.len() > 50, "not constant: {} distinct values", distinct.len());
    let plain = pollster::block_on(predict(&model, &[&xray], 1, &device)).expect("prediction");
    assert!(row.iter().zip(&plain[0]).all(|(a, b)| (a - b).abs() < 1e-6), "the same forward pass");

    // Averaged over 8 test-time views: the answer `predict_views` gives, another than the
    // image's alone, with the map of the image itself.
    let (averaged, map) = pollster::block_on(predict_with_heatmap(&model, &xray, 8, &device)).expect("prediction");
    let views = pollster::block_on(predict_views(&model, &[&xray], 8, 32, &device)).expect("prediction");
    assert!(averaged.iter().zip(&views[0]).all(|(a, b)| (a - b).abs() < 1e-5), "{averaged:?} vs {:?}", views[0]);
    assert!(averaged.iter().zip(&row).any(|(a, b)| (a - b).abs() > 1e-3), "the views change the probabilities");
    let map = map.expect("EfficientNet has a class activation map");
    assert_eq!(map.len(), heatmap.len());
    assert!(map.iter().collect::<std::collections::BTreeSet<_>>().len() > 50, "not constant");
    // Where the views keep the first choice, the map is that class's on the image itself: the
    // one-view map. Some sample keeps it (oblique.jpg does not).
    let kept = ["avulsion", "comminuted", "greenstick", "hairline", "pathological", "spiral"].into_iter().find_map(|name| {
        let xray = decode_xray(&std::fs::read(format!("public/samples/{name}.jpg")).unwrap()).expect("a sample decodes");
        let (one, one_map) = pollster::block_on(predict_with_heatmap(&model, &xray, 1, &device)).expect("prediction");
        let (eight, eight_map) = pollster::block_on(predict_with_heatmap(&model, &xray, 8, &device)).expect("prediction");
        (argmax(&one) == argmax(&eight)).then(|| (name, one_map.unwrap(), eight_map.unwrap()))
    });
    let (name, one_map, eight_map) = kept.expect("a sample whose first choice the views keep");
    let moved = one_map.iter().zip(&eight_map).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
    assert!(moved <= 2, "{name}: the map of the same class on the same image moved by {moved}");
    let (_, seed) = load_model_dir(Path::new(SEED_DIR), &device).expect("the seed CNN loads");
    assert!(pollster::block_on(predict_with_heatmap(&seed, &xray, 8, &device)).expect("prediction").1.is_none());
}

/// The page classifies with batch norm folded into the convolutions (`fold_batch_norm`): on
/// every shipped model, with its real running statistics, the logits must not move, and the
/// folded network must have no batch norm left to run.
#[test]
fn folding_batch_norm_keeps_every_shipped_models_logits() {
    let device = Device::flex();
    let images: Vec<Xray> = samples().iter().map(|(_, path)| decode_xray(&std::fs::read(path).unwrap()).unwrap()).collect();
    let input = bone_fracture::data::images_to_tensor(images.iter(), &device);
    for dir in index().1 {
        let (_, model) = load_model_dir(&dir, &device).expect("a shipped model");
        let before = model.forward(input.clone()).into_data().try_to_vec::<f32>().unwrap();
        assert!(format!("{model:?}").contains("BatchNorm"), "{}: no batch norm to fold", dir.display());
        let folded = model.fold_batch_norm();
        let described = format!("{folded:?}");
        assert!(!described.contains("BatchNorm"), "{}: batch norm left after folding", dir.display());
        let after = folded.forward(input.clone()).into_data().try_to_vec::<f32>().unwrap();
        let diff = before.iter().zip(&after).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(diff < 1e-3, "{}: folding moved the logits by {diff}", dir.display());
        assert!(before.iter().any(|v| v.abs() > 0.1), "{}: logits all near zero, the check would be empty", dir.display());
    }
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len()).max_by(|&a, &b| row[a].total_cmp(&row[b])).expect("a non-empty row")
}
