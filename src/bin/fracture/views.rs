//! `fracture views`: makes a model's answer the mean of its probabilities over N test-time
//! views of the image — the image itself and N − 1 augmented variants, the same ones at every
//! call ([`predict_views`]). Its run's validation metrics are measured again and its temperature
//! refitted with answers averaged so, on its run's validation images (split.csv), and the card
//! records `views`, which the page, `fracture evaluate` and `fracture gallery` apply. The
//! weights are untouched; `--views 1` goes back to the image alone.

use std::path::PathBuf;

use bone_fracture::store::{load_model_dir, CARD_FILE};
use bone_fracture::train::{predict_views, Calibration, Evaluation};
use clap::Args;

use crate::validation::Validation;
use crate::Backend;

#[derive(Args)]
pub struct ViewsArgs {
    /// Model folder with model.json, model.bpk and the split.csv of its training run.
    #[arg(long)]
    model: PathBuf,
    /// The folder of class folders the model was trained on.
    #[arg(long)]
    data: PathBuf,
    /// Views per answer (the image and views − 1 variants; 1: the image alone).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    views: u16,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
}

pub fn run(args: ViewsArgs) -> Result<(), String> {
    let device = args.backend.device()?;
    let (mut card, model) = load_model_dir(&args.model, &device).map_err(|e| format!("{}: {e}", args.model.display()))?;
    let views = usize::from(args.views);
    let valid = Validation::read(&args.model, &args.data, card.input.framing)?;
    let split = serde_json::to_value(card.training.split).expect("split serialises").as_str().unwrap_or("").to_string();
    let Some(run) = card.metrics.get_mut(&split) else {
        return Err(format!("the card has no {split}-split metrics of its own run to measure again"));
    };
    if run.valid_images != valid.xrays.len() {
        return Err(format!(
            "split.csv has {} validation images but the card's {split}-split metrics count {}",
            valid.xrays.len(),
            run.valid_images
        ));
    }
    eprintln!("{} validation images × {views} views …", valid.xrays.len());
    let probabilities =
        pollster::block_on(predict_views(&model, &valid.refs(), views, args.batch_size, &device)).map_err(|e| e.to_string())?;
    let before = &run.validation;
    let validation = Evaluation::from_probabilities(&probabilities, &valid.labels);
    let calibration = Calibration::fit(&probabilities, &valid.labels);
    eprintln!(
        "{} view(s) → {views}: validation accuracy {:.4} → {:.4}, top-3 {:.4} → {:.4}, loss {:.4} → {:.4}",
        card.views,
        before.accuracy,
        validation.accuracy,
        before.top3_accuracy,
        validation.top3_accuracy,
        before.loss,
        validation.loss
    );
    eprintln!(
        "temperature {:.3}: loss {:.4} → {:.4}, ECE {:.4} → {:.4}",
        calibration.temperature, calibration.nll_before, calibration.nll_after, calibration.ece_before, calibration.ece_after
    );
    run.validation = validation;
    // The comparison tables name the run by its model: say how it answers.
    let model = run.model.split(" · ").next().unwrap_or_default().to_string();
    run.model = match views {
        1 => model,
        n => format!("{model} · {n} views"),
    };
    card.calibration = Some(calibration);
    card.views = views;
    let path = args.model.join(CARD_FILE);
    std::fs::write(&path, card.to_json() + "\n").map_err(|e| format!("{}: {e}", path.display()))
}
