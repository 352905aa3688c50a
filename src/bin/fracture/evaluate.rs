//! `fracture evaluate`: score a model folder on any folder of class folders.

use std::path::PathBuf;

use bone_fracture::data::{load_folder, Xray};
use bone_fracture::store::load_model_dir;
use bone_fracture::train::calibration::apply_all;
use bone_fracture::train::{predict_views, Evaluation};
use clap::Args;

use crate::Backend;

#[derive(Args)]
pub struct EvaluateArgs {
    /// Model folder with model.json and model.bpk.
    #[arg(long)]
    model: PathBuf,
    /// Folder of class folders.
    #[arg(long)]
    data: PathBuf,
    /// Print the metrics as one JSON object (keys: accuracy, top3_accuracy, loss, n, per_class, confusion, …).
    #[arg(long)]
    json: bool,
    /// Images per forward pass; with the card's test-time views each image's views are one pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
}

pub fn run(args: EvaluateArgs) -> Result<(), String> {
    let device = args.backend.device()?;
    let (card, model) = load_model_dir(&args.model, &device).map_err(|e| e.to_string())?;
    let dataset = load_folder(&args.data, card.input.framing).map_err(|e| e.to_string())?;
    for (path, reason) in &dataset.skipped {
        eprintln!("warning: skipped {}: {reason}", path.display());
    }
    let images: Vec<&Xray> = dataset.items.iter().map(|i| &i.xray).collect();
    let labels: Vec<usize> = dataset.items.iter().map(|i| i.class.index()).collect();
    // As the page computes them: averaged over the card's views, with its temperature.
    let rows =
        pollster::block_on(predict_views(&model, &images, card.views, args.batch_size, &device)).map_err(|e| e.to_string())?;
    let temperature = card.calibration.as_ref().map_or(1.0, |c| c.temperature);
    let e = Evaluation::from_probabilities(&apply_all(&rows, temperature), &labels);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&e).expect("metrics serialise"));
        return Ok(());
    }
    println!(
        "{} on {} ({} images, {} skipped, {} view(s) each, temperature {temperature:.3})",
        card.name,
        args.data.display(),
        e.n,
        dataset.skipped.len(),
        card.views
    );
    println!("accuracy {:.4} · top-3 {:.4} · loss {:.4} · macro-F1 {:.4}\n", e.accuracy, e.top3_accuracy, e.loss, e.macro_f1);
    println!("{:<24} {:>9} {:>7} {:>7} {:>8}", "class", "precision", "recall", "F1", "images");
    for m in &e.per_class {
        println!("{:<24} {:>9.3} {:>7.3} {:>7.3} {:>8}", m.class, m.precision, m.recall, m.f1, m.support);
    }
    println!("\nconfusion (rows: actual, columns: predicted, in the order above)");
    for row in &e.confusion {
        println!("{}", row.iter().map(|c| format!("{c:>4}")).collect::<String>());
    }
    Ok(())
}
