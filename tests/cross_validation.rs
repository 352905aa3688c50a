//! `fracture cv` end to end on a small generated folder: every image is scored exactly once, by a
//! model that never trained on it; the summary is the folds' mean; the cached-prefix path of
//! transfer learning runs the same way as the plain one, and also scores the fold averaged over
//! its cached views; every epoch's score on the fold is logged, the kept one as the fold's; each
//! fold's answers and model are saved, and `fracture combine` scores ensembles and soups of runs
//! from them.

mod common;

use bone_fracture::store::{load_model_dir, ModelCard};
use bone_fracture::train::{Calibration, CrossValidation, Evaluation, Prediction, PredictionPart};
use bone_fracture::NUM_CLASSES;
use burn::tensor::Device;
use std::path::Path;

/// A finished `fracture cv` run: its summary, each fold's `held-out.jsonl` and
/// `predictions.jsonl` lines, and its output folder.
struct Run {
    cv: CrossValidation,
    held_out: Vec<Vec<serde_json::Value>>,
    predictions: Vec<Vec<Prediction>>,
    out: tempfile::TempDir,
}

fn json_lines<T: serde::de::DeserializeOwned>(path: &Path) -> Vec<T> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
}

/// Each of the three folds' lines of `file`.
fn fold_lines<T: serde::de::DeserializeOwned>(out: &Path, file: &str) -> Vec<Vec<T>> {
    (1..=3).map(|fold| json_lines(&out.join(format!("fold-{fold}/{file}")))).collect()
}

/// `fracture cv` with three folds on a generated folder of three images per class.
fn cv(args: &[&str]) -> Run {
    cv_on(common::synthetic_folder(3).path(), args)
}

fn cv_on(data: &Path, args: &[&str]) -> Run {
    let out = tempfile::tempdir().expect("an output folder");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fracture"))
        .args(["cv", "--folds", "3", "--batch-size", "8", "--backend", "flex", "--data"])
        .arg(data)
        .arg("--out")
        .arg(out.path())
        .args(args)
        .output()
        .expect("fracture runs");
    assert!(output.status.success(), "fracture cv {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("top-1") && text.contains("3 of 3 folds"), "the summary is printed: {text}");
    let json = std::fs::read_to_string(out.path().join("cv.json")).expect("cv.json");
    Run {
        cv: serde_json::from_str(&json).expect("cv.json parses"),
        held_out: fold_lines(out.path(), "held-out.jsonl"),
        predictions: fold_lines(out.path(), "predictions.jsonl"),
        out,
    }
}

/// The rows of `part`, and their labels.
fn rows(predictions: &[Prediction], part: PredictionPart) -> (Vec<[f32; NUM_CLASSES]>, Vec<usize>) {
    predictions.iter().filter(|p| p.part == part).map(|p| (p.probabilities, p.label)).unzip()
}

/// JSON keeps an f64 to within its last bit.
fn assert_close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{a} vs {b}");
}

/// The same scores, read back from JSON.
fn assert_same(a: &Evaluation, b: &Evaluation) {
    assert_eq!((a.n, &a.confusion), (b.n, &b.confusion));
    for (x, y) in [(a.accuracy, b.accuracy), (a.top3_accuracy, b.top3_accuracy), (a.loss, b.loss), (a.macro_f1, b.macro_f1)] {
        assert_close(x, y);
    }
}

