//! `fracture cv` end to end on a small generated folder: every image is scored exactly once, by a
//! model that never trained on it; the summary is the folds' mean; the cached-prefix path of
//! transfer learning runs the same way as the plain one, and also scores the fold averaged over
//! its cached views; every epoch's score on the fold is logged, the kept one as the fold's.

mod common;

use bone_fracture::classes::FractureClass;
use bone_fracture::train::CrossValidation;

/// Ten classes × `per_class` synthetic X-rays, in class folders.
fn folder(per_class: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for class in FractureClass::ALL {
        let class_dir = dir.path().join(class.folder_name());
        std::fs::create_dir_all(&class_dir).expect("a class folder");
        for i in 0..per_class {
            let png = common::synthetic_png(class.index(), 60 + 7 * i as u32, 50);
            std::fs::write(class_dir.join(format!("{i}.png")), png).expect("a fixture");
        }
    }
    dir
}

/// The summary, and each fold's `held-out.jsonl` lines.
fn cv(args: &[&str]) -> (CrossValidation, Vec<Vec<serde_json::Value>>) {
    let data = folder(3);
    let out = tempfile::tempdir().expect("an output folder");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fracture"))
        .args(["cv", "--folds", "3", "--batch-size", "8", "--backend", "flex", "--data"])
        .arg(data.path())
        .arg("--out")
        .arg(out.path())
        .args(args)
        .output()
        .expect("fracture runs");
    assert!(output.status.success(), "fracture cv {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("top-1") && text.contains("3 of 3 folds"), "the summary is printed: {text}");
    let json = std::fs::read_to_string(out.path().join("cv.json")).expect("cv.json");
    let held_out = (1..=3)
        .map(|fold| {
            let path = out.path().join(format!("fold-{fold}/held-out.jsonl"));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            text.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
        })
        .collect();
    (serde_json::from_str(&json).expect("cv.json parses"), held_out)
}

fn check((cv, held_out): &(CrossValidation, Vec<Vec<serde_json::Value>>), epochs: usize) {
    assert_eq!(cv.results.len(), 3);
    for (r, lines) in cv.results.iter().zip(held_out) {
        assert_eq!(lines.len(), epochs, "fold {}: one line per epoch", r.fold);
        let kept = &lines[r.best_epoch - 1];
        assert_eq!(kept["top1"].as_f64(), Some(r.raw.accuracy), "fold {}: the kept epoch's line is the fold's score", r.fold);
        assert_eq!(kept["loss"].as_f64(), Some(r.raw.loss));
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
    let cv = &run.0;
    assert!(cv.recipe.contains("efficientnet-lite0") && cv.recipe.contains("cached views: 2"), "{}", cv.recipe);
    check(&run, 1);
    for r in &cv.results {
        let averaged = r.averaged_views.as_ref().expect("the fold scored over its cached views");
        assert_eq!((averaged.views, averaged.raw.n), (2, r.test_images));
        assert!(averaged.raw.loss.is_finite());
    }
}

#[test]
fn a_fixed_length_run_keeps_its_last_epoch_and_its_weight_average() {
    let run = cv(&["--model", "cnn", "--epochs", "3", "--keep", "last", "--weight-average", "0.9"]);
    assert!(run.0.recipe.contains("weight average 0.9 · keep Last"), "{}", run.0.recipe);
    check(&run, 3);
    assert!(run.0.results.iter().all(|r| r.best_epoch == 3), "every fold keeps epoch 3");
}
