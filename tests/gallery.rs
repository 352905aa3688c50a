//! The shipped models' `gallery.json` (the page's image grids): it lists exactly the validation
//! images of the model's `split.csv`, its probabilities are those the shipped weights give, its
//! confusion matrix is the card's up to f16 rounding, and every thumbnail is there and small.
//! Fixtures: the committed samples in `public/samples/`, which are validation images
//! (`public/samples/SOURCES.txt` names their files).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use bone_fracture::data::{decode_xray, parse_split_csv, Part, SplitRow, SPLIT_FILE};
use bone_fracture::store::{load_model_dir, Gallery, GALLERY_FILE};
use bone_fracture::train::calibration::apply_all;
use bone_fracture::train::predict_views;
use bone_fracture::FractureClass;
use burn::tensor::Device;

const MODELS: [&str; 2] = ["public/models/efficientnet-lite0", "public/models/seed-cnn"];

fn gallery(dir: &Path) -> Gallery {
    serde_json::from_str(&std::fs::read_to_string(dir.join(GALLERY_FILE)).expect("gallery.json")).expect("a valid gallery")
}

fn split_rows(dir: &Path) -> Vec<SplitRow> {
    parse_split_csv(&std::fs::read_to_string(dir.join(SPLIT_FILE)).expect("split.csv")).expect("a valid split.csv")
}

#[test]
fn galleries_hold_the_validation_split_and_training_images_of_every_class() {
    for dir in MODELS.map(Path::new) {
        let gallery = gallery(dir);
        let rows = split_rows(dir);
        let valid: Vec<(FractureClass, &str)> =
            rows.iter().filter(|r| r.part == Part::Valid).map(|r| (r.class, r.file.as_str())).collect();
        let listed: Vec<(FractureClass, &str)> =
            gallery.validation.iter().map(|v| (v.image.class, v.image.file.as_str())).collect();
        assert_eq!(listed, valid, "{}: the validation images of split.csv, in its order", dir.display());

        let train: HashSet<(FractureClass, &str)> =
            rows.iter().filter(|r| r.part == Part::Train).map(|r| (r.class, r.file.as_str())).collect();
        let group = |file: &str| rows.iter().find(|r| r.file == file).map(|r| r.group.clone());
        let mut groups = HashSet::new();
        for image in &gallery.training {
            assert!(train.contains(&(image.class, image.file.as_str())), "{} is a training image", image.file);
            assert!(groups.insert(group(&image.file)), "{}: one image per near-copy group", image.file);
        }
        let classes: HashSet<FractureClass> = gallery.training.iter().map(|t| t.class).collect();
        assert_eq!(classes.len(), 10, "{}: every class in the training grid", dir.display());

        let thumbnails = gallery.training.iter().chain(gallery.validation.iter().map(|v| &v.image));
        for image in thumbnails {
            let path = PathBuf::from("public").join(&image.thumbnail);
            let thumbnail = image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(thumbnail.width().max(thumbnail.height()) <= 160 && thumbnail.width().min(thumbnail.height()) >= 16);
        }
    }
}

#[test]
fn gallery_predictions_are_the_shipped_weights_and_match_the_card() {
    let device = Device::flex();
    let sources = std::fs::read_to_string("public/samples/SOURCES.txt").expect("SOURCES.txt");
    for dir in MODELS.map(Path::new) {
        let gallery = gallery(dir);
        let (card, model) = load_model_dir(dir, &device).expect("the shipped model");

        // The samples are byte copies of validation images: the weights give them the gallery's
        // probabilities (over the card's views, temperature-scaled, as the page shows them).
        let mut checked = 0;
        for line in sources.lines() {
            let Some((sample, source)) = line.split_once("  <-  ") else { continue };
            let file = source.rsplit('/').next().expect("a file name");
            let entry = gallery.validation.iter().find(|v| v.image.file == file).expect("the sample is a validation image");
            let xray = decode_xray(&std::fs::read(format!("public/samples/{sample}")).expect("the sample")).unwrap();
            let raw = pollster::block_on(predict_views(&model, &[&xray], card.views, 8, &device)).expect("a prediction");
            let temperature = card.calibration.as_ref().map_or(1.0, |c| c.temperature);
            let shown = apply_all(&raw, temperature)[0];
            for (a, b) in shown.iter().zip(&entry.probabilities) {
                assert!((a - b).abs() < 1e-4, "{}: {sample}: {shown:?} vs {:?}", dir.display(), entry.probabilities);
            }
            checked += 1;
        }
        assert_eq!(checked, 10, "one sample per class");

        // f16 weights may move a near-tie against the card's f32 evaluation, no more.
        let card_validation = &card.metrics["group"].validation;
        let ours = gallery.validation_metrics();
        assert_eq!(ours.n, card_validation.n);
        let moved = ours.answers_moved(card_validation);
        assert!(moved <= 2, "{}: {moved} images changed their answer", dir.display());
    }
}
