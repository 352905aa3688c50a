//! `fracture train`: the notebook's training run, with a progress bar and a JSON-lines log.

use std::path::PathBuf;

use bone_fracture::data::{load_folder, split, LabelledXray, SplitKind};
use bone_fracture::model::Architecture;
use bone_fracture::store::{save_model_dir, ModelCard, RunMetrics};
use bone_fracture::train::{fit, TrainingConfig};
use clap::{Args, ValueEnum};

use crate::progress::Progress;
use crate::Backend;

#[derive(Clone, Copy, ValueEnum)]
pub enum ModelChoice {
    /// The notebook's four-layer CNN.
    Cnn,
    /// The notebook's MLP baseline.
    Mlp,
}

#[derive(Args)]
pub struct TrainArgs {
    #[arg(long, value_enum, default_value = "cnn")]
    model: ModelChoice,
    /// Folder of class folders (optionally with manifest.csv).
    #[arg(long)]
    data: PathBuf,
    /// `group`: whole near-duplicate groups on one side (honest); `random`: the notebook's.
    #[arg(long, default_value = "group")]
    split: SplitKind,
    /// Default: 10 for the CNN, 16 for the MLP.
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, default_value_t = 5e-4)]
    lr: f64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
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
    let path = out.join("split.csv");
    let mut text = String::from("part,class,file,group\n");
    for (part, items) in [("train", train), ("valid", valid)] {
        for item in items {
            text += &format!("{part},{},{},{}\n", item.class.folder_name(), item.file, item.group);
        }
    }
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn run(args: TrainArgs) -> Result<(), String> {
    let architecture = match args.model {
        ModelChoice::Cnn => Architecture::seed_cnn(),
        ModelChoice::Mlp => Architecture::mlp(),
    };
    let mut config = TrainingConfig::new(architecture, args.split);
    config.epochs = args.epochs.unwrap_or(config.epochs);
    config.batch_size = args.batch_size;
    config.learning_rate = args.lr;
    config.seed = args.seed;
    config.valid_fraction = args.valid_fraction;
    let device = args.backend.device()?;

    eprintln!("decoding {} …", args.data.display());
    let dataset = load_folder(&args.data).map_err(|e| e.to_string())?;
    for (path, reason) in &dataset.skipped {
        eprintln!("warning: skipped {}: {reason}", path.display());
    }
    let classes: Vec<_> = dataset.items.iter().map(|i| i.class).collect();
    let groups: Vec<_> = dataset.items.iter().map(|i| i.group.clone()).collect();
    let parts = split(config.split, &classes, &groups, config.valid_fraction, config.seed);
    let train: Vec<&LabelledXray> = parts.train.iter().map(|&i| &dataset.items[i]).collect();
    let valid: Vec<&LabelledXray> = parts.valid.iter().map(|&i| &dataset.items[i]).collect();
    eprintln!(
        "{} images ({} skipped): {} train, {} validation ({:?} split, seed {})",
        dataset.items.len(), dataset.skipped.len(), train.len(), valid.len(), config.split, config.seed
    );

    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    write_split(&args.out, &train, &valid)?;
    let steps = train.len().div_ceil(config.batch_size.max(1)) * config.epochs;
    let mut progress = Progress::new(&args.out, steps)?;
    let model = config.architecture.init(&device);
    let outcome = pollster::block_on(fit(&config, model, &train, &valid, &device, &mut progress))
        .map_err(|e| e.to_string())?;
    progress.bar.finish_and_clear();
    if let Some(reason) = outcome.halted {
        return Err(format!("training stopped: {reason}; nothing was saved"));
    }

    let name = match args.model {
        ModelChoice::Cnn => "Seed CNN (reference notebook's four-layer CNN)",
        ModelChoice::Mlp => "Seed MLP (reference notebook's baseline)",
    };
    let id = config.architecture.name().to_string();
    let split_name = serde_json::to_value(config.split).expect("split serialises").as_str().unwrap_or("").to_string();
    let mut card = ModelCard::new(&id, name, &outcome.model, config.clone());
    if let Some(validation) = outcome.evaluation.clone() {
        card.metrics.insert(split_name, RunMetrics {
            model: id,
            split: config.split,
            best_epoch: outcome.best_epoch,
            train_images: train.len(),
            valid_images: valid.len(),
            validation,
        });
    }
    let weights = (!args.no_weights).then_some(&outcome.model);
    save_model_dir(&args.out, &mut card, weights).map_err(|e| e.to_string())?;
    if let Some(e) = &outcome.evaluation {
        eprintln!(
            "kept epoch {}: validation accuracy {:.4}, top-3 {:.4}, loss {:.4}, macro-F1 {:.4} → {}",
            outcome.best_epoch, e.accuracy, e.top3_accuracy, e.loss, e.macro_f1, args.out.display()
        );
    }
    Ok(())
}
