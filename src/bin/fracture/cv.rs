//! `fracture cv`: group-disjoint, class-stratified k-fold cross-validation of a training recipe.
//!
//! Each fold is scored by a model that never saw it, nor any near-copy of its images. The
//! epoch is picked, and the temperature fitted, on a group-disjoint tenth of the training folds
//! (never on the fold being scored). `cv.json` is rewritten after every fold. With cached
//! augmented views, each fold is also scored with every image's probabilities averaged over
//! its views (test-time augmentation), reported beside the plain scores. Every epoch's model is
//! scored on the fold as well (`fold-N/held-out.jsonl`), to study how long to train; nothing in
//! the run looks at those scores.

use std::path::PathBuf;

use bone_fracture::data::{group_folds, load_folder, split, LabelledXray, SplitKind};
use bone_fracture::model::Classifier;
use bone_fracture::train::{
    predict_averaged_views, predict_source, AveragedViews, Calibration, CrossValidation, Evaluation, FoldResult, Images, MeanSd,
};
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
    ) + &format!(" · seed {}", args.recipe.seed)
}

pub fn run(args: CvArgs) -> Result<(), String> {
    let device = args.backend.device()?;
    let config = args.recipe.config(SplitKind::Group, 0.1);
    eprintln!("decoding {} …", args.data.display());
    let dataset = load_folder(&args.data, args.recipe.input().framing).map_err(|e| e.to_string())?;
    let classes: Vec<_> = dataset.items.iter().map(|i| i.class).collect();
    let groups: Vec<_> = dataset.items.iter().map(|i| i.group.clone()).collect();
    let folds = group_folds(&classes, &groups, args.folds, config.seed);
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let recipe = describe(&args, &config);
    eprintln!("{} images, {} folds: {recipe}", dataset.items.len(), args.folds);

    // Frozen ImageNet blocks are the same in every fold: their output is computed once.
    let all: Vec<&LabelledXray> = dataset.items.iter().collect();
    let cache = args.recipe.prefix_cache(&config, &args.recipe.init(&config, &device)?, &all, &device)?;
    let mut results = Vec::new();
    for (f, fold) in folds.iter().enumerate() {
        let number = f + 1;
        if !args.only.is_empty() && !args.only.contains(&number) {
            continue;
        }
        let outer: Vec<&LabelledXray> = fold.train.iter().map(|&i| &dataset.items[i]).collect();
        let test: Vec<&LabelledXray> = fold.valid.iter().map(|&i| &dataset.items[i]).collect();
        let inner_classes: Vec<_> = outer.iter().map(|i| i.class).collect();
        let inner_groups: Vec<_> = outer.iter().map(|i| i.group.clone()).collect();
        let inner = split(SplitKind::Group, &inner_classes, &inner_groups, config.valid_fraction, config.seed + number as u64);
        let train: Vec<&LabelledXray> = inner.train.iter().map(|&i| outer[i]).collect();
        let valid: Vec<&LabelledXray> = inner.valid.iter().map(|&i| outer[i]).collect();
        eprintln!("fold {number}/{}: {} train, {} inner validation, {} test", args.folds, train.len(), valid.len(), test.len());

        let dir = args.out.join(format!("fold-{number}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let labels = |items: &[&LabelledXray]| items.iter().map(|i| i.class.index()).collect::<Vec<_>>();
        // Every epoch is also scored on the fold, for the study of run lengths only.
        let test_labels = labels(&test);
        let test_cache = cache.as_ref().map(|c| c.subset(&fold.valid));
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
        let inner_train: Vec<usize> = inner.train.iter().map(|&i| fold.train[i]).collect();
        let inner_valid: Vec<usize> = inner.valid.iter().map(|&i| fold.train[i]).collect();
        let (outcome, rows) = args.recipe.fit(
            &config,
            model,
            &dataset.items,
            cache.as_ref(),
            (&inner_train, &inner_valid),
            &[&fold.valid],
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
        }
        eprintln!(
            "fold {number}: top-1 {:.3} · top-3 {:.3} · macro-F1 {:.3} · loss {:.3} → {:.3} · ECE {:.3} → {:.3} (T = {:.2}, epoch {})",
            result.raw.accuracy, result.raw.top3_accuracy, result.raw.macro_f1, result.raw.loss, result.calibrated_loss,
            result.raw_ece, result.calibrated_ece, result.calibration.temperature, result.best_epoch
        );
        results.push(result);
        let summary = CrossValidation::summarise(&recipe, args.folds, config.seed, results.clone());
        let path = args.out.join("cv.json");
        std::fs::write(&path, serde_json::to_string_pretty(&summary).expect("json") + "\n")
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let s = CrossValidation::summarise(&recipe, args.folds, config.seed, results);
    println!("\n{recipe}\n{} of {} folds", s.results.len(), args.folds);
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
    Ok(())
}