fn check(run: &Run, epochs: usize) {
    let cv = &run.cv;
    assert_eq!(cv.results.len(), 3);
    for ((r, lines), predictions) in cv.results.iter().zip(&run.held_out).zip(&run.predictions) {
        assert_eq!(lines.len(), epochs, "fold {}: one line per epoch", r.fold);
        let kept = &lines[r.best_epoch - 1];
        assert_eq!(kept["top1"].as_f64(), Some(r.raw.accuracy), "fold {}: the kept epoch's line is the fold's score", r.fold);
        assert_eq!(kept["loss"].as_f64(), Some(r.raw.loss));
        // The saved answers are the ones the fold was scored with, and those that fitted its
        // temperature; the saved model is the kept one, with that temperature.
        let (test, labels) = rows(predictions, PredictionPart::Test);
        assert_same(&Evaluation::from_probabilities(&test, &labels), &r.raw);
        let (valid, labels) = rows(predictions, PredictionPart::InnerValid);
        assert_eq!(valid.len(), r.inner_valid_images);
        assert_close(Calibration::fit(&valid, &labels).temperature, r.calibration.temperature);
        let dir = run.out.path().join(format!("fold-{}", r.fold));
        let (card, _) = load_model_dir(&dir, &Device::flex()).expect("the fold's model");
        assert_eq!(card.calibration.as_ref(), Some(&r.calibration));
    }
    assert_eq!(cv.results.iter().map(|r| r.test_images).sum::<usize>(), 30, "each image is scored once");
    for r in &cv.results {
        assert_eq!(r.train_images + r.inner_valid_images + r.test_images, 30, "fold {}: the parts cover the data", r.fold);
        assert_eq!(r.raw.n, r.test_images);
        assert!(r.calibration.temperature > 0.0 && r.calibrated_ece.is_finite());
    }
    let mean = cv.results.iter().map(|r| r.raw.accuracy).sum::<f64>() / 3.0;
    assert!((cv.top1.mean - mean).abs() < 1e-12, "the summary is the folds' mean");
}

#[test]
fn the_seed_cnn_recipe_is_cross_validated() {
    check(&cv(&["--model", "cnn", "--epochs", "1"]), 1);
}

#[test]
fn transfer_learning_from_a_cached_prefix_is_cross_validated() {
    let run = cv(&[
        "--model",
        "efficientnet",
        "--epochs",
        "1",
        "--frozen-blocks",
        "15",
        "--augment",
        "--cache-views",
        "2",
        "--cache-blocks",
        "14",
    ]);
    assert!(run.cv.recipe.contains("efficientnet-lite0") && run.cv.recipe.contains("cached views: 2"), "{}", run.cv.recipe);
    check(&run, 1);
    for r in &run.cv.results {
        let averaged = r.averaged_views.as_ref().expect("the fold scored over its cached views");
        assert_eq!((averaged.views, averaged.raw.n), (2, r.test_images));
        assert!(averaged.raw.loss.is_finite());
    }
}

#[test]
fn a_fixed_length_run_keeps_its_last_epoch_and_its_weight_average() {
    let run = cv(&["--model", "cnn", "--epochs", "3", "--keep", "last", "--weight-average", "0.9"]);
    assert!(run.cv.recipe.contains("weight average 0.9 · keep Last"), "{}", run.cv.recipe);
    check(&run, 3);
    assert!(run.cv.results.iter().all(|r| r.best_epoch == 3), "every fold keeps epoch 3");
}

/// `fracture combine` over `runs`; its `combine.json`.
fn combine(runs: &[&Run], extra: &[&std::ffi::OsStr]) -> std::process::Output {
    let out = tempfile::tempdir().expect("an output folder");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fracture"));
    command.args(["combine", "--backend", "flex", "--runs"]).args(runs.iter().map(|r| r.out.path()));
    command.arg("--out").arg(out.path()).args(extra);
    let mut output = command.output().expect("fracture runs");
    if output.status.success() {
        output.stdout = std::fs::read(out.path().join("combine.json")).expect("combine.json");
    }
    output
}

