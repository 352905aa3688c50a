//! `fracture cv`: group-disjoint, class-stratified k-fold cross-validation of a training recipe.
//!
//! Each fold is scored by a model that never saw it, nor any near-copy of its images. The
//! epoch is picked, and the temperature fitted, on a group-disjoint tenth of the training folds
//! (never on the fold being scored). `cv.json` is rewritten after every fold. With cached
//! augmented views, each fold is also scored with every image's probabilities averaged over
//! its views (test-time augmentation), reported beside the plain scores. Every epoch's model is
//! scored on the fold as well (`fold-N/held-out.jsonl`), to study how long to train; nothing in
//! the run looks at those scores. Each fold's kept model (`fold-N/model.bpk`, `model.json`) and
//! its answers for every inner-validation and test image (`fold-N/predictions.jsonl`) are saved,
//! so that `fracture combine` can score ensembles and soups of runs without retraining.

use std::path::PathBuf;

use bone_fracture::data::{group_folds, load_folder, split, LabelledXray, SplitKind};
use bone_fracture::model::Classifier;
use bone_fracture::store::{save_model_dir, ModelCard};
use bone_fracture::train::{
    predict_averaged_views, predict_source, AveragedViews, Calibration, CrossValidation, Evaluation, FoldResult, Images, MeanSd,
    Prediction, PredictionPart, TrainingConfig,
};
use bone_fracture::NUM_CLASSES;
use clap::Args;

use crate::progress::Progress;
use crate::recipe::Recipe;
use crate::Backend;

#[derive(Args)]
pub struct CvArgs {
    #[command(flatten)]
    recipe: Recipe,
    /// Folder of class folders with manifest.csv (near-duplicate groups).
    #[arg(long)]
    data: PathBuf,
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Run only these folds (1-based), e.g. to spread a run over several processes.
    #[arg(long, num_args = 1..)]
    only: Vec<usize>,
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
    /// Output folder: cv.json, and each fold's metrics.jsonl under fold-N/.
    #[arg(long)]
    out: PathBuf,
}

/// One fold's images, as indices into the dataset's items.
struct FoldParts {
    /// 1-based.
    number: usize,
    /// What the model trains on: the other folds but a group-disjoint tenth of them…
    train: Vec<usize>,
    /// …which picks the epoch and fits the temperature.
    valid: Vec<usize>,
    /// The fold being scored.
    test: Vec<usize>,
}

/// The folds of a `folds`-fold cross-validation of `items`, drawn with `seed`, and `config`'s
/// validation share: the same for every recipe run with that seed.
fn fold_parts(items: &[LabelledXray], folds: usize, seed: u64, config: &TrainingConfig) -> Vec<FoldParts> {
    let classes: Vec<_> = items.iter().map(|i| i.class).collect();
    let groups: Vec<_> = items.iter().map(|i| i.group.clone()).collect();
    group_folds(&classes, &groups, folds, seed)
        .into_iter()
        .enumerate()
        .map(|(f, fold)| {
            let number = f + 1;
            let outer_classes: Vec<_> = fold.train.iter().map(|&i| classes[i]).collect();
            let outer_groups: Vec<_> = fold.train.iter().map(|&i| groups[i].clone()).collect();
            let inner = split(SplitKind::Group, &outer_classes, &outer_groups, config.valid_fraction, seed + number as u64);
            FoldParts {
                number,
                train: inner.train.iter().map(|&i| fold.train[i]).collect(),
                valid: inner.valid.iter().map(|&i| fold.train[i]).collect(),
                test: fold.valid,
            }
        })
        .collect()
}

/// `class-folder/file-name`: how predictions name an image.
pub fn image_key(item: &LabelledXray) -> String {
    format!("{}/{}", item.class.folder_name(), item.file)
}

