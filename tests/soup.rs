//! `fracture soup` on models trained here: the soup is a model folder the page can load, with
//! its own validation scores and temperature on the members' split, a record of its members and
//! their training logs.

mod common;

use std::path::Path;

use bone_fracture::data::{parse_split_csv, Part, SPLIT_FILE};
use bone_fracture::store::{load_model_dir, runs_in_log, LOG_FILE};
use burn::tensor::Device;

fn fracture(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fracture")).args(args).output().expect("fracture runs")
}

fn train(data: &Path, out: &Path, extra: &[&str]) {
    let mut args: Vec<&std::ffi::OsStr> =
        ["train", "--model", "cnn", "--batch-size", "8", "--valid-fraction", "0.34", "--backend", "flex"]
            .map(AsRef::as_ref)
            .to_vec();
    args.extend(["--data".as_ref(), data.as_os_str(), "--out".as_ref(), out.as_os_str()]);
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let output = fracture(&args);
    assert!(output.status.success(), "fracture train failed: {}", String::from_utf8_lossy(&output.stderr));
}

fn soup(data: &Path, models: &[&Path], out: &Path) -> std::process::Output {
    let mut args: Vec<&std::ffi::OsStr> = vec!["soup".as_ref(), "--backend".as_ref(), "flex".as_ref(), "--models".as_ref()];
    args.extend(models.iter().map(|m| m.as_os_str()));
    args.extend(["--data".as_ref(), data.as_os_str(), "--out".as_ref(), out.as_os_str()]);
    fracture(&args)
}

#[test]
fn a_soup_of_trained_models_is_a_model_folder_with_its_own_scores() {
    let data = common::synthetic_folder(3);
    let runs = tempfile::tempdir().expect("a folder");
    let (one, two, other_split) = (runs.path().join("one"), runs.path().join("two"), runs.path().join("other"));
    train(data.path(), &one, &["--epochs", "1"]);
    train(data.path(), &two, &["--epochs", "2"]);
    train(data.path(), &other_split, &["--epochs", "1", "--seed", "7"]);

    let out = runs.path().join("soup");
    let output = soup(data.path(), &[&one, &two], &out);
    assert!(output.status.success(), "fracture soup failed: {}", String::from_utf8_lossy(&output.stderr));
    let device = Device::flex();
    let (card, _) = load_model_dir(&out, &device).expect("the soup loads as a model");
    let (first, _) = load_model_dir(&one, &device).expect("a member");
    assert_eq!(card.averaged_from.iter().map(|t| t.epochs).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(card.training, first.training);
    let split = std::fs::read_to_string(out.join(SPLIT_FILE)).expect("the members' split.csv, copied");
    let valid = parse_split_csv(&split).expect("split.csv").iter().filter(|r| r.part == Part::Valid).count();
    assert_eq!(valid, 10, "one image of each class held out");
    let metrics = &card.metrics["group"];
    assert_eq!((metrics.valid_images, metrics.validation.n), (valid, valid));
    assert!(metrics.validation.loss.is_finite() && card.calibration.as_ref().is_some_and(|c| c.fitted_on == valid));

    // Its log holds each member's epochs, tagged with the member's place in `averaged_from`.
    let log = |dir: &Path| runs_in_log(&std::fs::read_to_string(dir.join(LOG_FILE)).expect("metrics.jsonl"));
    let (own, members) = (log(&one), log(&out));
    assert_eq!(members.iter().map(|(run, epochs)| (*run, epochs.len())).collect::<Vec<_>>(), [(Some(1), 1), (Some(2), 2)]);
    assert_eq!((own.len(), own[0].0), (1, None), "a trained model's log is one untagged run");
    assert_eq!(members[0].1, own[0].1, "the first member's epochs, as it logged them");
    assert_eq!(members[1].1, log(&two)[0].1);

    // A model's soup with itself scores as the model, up to its f32 scores against f16 weights.
    let alone = runs.path().join("alone");
    let output = soup(data.path(), &[&one, &one], &alone);
    assert!(output.status.success(), "fracture soup failed: {}", String::from_utf8_lossy(&output.stderr));
    let (card, _) = load_model_dir(&alone, &device).expect("the soup loads");
    let (loss, own) = (card.metrics["group"].validation.loss, first.metrics["group"].validation.loss);
    assert!((loss - own).abs() < 1e-2, "{loss} vs {own}");

    let output = soup(data.path(), &[&one, &other_split], &runs.path().join("mixed"));
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("was trained on another split"), "{message}");
}

#[test]
fn runs_sharing_an_init_seed_start_from_one_network() {
    let data = common::synthetic_folder(3);
    let runs = tempfile::tempdir().expect("a folder");
    let dir = |name: &str| runs.path().join(name);
    // At learning rate 0 the weights stay as they were drawn; only batch-norm statistics follow
    // the batches, which `--seed` changes.
    let still = ["--epochs", "1", "--lr", "0"];
    train(data.path(), &dir("42"), &still);
    train(data.path(), &dir("43-init-42"), &[&still[..], &["--seed", "43", "--init-seed", "42", "--split-seed", "42"]].concat());
    train(data.path(), &dir("43"), &[&still[..], &["--seed", "43", "--split-seed", "42"]].concat());

    let device = Device::flex();
    let drawn = |name: &str| {
        let (_, model) = load_model_dir(&dir(name), &device).expect("a trained model");
        let mut weights = common::weights_by_name(&model);
        weights.retain(|name, _| !name.contains("running"));
        weights
    };
    let first = drawn("42");
    assert!(first.len() >= 10, "{:?}", first.keys());
    // Compared whole, not printed: a failure would print every byte.
    assert!(drawn("43-init-42") == first, "--init-seed 42 and another --seed drew other first weights");
    assert!(drawn("43") != first, "--seed alone drew the same first weights");
    let split = |name: &str| std::fs::read_to_string(dir(name).join(SPLIT_FILE)).expect("split.csv");
    assert_eq!(split("43-init-42"), split("42"), "--split-seed keeps the split");
    let output = soup(data.path(), &[&dir("42"), &dir("43-init-42")], &dir("soup"));
    assert!(output.status.success(), "fracture soup failed: {}", String::from_utf8_lossy(&output.stderr));
}