#[test]
fn runs_on_the_same_folds_combine_into_an_ensemble_and_a_soup() {
    let data = common::synthetic_folder(3);
    let (one, two) =
        (cv_on(data.path(), &["--model", "cnn", "--epochs", "1"]), cv_on(data.path(), &["--model", "cnn", "--epochs", "2"]));
    let output = combine(&[&one, &two], &["--soup".as_ref(), "--data".as_ref(), data.path().as_os_str()]);
    assert!(output.status.success(), "fracture combine failed: {}", String::from_utf8_lossy(&output.stderr));
    let combined: serde_json::Value = serde_json::from_slice(&output.stdout).expect("combine.json parses");
    let ensemble: CrossValidation = serde_json::from_value(combined["ensemble"].clone()).expect("an ensemble");
    // Each fold of the ensemble is the two runs' answers averaged, calibrated on the inner
    // validation images.
    for (fold, r) in ensemble.results.iter().enumerate() {
        let mean = |part| {
            let ((a, labels), (b, _)) = (rows(&one.predictions[fold], part), rows(&two.predictions[fold], part));
            let rows: Vec<[f32; NUM_CLASSES]> =
                a.iter().zip(&b).map(|(a, b)| std::array::from_fn(|c| a[c] / 2.0 + b[c] / 2.0)).collect();
            (rows, labels)
        };
        let (test, labels) = mean(PredictionPart::Test);
        assert_same(&r.raw, &Evaluation::from_probabilities(&test, &labels));
        let (valid, labels) = mean(PredictionPart::InnerValid);
        assert_close(r.calibration.temperature, Calibration::fit(&valid, &labels).temperature);
        assert_ne!(test, rows(&one.predictions[fold], PredictionPart::Test).0, "the runs differ: a real average");
    }
    let soup: CrossValidation = serde_json::from_value(combined["soup"].clone()).expect("a soup");
    assert_eq!(soup.results.iter().map(|r| r.raw.n).sum::<usize>(), 30, "the soup scores every image once");
    assert!(soup.loss.mean.is_finite() && soup.results.iter().all(|r| r.calibration.temperature > 0.0));

    // A run's soup with itself is that run, up to the saved weights' f16 rounding: the saved
    // models are the folds' kept ones, and the soup finds every image.
    let output = combine(&[&one, &one], &["--soup".as_ref(), "--data".as_ref(), data.path().as_os_str()]);
    assert!(output.status.success(), "fracture combine failed: {}", String::from_utf8_lossy(&output.stderr));
    let combined: serde_json::Value = serde_json::from_slice(&output.stdout).expect("combine.json parses");
    let soup: CrossValidation = serde_json::from_value(combined["soup"].clone()).expect("a soup");
    for (alone, souped) in one.cv.results.iter().zip(&soup.results) {
        assert!(
            (alone.raw.loss - souped.raw.loss).abs() < 1e-2,
            "fold {}: {} vs {}",
            alone.fold,
            alone.raw.loss,
            souped.raw.loss
        );
    }
}

#[test]
fn only_runs_on_the_same_folds_combine() {
    let data = common::synthetic_folder(3);
    let run = cv_on(data.path(), &["--model", "cnn", "--epochs", "1"]);
    let other = cv_on(data.path(), &["--model", "cnn", "--epochs", "1", "--seed", "7"]);
    let output = combine(&[&run, &other], &[]);
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("the runs' folds differ"), "{message}");

    // Another training seed on the default seed's folds.
    let reseeded = cv_on(data.path(), &["--model", "cnn", "--epochs", "1", "--seed", "7", "--split-seed", "42"]);
    assert!(reseeded.cv.recipe.ends_with("seed 7 · folds drawn with seed 42"), "{}", reseeded.cv.recipe);
    let same_images = |a: &Run, b: &Run| {
        a.predictions.iter().zip(&b.predictions).all(|(x, y)| x.iter().map(|p| &p.file).eq(y.iter().map(|p| &p.file)))
    };
    assert!(same_images(&run, &reseeded) && !same_images(&run, &other));
    let output = combine(&[&run, &reseeded], &[]);
    assert!(output.status.success(), "fracture combine failed: {}", String::from_utf8_lossy(&output.stderr));
    // The combination's recipe is the first run's, then what the other changed.
    let combined: serde_json::Value = serde_json::from_slice(&output.stdout).expect("combine.json parses");
    let expected = format!("ensemble of {} + the same with seed 7 · folds drawn with seed 42", run.cv.recipe);
    assert_eq!(combined["ensemble"]["recipe"], expected.as_str());
}

