//! `fracture soup`: one model whose weights are the mean of several trained models' weights
//! ([`average_weights`]), written as a model folder the page can load. The models must share
//! their architecture, input and split; the soup's temperature and validation metrics are
//! measured again on that split's validation images. Its `metrics.jsonl` holds the members'
//! training logs, each epoch tagged with its run ([`soup_log`]).

use std::path::PathBuf;

use bone_fracture::data::SPLIT_FILE;
use bone_fracture::store::{load_model_dir, save_model_dir, soup_log, ModelCard, RunMetrics, LOG_FILE};
use bone_fracture::train::{average_weights, predict, Calibration, Evaluation};
use clap::Args;

use crate::validation::Validation;
use crate::Backend;

#[derive(Args)]
pub struct SoupArgs {
    /// Model folders (model.json, model.bpk, split.csv) trained on the same split.
    #[arg(long, num_args = 2.., required = true)]
    models: Vec<PathBuf>,
    /// The folder of class folders they were trained on.
    #[arg(long)]
    data: PathBuf,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
    /// Output model folder.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: SoupArgs) -> Result<(), String> {
    let device = args.backend.device()?;
    let read = |path: PathBuf| std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()));
    let mut cards = Vec::new();
    let mut models = Vec::new();
    let split_text = read(args.models[0].join(SPLIT_FILE))?;
    for dir in &args.models {
        let (card, model) = load_model_dir(dir, &device).map_err(|e| format!("{}: {e}", dir.display()))?;
        if read(dir.join(SPLIT_FILE))? != split_text {
            return Err(format!("{} was trained on another split than {}", dir.display(), args.models[0].display()));
        }
        cards.push(card);
        models.push(model);
    }
    let first = &cards[0];
    if let Some(other) = cards.iter().find(|c| c.architecture != first.architecture || c.input != first.input) {
        return Err(format!("{} and {} differ in architecture or input: they cannot be averaged", other.id, first.id));
    }
    let soup = average_weights(&models).expect("two or more models");

    // The soup's own validation scores and temperature, on the images none of them trained on.
    let valid = Validation::read(&args.models[0], &args.data, first.input.framing)?;
    let labels = &valid.labels;
    let probabilities = pollster::block_on(predict(&soup, &valid.refs(), args.batch_size, &device)).map_err(|e| e.to_string())?;
    let validation = Evaluation::from_probabilities(&probabilities, labels);
    let calibration = Calibration::fit(&probabilities, labels);

    eprintln!(
        "soup of {}: validation accuracy {:.4}, top-3 {:.4}, loss {:.4}; temperature {:.3}, ECE {:.4} → {:.4}",
        cards.len(),
        validation.accuracy,
        validation.top3_accuracy,
        validation.loss,
        calibration.temperature,
        calibration.ece_before,
        calibration.ece_after
    );
    let mut card = ModelCard::new(&first.id, &first.name, &soup, first.training.clone(), first.input.clone());
    card.averaged_from = cards.iter().map(|c| c.training.clone()).collect();
    let split = serde_json::to_value(first.training.split).expect("split serialises").as_str().unwrap_or("").to_string();
    let model = format!("{} (soup of {})", first.architecture.name(), cards.len());
    let (train_images, valid_images) = (valid.train_images(), valid.xrays.len());
    card.metrics
        .insert(split, RunMetrics { model, split: first.training.split, best_epoch: 0, train_images, valid_images, validation });
    card.calibration = Some(calibration);
    save_model_dir(&args.out, &mut card, Some(&soup)).map_err(|e| e.to_string())?;
    let copy = args.out.join(SPLIT_FILE);
    std::fs::write(&copy, valid.split_text).map_err(|e| format!("{}: {e}", copy.display()))?;
    let logs: Vec<Option<String>> = args.models.iter().map(|dir| std::fs::read_to_string(dir.join(LOG_FILE)).ok()).collect();
    let log = args.out.join(LOG_FILE);
    std::fs::write(&log, soup_log(&logs)).map_err(|e| format!("{}: {e}", log.display()))
}