/// `fold-N/predictions.jsonl`: one line per image of `valid`, then of `test`.
fn write_predictions(
    path: &std::path::Path,
    items: &[LabelledXray],
    (valid, test): (&[usize], &[usize]),
    (valid_rows, test_rows): (&[[f32; NUM_CLASSES]], &[[f32; NUM_CLASSES]]),
    averaged: Option<&[[f32; NUM_CLASSES]]>,
) -> Result<(), String> {
    let lines = valid.iter().zip(valid_rows).map(|(&i, row)| (PredictionPart::InnerValid, i, row, None));
    let lines = lines.chain(
        test.iter().zip(test_rows).enumerate().map(|(n, (&i, row))| (PredictionPart::Test, i, row, averaged.map(|a| a[n]))),
    );
    let text: String = lines
        .map(|(part, i, row, averaged_views)| {
            let prediction = Prediction {
                part,
                file: image_key(&items[i]),
                label: items[i].class.index(),
                probabilities: *row,
                averaged_views,
            };
            serde_json::to_string(&prediction).expect("a prediction serialises") + "\n"
        })
        .collect();
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The recipe in words, for the report.
fn describe(args: &CvArgs, config: &bone_fracture::train::TrainingConfig) -> String {
    format!(
        "{} · {} epochs · batch {} · Adam {} · trainable {:?} · augment {} (cached views: {}, cached blocks: {:?}) · label smoothing {} · class-weighted {} · framing {:?} · schedule {:?} · mixup {} · weight average {} · keep {:?} · trunk lr × {}",
        config.architecture.name(),
        config.epochs,
        config.batch_size,
        config.learning_rate,
        config.trainable,
        config.augment,
        args.recipe.cache_views,
        args.recipe.cache_blocks,
        config.label_smoothing,
        config.class_weighted,
        args.recipe.input().framing,
        config.schedule,
        config.mixup,
        config.weight_average,
        config.keep,
        config.trunk_lr_factor,
    ) + &match config.drop_path {
        0.0 => String::new(),
        rate => format!(" · drop path {rate}"),
    } + &format!(" · seed {}", args.recipe.seed)
        + &args.recipe.init_seed.map_or(String::new(), |seed| format!(" · initial weights and dropout drawn with seed {seed}"))
        + &args.recipe.split_seed.map_or(String::new(), |seed| format!(" · folds drawn with seed {seed}"))
}

pub fn run(args: CvArgs) -> Result<(), String> {
    let device = args.backend.device()?;
    let config = args.recipe.config(SplitKind::Group, 0.1);
    eprintln!("decoding {} …", args.data.display());
    let dataset = load_folder(&args.data, args.recipe.input().framing).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let recipe = describe(&args, &config);
    eprintln!("{} images, {} folds: {recipe}", dataset.items.len(), args.folds);

    // Frozen ImageNet blocks are the same in every fold: their output is computed once.
    let all: Vec<&LabelledXray> = dataset.items.iter().collect();
    let cache = args.recipe.prefix_cache(&config, &args.recipe.init(&config, &device)?, &all, &device)?;
    let mut results = Vec::new();
    let fold_seed = args.recipe.split_seed();
    for fold in fold_parts(&dataset.items, args.folds, fold_seed, &config) {
        let number = fold.number;
        if !args.only.is_empty() && !args.only.contains(&number) {
            continue;
        }
        let pick = |idx: &[usize]| idx.iter().map(|&i| &dataset.items[i]).collect::<Vec<_>>();
        let (train, valid, test) = (pick(&fold.train), pick(&fold.valid), pick(&fold.test));
        eprintln!("fold {number}/{}: {} train, {} inner validation, {} test", args.folds, train.len(), valid.len(), test.len());

        let dir = args.out.join(format!("fold-{number}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let labels = |items: &[&LabelledXray]| items.iter().map(|i| i.class.index()).collect::<Vec<_>>();
        // Every epoch is also scored on the fold, for the study of run lengths only.
        let test_labels = labels(&test);
        let test_cache = cache.as_ref().map(|c| c.subset(&fold.test));
        let score_on_fold = |model: &Classifier| {
            let rows = match &test_cache {
                Some(cached) => pollster::block_on(predict_source(model, cached, config.batch_size, &device))?,
                None => pollster::block_on(predict_source(model, &Images(&test), config.batch_size, &device))?,
            };
            Ok(Evaluation::from_probabilities(&rows, &test_labels))
        };
        let mut progress =
            Progress::new(&dir, train.len().div_ceil(config.batch_size) * config.epochs)?.watch(&dir, score_on_fold)?;
        let model = args.recipe.init(&config, &device)?;
        let (outcome, rows) = args.recipe.fit(
            &config,
            model,
            &dataset.items,
            cache.as_ref(),
            (&fold.train, &fold.valid),
            &[&fold.test],
            &device,
            &mut progress,
        )?;
        drop(progress); // it borrows the fold's cache, used again below
        if let Some(reason) = outcome.halted {
            return Err(format!("fold {number}: {reason}"));
        }
        let (valid_rows, test_rows) = (&rows[0], &rows[1]);
        let calibration = Calibration::fit(valid_rows, &labels(&valid));
        let mut result =
            FoldResult::score(number, (train.len(), valid.len()), outcome.best_epoch, calibration, test_rows, &labels(&test));
        let mut averaged = None;
        if let Some(test_cache) = test_cache.filter(|c| c.view_count() > 1) {
            let rows = pollster::block_on(predict_averaged_views(&outcome.model, &test_cache, config.batch_size, &device))
                .map_err(|e| e.to_string())?;
            let raw = Evaluation::from_probabilities(&rows, &labels(&test));
            eprintln!(
                "fold {number}, averaged over {} views: top-1 {:.3} · top-3 {:.3} · loss {:.3}",
                test_cache.view_count(),
                raw.accuracy,
                raw.top3_accuracy,
                raw.loss
            );
            result.averaged_views = Some(AveragedViews { views: test_cache.view_count(), raw });
            averaged = Some(rows);
        }
        write_predictions(
            &dir.join("predictions.jsonl"),
            &dataset.items,
            (&fold.valid, &fold.test),
            (valid_rows, test_rows),
            averaged.as_deref(),
        )?;
        let mut card = ModelCard::new(
            &format!("fold-{number}"),
            &format!("{}, cross-validation fold {number}", args.recipe.display_name()),
            &outcome.model,
            config.clone(),
            args.recipe.input(),
        );
        card.calibration = Some(result.calibration.clone());
        save_model_dir(&dir, &mut card, Some(&outcome.model)).map_err(|e| e.to_string())?;
        eprintln!(
            "fold {number}: top-1 {:.3} · top-3 {:.3} · macro-F1 {:.3} · loss {:.3} → {:.3} · ECE {:.3} → {:.3} (T = {:.2}, epoch {})",
            result.raw.accuracy, result.raw.top3_accuracy, result.raw.macro_f1, result.raw.loss, result.calibrated_loss,
            result.raw_ece, result.calibrated_ece, result.calibration.temperature, result.best_epoch
        );
        results.push(result);
        let summary = CrossValidation::summarise(&recipe, args.folds, fold_seed, results.clone());
        let path = args.out.join("cv.json");
        std::fs::write(&path, serde_json::to_string_pretty(&summary).expect("json") + "\n")
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    print_summary(&CrossValidation::summarise(&recipe, args.folds, fold_seed, results));
    Ok(())
}

/// A cross-validation's mean ± sd, as the runs print it.
pub fn print_summary(s: &CrossValidation) {
    println!("\n{}\n{} of {} folds", s.recipe, s.results.len(), s.folds);
    println!("top-1     {}\ntop-3     {}\nmacro-F1  {}", s.top1, s.top3, s.macro_f1);
    println!("loss      {}  → calibrated {}", s.loss, s.calibrated_loss);
    println!("ECE       {}  → calibrated {}", s.ece, s.calibrated_ece);
    println!("T         {}", s.temperature);
    let averaged: Vec<&AveragedViews> = s.results.iter().filter_map(|r| r.averaged_views.as_ref()).collect();
    if let Some(first) = averaged.first() {
        let of = |f: fn(&Evaluation) -> f64| MeanSd::of(averaged.iter().map(|a| f(&a.raw)));
        println!(
            "averaged over {} views: top-1 {} · top-3 {} · loss {}",
            first.views,
            of(|e| e.accuracy),
            of(|e| e.top3_accuracy),
            of(|e| e.loss)
        );
    }
}