#[test]
fn one_model_per_fold_is_scored_over_test_time_views() {
    let data = common::synthetic_folder(3);
    let run = cv_on(data.path(), &["--model", "cnn", "--epochs", "1"]);
    // One summary per `--views` count, in the order given.
    let scored_each = |runs: &[&Run], counts: &[&str], soup: bool| -> Vec<CrossValidation> {
        let mut extra = vec!["--data".as_ref(), data.path().as_os_str(), "--views".as_ref()];
        extra.extend(counts.iter().map(std::ffi::OsStr::new));
        if soup {
            extra.push("--soup".as_ref());
        }
        let output = combine(runs, &extra);
        assert!(output.status.success(), "fracture combine failed: {}", String::from_utf8_lossy(&output.stderr));
        let combined: serde_json::Value = serde_json::from_slice(&output.stdout).expect("combine.json parses");
        serde_json::from_value(combined["views"].clone()).expect("the views' cross-validations")
    };
    let scored = |runs: &[&Run], views: &str, soup: bool| scored_each(runs, &[views], soup).remove(0);
    // One view is the image alone: the run's own scores, up to the saved weights' f16 rounding.
    let alone = scored(&[&run], "1", false);
    for (cv, again) in run.cv.results.iter().zip(&alone.results) {
        assert_eq!((cv.fold, cv.raw.n, cv.inner_valid_images), (again.fold, again.raw.n, again.inner_valid_images));
        assert!((cv.raw.loss - again.raw.loss).abs() < 1e-2, "{} vs {}", cv.raw.loss, again.raw.loss);
    }
    // Three views answer otherwise, calibrated on the inner validation images' averages.
    let three = scored(&[&run], "3", false);
    assert!(three.recipe.ends_with("each answer averaged over 3 test-time views"), "{}", three.recipe);
    assert_eq!((alone.views, three.views, run.cv.views), (Some(1), Some(3), None));
    assert!(alone.results.iter().zip(&three.results).any(|(a, b)| (a.raw.loss - b.raw.loss).abs() > 1e-4));
    for result in &three.results {
        assert!(result.calibration.fitted_on == result.inner_valid_images && result.calibrated_ece.is_finite());
    }
    // Several counts from one pass over the largest: each as its own call scores it.
    let both = scored_each(&[&run], &["3", "1"], false);
    assert_eq!(both.iter().map(|cv| cv.views).collect::<Vec<_>>(), [Some(3), Some(1)]);
    for (together, apart) in both.iter().zip([&three, &alone]) {
        for (a, b) in together.results.iter().zip(&apart.results) {
            assert!(
                (a.raw.loss - b.raw.loss).abs() < 1e-5 && a.raw.accuracy == b.raw.accuracy,
                "{} vs {}",
                a.raw.loss,
                b.raw.loss
            );
            assert!((a.calibration.temperature - b.calibration.temperature).abs() < 1e-4);
        }
    }
    // The soup of a run with itself is the run's own model.
    let souped = scored(&[&run, &run], "3", true);
    let expected = format!("soup (weights averaged) of {} + the same recipe again", run.cv.recipe);
    assert_eq!(souped.recipe, format!("{expected} · each answer averaged over 3 test-time views"));
    for (a, b) in three.results.iter().zip(&souped.results) {
        assert!((a.raw.loss - b.raw.loss).abs() < 1e-5 && a.raw.accuracy == b.raw.accuracy, "{} vs {}", a.raw.loss, b.raw.loss);
    }
    // Several runs' answers over views would be an ensemble of N models × views: not offered.
    let output = combine(&[&run, &run], &["--data".as_ref(), data.path().as_os_str(), "--views".as_ref(), "3".as_ref()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("add --soup"));

    // `fracture publish` keeps the views' cross-validation in a card that answers over as many
    // views, and refuses one of another count. Given no --runs, it keeps the card's comparisons.
    let card = publish(&run, &three, 3).expect("publish keeps the views' cross-validation");
    assert_eq!(card.cross_validation.expect("the run's cross-validation").results, run.cv.results);
    assert_eq!(card.cross_validation_views, Some(three.clone()));
    assert_eq!(card.comparison, seed_cnn_comparison(), "the card's comparisons, kept");
    let refused = publish(&run, &three, 8);
    assert!(refused.unwrap_err().contains("averages 3 test-time view(s) per answer but the card answers over 8"));
    let refused = publish(&run, &alone, 1);
    assert!(refused.unwrap_err().contains("answers from the image alone: --cv-views is for a card that averages"));
}

/// The shipped seed CNN's comparison runs (the MLP's), as a card's to keep.
fn seed_cnn_comparison() -> Vec<bone_fracture::store::RunMetrics> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("public/models/seed-cnn/model.json");
    let card = ModelCard::from_json(&std::fs::read_to_string(path).expect("the seed CNN's card")).expect("a card");
    assert!(!card.comparison.is_empty(), "the seed CNN's card compares it with the MLP");
    card.comparison
}

