//! `fracture views` on a model trained here: its card then averages each answer over test-time
//! views, with its temperature and validation scores measured so; `fracture evaluate` applies
//! the same views; `--views 1` goes back to the image alone.

mod common;

use std::path::Path;

use bone_fracture::data::{parse_split_csv, Part, SPLIT_FILE};
use bone_fracture::store::{ModelCard, CARD_FILE};

fn fracture(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fracture")).args(args).output().expect("fracture runs")
}

fn succeeds(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let output = fracture(args);
    assert!(output.status.success(), "fracture {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

fn card(dir: &Path) -> ModelCard {
    ModelCard::from_json(&std::fs::read_to_string(dir.join(CARD_FILE)).expect("model.json")).expect("a card")
}

/// `fracture COMMAND --backend flex --model MODEL --data DATA` and `extra`.
fn on_model(command: &str, model: &Path, data: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&std::ffi::OsStr> = vec![command.as_ref(), "--backend".as_ref(), "flex".as_ref()];
    args.extend(["--model".as_ref(), model.as_os_str(), "--data".as_ref(), data.as_os_str()]);
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    fracture(&args)
}

fn views(model: &Path, data: &Path, count: &str) -> std::process::Output {
    on_model("views", model, data, &["--views", count])
}

/// `fracture evaluate --json` of `model` on `data`.
fn evaluate(model: &Path, data: &Path) -> serde_json::Value {
    let output = on_model("evaluate", model, data, &["--json"]);
    assert!(output.status.success(), "fracture evaluate failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("evaluate's JSON")
}

#[test]
fn views_refit_the_card_and_evaluate_applies_them() {
    let data = common::synthetic_folder(3);
    let runs = tempfile::tempdir().expect("a folder");
    let model = runs.path().join("model");
    let mut train: Vec<&std::ffi::OsStr> =
        ["train", "--model", "cnn", "--epochs", "1", "--batch-size", "8", "--valid-fraction", "0.34", "--backend", "flex"]
            .map(AsRef::as_ref)
            .to_vec();
    train.extend(["--data".as_ref(), data.path().as_os_str(), "--out".as_ref(), model.as_os_str()]);
    succeeds(&train);
    let trained = card(&model);
    assert_eq!(trained.views, 1, "a trained model answers on the image alone");

    // The validation images alone, as a folder `evaluate` can score.
    let split = std::fs::read_to_string(model.join(SPLIT_FILE)).expect("split.csv");
    let valid_dir = runs.path().join("valid");
    for row in parse_split_csv(&split).expect("split.csv").iter().filter(|r| r.part == Part::Valid) {
        let class = valid_dir.join(row.class.folder_name());
        std::fs::create_dir_all(&class).unwrap();
        std::fs::copy(data.path().join(row.class.folder_name()).join(&row.file), class.join(&row.file)).unwrap();
    }

    let output = views(&model, data.path(), "4");
    assert!(output.status.success(), "fracture views failed: {}", String::from_utf8_lossy(&output.stderr));
    let four = card(&model);
    assert_eq!(four.views, 4);
    assert_eq!(four.weights, trained.weights, "the weights are untouched");
    let (run, before) = (&four.metrics["group"].validation, &trained.metrics["group"].validation);
    assert_eq!(run.n, before.n);
    assert_eq!(four.metrics["group"].model, "seed-cnn · 4 views");
    assert!((run.loss - before.loss).abs() > 1e-4, "the views change the answers: {} vs {}", run.loss, before.loss);
    let calibration = four.calibration.as_ref().expect("a temperature");
    assert_eq!(calibration.fitted_on, run.n);
    assert!((calibration.nll_before - run.loss).abs() < 1e-4, "fitted on the averaged answers");
    // evaluate computes the answers as the card now says: the same ranking on the same images.
    let evaluated = evaluate(&model, &valid_dir);
    assert_eq!(evaluated["n"], run.n);
    assert_eq!(evaluated["accuracy"].as_f64(), Some(run.accuracy));
    assert_eq!(evaluated["top3_accuracy"].as_f64(), Some(run.top3_accuracy));

    // Back to the image alone: the training run's scores, up to its f32 weights against the f16 file.
    let output = views(&model, data.path(), "1");
    assert!(output.status.success(), "fracture views failed: {}", String::from_utf8_lossy(&output.stderr));
    let one = card(&model);
    assert_eq!((one.views, one.metrics["group"].model.as_str()), (1, "seed-cnn"));
    let loss = one.metrics["group"].validation.loss;
    assert!((loss - before.loss).abs() < 1e-2, "{loss} vs {}", before.loss);
    assert!(!std::fs::read_to_string(model.join(CARD_FILE)).unwrap().contains("\"views\""), "one view is the default, unwritten");

    let output = views(&model, data.path(), "0");
    assert!(!output.status.success(), "zero views is refused");
}
