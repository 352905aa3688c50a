//! `fracture finetune`: the page's fine-tuning run on the command line — the same function,
//! so a run in the browser can be reproduced (and tested) here.

use std::path::PathBuf;

use bone_fracture::data::load_folder;
use bone_fracture::store::{load_model_dir, save_model_dir, ModelCard};
use bone_fracture::train::{fine_tune, held_out_split, FineTuneOptions, Trainable};
use clap::Args;

use crate::progress::Progress;
use crate::Backend;

#[derive(Args)]
pub struct FineTuneArgs {
    /// Folder with the model to start from (model.json and its weights).
    #[arg(long)]
    model: PathBuf,
    /// Folder of class folders (optionally with manifest.csv).
    #[arg(long)]
    data: PathBuf,
    /// Output folder: model.bpk, model.json, metrics.jsonl, report.json.
    #[arg(long)]
    out: PathBuf,
    /// Train every layer (default: only the dense layers at the end).
    #[arg(long)]
    whole: bool,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long)]
    lr: Option<f64>,
    /// Train on the images as they are, without random flips and exposure changes.
    #[arg(long)]
    no_augment: bool,
    /// Share of images held out to score the model before and after.
    #[arg(long)]
    valid_fraction: Option<f64>,
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
}

pub fn run(args: FineTuneArgs) -> Result<(), String> {
    let defaults = FineTuneOptions::default();
    let options = FineTuneOptions {
        trainable: if args.whole { Trainable::Whole } else { Trainable::Head },
        epochs: args.epochs.unwrap_or(defaults.epochs),
        batch_size: args.batch_size.unwrap_or(defaults.batch_size),
        learning_rate: args.lr.unwrap_or(defaults.learning_rate),
        augment: !args.no_augment,
        valid_fraction: args.valid_fraction.unwrap_or(defaults.valid_fraction),
        seed: defaults.seed,
    };
    let device = args.backend.device()?;
    let (base_card, base) = load_model_dir(&args.model, &device).map_err(|e| e.to_string())?;
    let dataset = load_folder(&args.data, base_card.input.framing).map_err(|e| e.to_string())?;
    for (path, reason) in &dataset.skipped {
        eprintln!("warning: skipped {}: {reason}", path.display());
    }
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let train_images = held_out_split(&dataset.items, &options).train.len();
    let mut progress = Progress::new(&args.out, train_images.div_ceil(options.batch_size.max(1)) * options.epochs)?;
    let tuned = pollster::block_on(fine_tune(&base, &base_card.training, &dataset.items, &options, &device, &mut progress))
        .map_err(|e| e.to_string())?;
    progress.bar.finish_and_clear();
    let report = &tuned.report;
    if let Some(reason) = &report.halted {
        eprintln!("warning: the run ended early: {reason}; the best epoch before it is kept");
    }
    let name = format!("{} fine-tuned on {}", base_card.name, args.data.display());
    let mut card = ModelCard::fine_tuned(&base_card, &format!("{}-finetuned", base_card.id), &name, &tuned);
    save_model_dir(&args.out, &mut card, Some(&tuned.model)).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(report).expect("a report serialises");
    std::fs::write(args.out.join("report.json"), json + "\n").map_err(|e| e.to_string())?;
    if let (Some(before), Some(after)) = (&report.before, &report.after) {
        eprintln!(
            "{} held-out images: accuracy {:.4} → {:.4}, loss {:.4} → {:.4} (kept epoch {}) → {}",
            report.valid_images,
            before.accuracy,
            after.accuracy,
            before.loss,
            after.loss,
            report.best_epoch,
            args.out.display()
        );
    }
    Ok(())
}
