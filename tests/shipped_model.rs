//! The shipped model in `public/models/`: its card matches its weights, the three backends give
//! the same probabilities, and `fracture evaluate --json` scores it with consistent metrics.
//! Fixtures: the committed sample X-rays in `public/samples/` (one per class).

use std::path::{Path, PathBuf};

use bone_fracture::classes::FractureClass;
use bone_fracture::data::{decode_xray, Xray};
use bone_fracture::store::{load_model_dir, sha256_hex, ModelCard};
use bone_fracture::train::predict;
use burn::tensor::Device;

const MODEL_DIR: &str = "public/models/seed-cnn";

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
fn the_card_describes_these_weights_and_all_runs() {
    let card = ModelCard::from_json(&std::fs::read_to_string(Path::new(MODEL_DIR).join("model.json")).unwrap())
        .expect("a valid model.json");
    let info = card.weights.as_ref().expect("the shipped card names its weights");
    let bytes = std::fs::read(Path::new(MODEL_DIR).join(&info.file)).expect("the weights file");
    assert_eq!(sha256_hex(&bytes), info.sha256);
    assert_eq!(bytes.len(), info.bytes);
    for split in ["group", "random"] {
        let run = card.metrics.get(split).unwrap_or_else(|| panic!("the card has the {split} split's metrics"));
        assert!(run.validation.n > 0 && run.validation.accuracy <= run.validation.top3_accuracy);
    }
    assert!(card.comparison.iter().any(|run| run.model == "mlp"), "the MLP's numbers are there to compare");
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("public/models/index.json").unwrap()).expect("index.json");
    assert_eq!(index["default"], card.id.as_str());
}

#[test]
fn ndarray_flex_and_wgpu_give_the_same_probabilities() {
    let xrays: Vec<Xray> =
        samples().iter().map(|(_, path)| decode_xray(&std::fs::read(path).unwrap()).expect("a sample decodes")).collect();
    let refs: Vec<&Xray> = xrays.iter().collect();
    let run = |device: Device| {
        let (_, model) = load_model_dir(Path::new(MODEL_DIR), &device).expect("the shipped model loads");
        pollster::block_on(predict(&model, &refs, 4, &device)).expect("prediction")
    };
    #[allow(deprecated)] // ndarray: the page's CPU backend
    let ndarray = run(Device::ndarray());
    let flex = run(Device::flex());
    let wgpu = run(Device::wgpu_options().init().expect("a wgpu adapter (Mesa's lavapipe in CI)"));
    for (i, row) in ndarray.iter().enumerate() {
        for c in 0..row.len() {
            assert!((row[c] - flex[i][c]).abs() < 1e-4, "image {i}, class {c}: ndarray {} vs flex {}", row[c], flex[i][c]);
            assert!((row[c] - wgpu[i][c]).abs() < 1e-3, "image {i}, class {c}: ndarray {} vs wgpu {}", row[c], wgpu[i][c]);
        }
    }
}

#[test]
fn evaluate_json_scores_the_shipped_model() {
    let data = sample_folder();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fracture"))
        .args(["evaluate", "--model", MODEL_DIR, "--json", "--backend", "cpu", "--data"])
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