/// `fracture publish --cv --cv-views` on a copy of `run`'s first fold model whose card answers
/// over `card_views` views: the card it wrote, or the command's message.
fn publish(run: &Run, views: &CrossValidation, card_views: usize) -> Result<ModelCard, String> {
    let folder = tempfile::tempdir().expect("a folder");
    let views_path = folder.path().join("views.json");
    std::fs::write(&views_path, serde_json::to_string(views).expect("json")).expect("views.json");
    publish_with(run, card_views, &["--cv-views".as_ref(), views_path.as_os_str()])
}

/// `fracture publish --cv` and `extra` on a copy of `run`'s first fold model whose card answers
/// over `card_views` views and compares itself with the seed CNN's runs.
fn publish_with(run: &Run, card_views: usize, extra: &[&std::ffi::OsStr]) -> Result<ModelCard, String> {
    let shipped = tempfile::tempdir().expect("a models folder");
    let model = shipped.path().join("fold-1");
    std::fs::create_dir_all(&model).expect("a model folder");
    for file in ["model.json", "model.bpk"] {
        std::fs::copy(run.out.path().join("fold-1").join(file), model.join(file)).expect("the fold model copies");
    }
    let card_path = model.join("model.json");
    let mut card = ModelCard::from_json(&std::fs::read_to_string(&card_path).expect("model.json")).expect("a card");
    card.views = card_views;
    card.comparison = seed_cnn_comparison();
    std::fs::write(&card_path, card.to_json()).expect("model.json");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fracture"))
        .args(["publish", "--default", "fold-1", "--model"])
        .arg(&model)
        .arg("--cv")
        .arg(run.out.path().join("cv.json"))
        .arg("--index")
        .arg(shipped.path().join("index.json"))
        .args(extra)
        .output()
        .expect("fracture runs");
    match output.status.success() {
        true => Ok(ModelCard::from_json(&std::fs::read_to_string(&card_path).expect("model.json")).expect("a card")),
        false => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
    }
}

#[test]
fn a_card_compares_itself_with_other_models_cross_validated_on_its_folds() {
    let data = common::synthetic_folder(3);
    let cnn = cv_on(data.path(), &["--model", "cnn", "--epochs", "1"]);
    let mlp = cv_on(data.path(), &["--model", "mlp", "--epochs", "1"]);
    // A `fracture cv` folder among --runs adds its cross-validation, named by its model; the
    // card's own architecture is never compared with itself.
    let runs = |runs: &[&Run]| {
        let mut args = vec![std::ffi::OsStr::new("--runs")];
        args.extend(runs.iter().map(|r| r.out.path().as_os_str()));
        publish_with(&cnn, 1, &args)
    };
    let card = runs(&[&mlp, &cnn]).expect("publish compares the MLP's cross-validation");
    let compared: Vec<_> = card.cross_validation_comparison.iter().map(|c| (c.model.as_str(), &c.cross_validation)).collect();
    assert_eq!(compared, [("mlp", &mlp.cv)]);
    assert_eq!(card.comparison, seed_cnn_comparison(), "given only cv folders, the card keeps its comparisons");
    // A card that compares itself with this one carries its answer's cross-validation first.
    let carried = card.compared_cross_validations();
    assert_eq!(carried.iter().map(|c| c.model.as_str()).collect::<Vec<_>>(), ["seed-cnn", "mlp"]);
    assert_eq!(carried.iter().map(|c| c.architecture.as_str()).collect::<Vec<_>>(), ["seed-cnn", "mlp"]);
    assert_eq!(carried[0].cross_validation.results, cnn.cv.results);
    // Cross-validations on other folds do not compare.
    let other_folds = cv_on(data.path(), &["--model", "mlp", "--epochs", "1", "--seed", "7"]);
    let message = runs(&[&other_folds]).unwrap_err();
    assert!(message.contains("mlp's cross-validation (3 folds drawn with seed 7) is not on this card's folds"), "{message}");
}
