//! `fracture train`: the notebook's training run, with a progress bar and a JSON-lines log.

use std::path::PathBuf;

use bone_fracture::data::{load_folder, split, write_split_csv, LabelledXray, Part, SplitKind, SplitRow, SPLIT_FILE};
use bone_fracture::store::{save_model_dir, ModelCard, RunMetrics};
use bone_fracture::train::Calibration;
use clap::Args;

use crate::progress::Progress;
use crate::recipe::Recipe;
use crate::Backend;

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    recipe: Recipe,
    /// Folder of class folders (optionally with manifest.csv).
    #[arg(long)]
    data: PathBuf,
    /// `group`: whole near-duplicate groups on one side (honest); `random`: the notebook's.
    #[arg(long, default_value = "group")]
    split: SplitKind,
    /// Share of images held out for validation.
    #[arg(long, default_value_t = 0.1)]
    valid_fraction: f64,
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
    /// Output folder: model.bpk, model.json, metrics.jsonl.
    #[arg(long)]
    out: PathBuf,
    /// Write only model.json and metrics.jsonl (for models too large to ship).
    #[arg(long)]
    no_weights: bool,
}

/// `split.csv`: which file went where, so the split can be audited and the page's samples can be
/// drawn from images the model never trained on.
fn write_split(out: &std::path::Path, train: &[&LabelledXray], valid: &[&LabelledXray]) -> Result<(), String> {
    let path = out.join(SPLIT_FILE);
    let rows: Vec<SplitRow> = [(Part::Train, train), (Part::Valid, valid)]
        .into_iter()
        .flat_map(|(part, items)| {
            items.iter().map(move |item| SplitRow { part, class: item.class, file: item.file.clone(), group: item.group.clone() })
        })
        .collect();
    std::fs::write(&path, write_split_csv(&rows)).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn run(args: TrainArgs) -> Result<(), String> {
    let config = args.recipe.config(args.split, args.valid_fraction);
    let device = args.backend.device()?;

    eprintln!("decoding {} …", args.data.display());
    let dataset = load_folder(&args.data, args.recipe.input().framing).map_err(|e| e.to_string())?;
    for (path, reason) in &dataset.skipped {
        eprintln!("warning: skipped {}: {reason}", path.display());
    }
    let classes: Vec<_> = dataset.items.iter().map(|i| i.class).collect();
    let groups: Vec<_> = dataset.items.iter().map(|i| i.group.clone()).collect();
    let split_seed = args.recipe.split_seed();
    let parts = split(config.split, &classes, &groups, config.valid_fraction, split_seed);
    let train: Vec<&LabelledXray> = parts.train.iter().map(|&i| &dataset.items[i]).collect();
    let valid: Vec<&LabelledXray> = parts.valid.iter().map(|&i| &dataset.items[i]).collect();
    eprintln!(
        "{} images ({} skipped): {} train, {} validation ({:?} split, seed {})",
        dataset.items.len(),
        dataset.skipped.len(),
        train.len(),
        valid.len(),
        config.split,
        split_seed
    );

    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    write_split(&args.out, &train, &valid)?;
    let steps = train.len().div_ceil(config.batch_size.max(1)) * config.epochs;
    let mut progress = Progress::new(&args.out, steps)?;
    let model = args.recipe.init(&config, &device)?;
    let all: Vec<&LabelledXray> = dataset.items.iter().collect();
    let cache = args.recipe.prefix_cache(&config, &model, &all, &device)?;
    let (outcome, rows) = args.recipe.fit(
        &config,
        model,
        &dataset.items,
        cache.as_ref(),
        (&parts.train, &parts.valid),
        &[],
        &device,
        &mut progress,
    )?;
    if let Some(reason) = outcome.halted {
        return Err(format!("training stopped: {reason}; nothing was saved"));
    }

    let name = args.recipe.display_name();
    let id = config.architecture.name().to_string();
    let split_name = serde_json::to_value(config.split).expect("split serialises").as_str().unwrap_or("").to_string();
    let mut card = ModelCard::new(&id, name, &outcome.model, config.clone(), args.recipe.input());
    if let Some(validation) = outcome.evaluation.clone() {
        card.metrics.insert(
            split_name,
            RunMetrics {
                model: id,
                split: config.split,
                best_epoch: outcome.best_epoch,
                train_images: train.len(),
                valid_images: valid.len(),
                validation,
            },
        );
    }
    if !valid.is_empty() {
        // Temperature scaling on the validation images that picked the epoch.
        let labels: Vec<usize> = valid.iter().map(|i| i.class.index()).collect();
        let calibration = Calibration::fit(&rows[0], &labels);
        eprintln!(
            "temperature {:.3}: validation loss {:.4} → {:.4}, ECE {:.4} → {:.4}",
            calibration.temperature, calibration.nll_before, calibration.nll_after, calibration.ece_before, calibration.ece_after
        );
        card.calibration = Some(calibration);
    }
    let weights = (!args.no_weights).then_some(&outcome.model);
    save_model_dir(&args.out, &mut card, weights).map_err(|e| e.to_string())?;
    if let Some(e) = &outcome.evaluation {
        eprintln!(
            "kept epoch {}: validation accuracy {:.4}, top-3 {:.4}, loss {:.4}, macro-F1 {:.4} → {}",
            outcome.best_epoch,
            e.accuracy,
            e.top3_accuracy,
            e.loss,
            e.macro_f1,
            args.out.display()
        );
    }
    Ok(())
}
