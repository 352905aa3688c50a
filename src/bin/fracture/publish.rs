//! `fracture publish`: gather training runs into the shipped model's card and write the list
//! of models the page offers (`public/models/index.json`).

use std::path::PathBuf;

use bone_fracture::store::{ComparedCrossValidation, ModelCard, CARD_FILE};
use bone_fracture::train::CrossValidation;
use clap::Args;
use serde_json::json;

use crate::combine::read_json;

#[derive(Args)]
pub struct PublishArgs {
    /// The shipped model's folder (its own run's metrics are already in its model.json).
    #[arg(long)]
    model: PathBuf,
    /// Other run folders whose validation metrics are added: the same architecture's become
    /// `metrics` entries, the others `comparison` entries, with their cards' cross-validations;
    /// given any, they replace the card's comparisons. A `fracture cv` folder adds its
    /// cross-validation (on the card's folds) to the comparison, replacing that model's; given
    /// only such folders (or no runs), the card keeps the other comparisons it has (to add a
    /// cross-validation to a published card without its runs).
    #[arg(long, num_args = 1..)]
    runs: Vec<PathBuf>,
    /// The index to (re)write; it lists every folder beside `--model` that has weights.
    #[arg(long)]
    index: PathBuf,
    /// The model the page loads first.
    #[arg(long, default_value = "seed-cnn")]
    default: String,
    /// `cv.json` of `fracture cv` for the recipe the model was trained with; kept in its card.
    #[arg(long)]
    cv: Option<PathBuf>,
    /// `views.json` of `fracture combine --views N` on that cross-validation: the same folds
    /// scored as the page answers (N must be the card's `views`); kept in its card.
    #[arg(long, requires = "cv")]
    cv_views: Option<PathBuf>,
}

fn read_card(dir: &std::path::Path) -> Result<ModelCard, String> {
    let path = dir.join(CARD_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    ModelCard::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A `fracture cv` folder's summary.
const CV_FILE: &str = "cv.json";

/// Adds another model's cross-validation to the card's comparison, each model once (the
/// first kept, or with `replace` this one) and never the card's own architecture.
fn compare_cross_validation(card: &mut ModelCard, compared: ComparedCrossValidation, replace: bool) {
    if compared.architecture == card.architecture.name() {
        return;
    }
    let list = &mut card.cross_validation_comparison;
    match list.iter().position(|c| c.model == compared.model) {
        Some(i) if replace => list[i] = compared,
        Some(_) => {}
        None => list.push(compared),
    }
}

/// A `fracture cv` folder's cross-validation, named by its folds' architecture.
fn read_cv_folder(run: &std::path::Path) -> Result<ComparedCrossValidation, String> {
    let cross_validation = read_json(&run.join(CV_FILE))?;
    let architecture = read_card(&run.join("fold-1"))?.architecture.name().to_string();
    Ok(ComparedCrossValidation { model: architecture.clone(), architecture, cross_validation })
}

pub fn run(args: PublishArgs) -> Result<(), String> {
    let mut card = read_card(&args.model)?;
    let (cv_folders, cards): (Vec<&PathBuf>, Vec<&PathBuf>) = args.runs.iter().partition(|run| run.join(CV_FILE).exists());
    if !cards.is_empty() {
        card.comparison.clear();
        card.cross_validation_comparison.clear();
    }
    for run in cards {
        let other = read_card(run)?;
        let compared = other.compared_cross_validations();
        let same_architecture = other.architecture.name() == card.architecture.name();
        let mut others = Vec::new();
        for (split, metrics) in other.metrics {
            if same_architecture {
                card.metrics.entry(split).or_insert(metrics);
            } else {
                others.push(metrics);
            }
        }
        // And the other model's own comparisons (the seed CNN's card carries the MLP's runs),
        // each model and split once.
        for metrics in others.into_iter().chain(other.comparison) {
            if metrics.model != card.architecture.name()
                && !card.comparison.iter().any(|m| m.model == metrics.model && m.split == metrics.split)
            {
                card.comparison.push(metrics);
            }
        }
        if !same_architecture {
            for compared in compared {
                compare_cross_validation(&mut card, compared, false);
            }
        }
    }
    // After the cards' comparisons: a cv folder replaces the one a card brought.
    for run in cv_folders {
        compare_cross_validation(&mut card, read_cv_folder(run)?, true);
    }
    if let Some(path) = &args.cv {
        card.cross_validation = Some(read_json(path)?);
        card.cross_validation_views = None; // another run's folds: only --cv-views brings them back
    }
    if let Some(path) = &args.cv_views {
        if card.views < 2 {
            return Err(format!(
                "{} answers from the image alone: --cv-views is for a card that averages test-time views (run \
                 `fracture views` on it first, or publish without --cv-views)",
                args.model.display()
            ));
        }
        let views: CrossValidation = read_json(path)?;
        if views.views != Some(card.views) {
            return Err(format!(
                "{} averages {} test-time view(s) per answer but the card answers over {}: run `fracture views` or \
                 `fracture combine --views` with the same count",
                path.display(),
                views.views.unwrap_or(1),
                card.views
            ));
        }
        // `--cv` comes with `--cv-views` (clap requires it), so the card has its cross-validation.
        if let Some(cv) = card.cross_validation.as_ref().filter(|cv| (views.folds, views.seed) != (cv.folds, cv.seed)) {
            return Err(format!("{} was not scored on the folds of {}", path.display(), cv.recipe));
        }
        card.cross_validation_views = Some(views);
    }
    if let Some(cv) = &card.cross_validation {
        if let Some(other) = card
            .cross_validation_comparison
            .iter()
            .find(|o| (o.cross_validation.folds, o.cross_validation.seed) != (cv.folds, cv.seed))
        {
            return Err(format!(
                "{}'s cross-validation ({} folds drawn with seed {}) is not on this card's folds ({} drawn with seed {}): \
                 compare runs on the same folds",
                other.model, other.cross_validation.folds, other.cross_validation.seed, cv.folds, cv.seed
            ));
        }
    }
    let path = args.model.join(CARD_FILE);
    std::fs::write(&path, card.to_json() + "\n").map_err(|e| format!("{}: {e}", path.display()))?;

    let models_dir = args.index.parent().ok_or("the index path has no folder")?;
    let mut models = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(models_dir).map_err(|e| e.to_string())?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if let Ok(card) = read_card(&entry.path()) {
            if card.weights.is_some() {
                let folder = entry.file_name().to_string_lossy().into_owned();
                models.push(json!({ "id": card.id, "name": card.name, "path": format!("{folder}/") }));
            }
        }
    }
    if !models.iter().any(|m| m["id"] == args.default.as_str()) {
        return Err(format!("the default model `{}` is not among the shipped models {models:?}", args.default));
    }
    let index = json!({ "default": args.default, "models": models });
    std::fs::write(&args.index, serde_json::to_string_pretty(&index).expect("json") + "\n").map_err(|e| e.to_string())?;
    eprintln!("wrote {} and {}", path.display(), args.index.display());
    Ok(())
}
