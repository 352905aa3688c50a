//! `fracture combine`: scores combinations of `fracture cv` runs made on the same folds,
//! without retraining, from what each run saved per fold:
//!
//! - the **ensemble**: each image's probabilities averaged over the runs' fold models (the
//!   page would run every model);
//! - with `--soup`, the **soup**: one model per fold whose weights are the average of the runs'
//!   fold models ([`average_weights`]), scored on the fold's images (the page would run one);
//! - with `--views N [M …]`, that one model per fold (the soup, or a single run's own fold
//!   model) with each image's answer averaged over N (and M, …) test-time views, exactly as the
//!   page and `fracture evaluate` compute it for a card with `views` (`predict_views`); the
//!   largest count's views are computed once and each count is scored from the first of them.
//!
//! Each is calibrated as `cv` calibrates a run: its temperature fitted on the fold's inner
//! validation images, never on the fold.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bone_fracture::data::{load_folder, Xray};
use bone_fracture::model::Classifier;
use bone_fracture::store::{load_model_dir, ModelCard, CARD_FILE};
use bone_fracture::train::{
    average_weights, mean_row, predict, predict_each_view, AveragedViews, Calibration, CrossValidation, Evaluation, FoldResult,
    Prediction, PredictionPart,
};
use bone_fracture::NUM_CLASSES;
use clap::Args;
use serde::Serialize;

use crate::cv::{image_key, print_summary};
use crate::Backend;

#[derive(Args)]
pub struct CombineArgs {
    /// `fracture cv` output folders made with the same folds and seed (one is enough for
    /// --views).
    #[arg(long, num_args = 1.., required = true)]
    runs: Vec<PathBuf>,
    /// Also average each fold's models' weights into one model and score it; needs --data.
    #[arg(long, requires = "data")]
    soup: bool,
    /// The folder of class folders the runs were cross-validated on.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Also score each fold's one model (the soup with --soup, else the single run's model)
    /// with each image's probabilities averaged over this many test-time views, as the page
    /// computes them; several counts (`--views 8 16`) are scored from one pass over the
    /// largest; needs --data.
    #[arg(long, num_args = 1.., requires = "data")]
    views: Vec<usize>,
    /// Images per forward pass; with --views each image's views are one pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
    /// Where to write combine.json (the combinations' cross-validations).
    #[arg(long)]
    out: PathBuf,
}

/// What `combine.json` holds.
#[derive(Serialize)]
struct Combined {
    runs: Vec<String>,
    ensemble: CrossValidation,
    #[serde(skip_serializing_if = "Option::is_none")]
    soup: Option<CrossValidation>,
    /// Each fold's one model with each image's probabilities averaged over its test-time
    /// views (inner validation images too, for the temperature), one summary per `--views`
    /// count.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    views: Vec<CrossValidation>,
}

/// A fold's saved answers, inner validation first, as `cv` wrote them.
struct FoldPredictions {
    valid: Vec<Prediction>,
    test: Vec<Prediction>,
}

impl FoldPredictions {
    fn part(&self, part: PredictionPart) -> &[Prediction] {
        match part {
            PredictionPart::InnerValid => &self.valid,
            PredictionPart::Test => &self.test,
        }
    }
}

/// A JSON file of this tool's (`cv.json`, `model.json`, …), with its path in any error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_predictions(path: &Path) -> Result<FoldPredictions, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e} (made by a `fracture cv` that saves them)", path.display()))?;
    let rows: Vec<Prediction> = text
        .lines()
        .map(|line| serde_json::from_str(line).map_err(|e| format!("{}: {e}", path.display())))
        .collect::<Result<_, _>>()?;
    let (valid, test) = rows.into_iter().partition(|p| p.part == PredictionPart::InnerValid);
    Ok(FoldPredictions { valid, test })
}

/// The mean of the rows that `pick` takes from each run's predictions (of one part of a fold),
/// which must name the same images in the same order; `None` where a run has no such row.
fn mean_rows(
    runs: &[FoldPredictions],
    part: PredictionPart,
    pick: fn(&Prediction) -> Option<[f32; NUM_CLASSES]>,
) -> Option<Vec<[f32; NUM_CLASSES]>> {
    let mut sums = vec![[0f32; NUM_CLASSES]; runs[0].part(part).len()];
    for run in runs.iter().map(|r| r.part(part)) {
        for (sum, prediction) in sums.iter_mut().zip(run) {
            let row = pick(prediction)?;
            sum.iter_mut().zip(row).for_each(|(s, p)| *s += p / runs.len() as f32);
        }
    }
    Some(sums)
}

/// The runs' recipes as one label: the first's in full, then what each other run changed in it
/// (for the cards and tables that show a combination's recipe).
fn recipes(members: &[CrossValidation]) -> String {
    let first: Vec<&str> = members[0].recipe.split(" · ").collect();
    let mut label = members[0].recipe.clone();
    for other in &members[1..] {
        let changed: Vec<&str> = other.recipe.split(" · ").filter(|part| !first.contains(part)).collect();
        label += &match changed.is_empty() {
            true => " + the same recipe again".to_string(),
            false => format!(" + the same with {}", changed.join(" · ")),
        };
    }
    label
}

fn labels(predictions: &[Prediction]) -> Vec<usize> {
    predictions.iter().map(|p| p.label).collect()
}

/// Scores one fold's combination from its probabilities on the inner validation and test images.
fn score(
    number: usize,
    train_images: usize,
    (valid, test): (&[Prediction], &[Prediction]),
    (valid_rows, test_rows): (&[[f32; NUM_CLASSES]], &[[f32; NUM_CLASSES]]),
) -> FoldResult {
    let calibration = Calibration::fit(valid_rows, &labels(valid));
    // Several models: no one epoch was kept.
    FoldResult::score(number, (train_images, valid.len()), 0, calibration, test_rows, &labels(test))
}

pub fn run(args: CombineArgs) -> Result<(), String> {
    let members: Vec<CrossValidation> = args.runs.iter().map(|run| read_json(&run.join("cv.json"))).collect::<Result<_, _>>()?;
    if args.runs.len() > 1 && !args.views.is_empty() && !args.soup {
        return Err("--views scores one model per fold: with several runs, add --soup".into());
    }
    if args.views.contains(&0) {
        return Err("--views counts the image itself: 1 or more".into());
    }
    let first = &members[0];
    if let Some((run, other)) = args.runs.iter().zip(&members).find(|(_, m)| (m.folds, m.seed) != (first.folds, first.seed)) {
        return Err(format!(
            "{} has {} folds of seed {}, {} has {} of seed {}: the runs' folds differ",
            run.display(),
            other.folds,
            other.seed,
            args.runs[0].display(),
            first.folds,
            first.seed
        ));
    }
    // Folds every run finished.
    let numbers: Vec<usize> =
        (1..=first.folds).filter(|n| members.iter().all(|m| m.results.iter().any(|r| r.fold == *n))).collect();
    if numbers.is_empty() {
        return Err("the runs have no finished fold in common".into());
    }
    let device = args.backend.device()?;
    let one_model = args.soup || !args.views.is_empty();
    let dataset = match (&args.data, one_model) {
        (Some(data), true) => {
            let card: ModelCard = read_json(&args.runs[0].join(format!("fold-{}/{CARD_FILE}", numbers[0])))?;
            eprintln!("decoding {} …", data.display());
            Some(load_folder(data, card.input.framing).map_err(|e| e.to_string())?)
        }
        _ => None,
    };
    let keys: Vec<String> = dataset.iter().flat_map(|d| d.items.iter().map(image_key)).collect();
    let index_of: HashMap<&str, usize> = keys.iter().enumerate().map(|(i, key)| (key.as_str(), i)).collect();
    let by_key = |key: &str| Some(&dataset.as_ref()?.items[*index_of.get(key)?]);

    let (mut ensemble, mut soup) = (Vec::new(), Vec::new());
    let mut views: Vec<Vec<FoldResult>> = vec![Vec::new(); args.views.len()];
    for &number in &numbers {
        let folds: Vec<FoldPredictions> = args
            .runs
            .iter()
            .map(|run| read_predictions(&run.join(format!("fold-{number}/predictions.jsonl"))))
            .collect::<Result<_, _>>()?;
        let (valid, test) = (&folds[0].valid, &folds[0].test);
        let same_images = |a: &[Prediction], b: &[Prediction]| a.iter().map(|p| &p.file).eq(b.iter().map(|p| &p.file));
        if let Some(i) = folds.iter().position(|f| !same_images(&f.valid, valid) || !same_images(&f.test, test)) {
            return Err(format!("fold {number}: {} scored other images than {}", args.runs[i].display(), args.runs[0].display()));
        }
        let train_images = first.results.iter().find(|r| r.fold == number).map_or(0, |r| r.train_images);
        let probabilities = |part| mean_rows(&folds, part, |p| Some(p.probabilities)).expect("every row has probabilities");
        let (valid_rows, test_rows) = (probabilities(PredictionPart::InnerValid), probabilities(PredictionPart::Test));
        let mut result = score(number, train_images, (valid, test), (&valid_rows, &test_rows));
        if let Some(rows) = mean_rows(&folds, PredictionPart::Test, |p| p.averaged_views) {
            let views = members.iter().filter_map(|m| m.results.iter().find(|r| r.fold == number)?.averaged_views.as_ref());
            let views = views.map(|a| a.views).max().unwrap_or(0);
            result.averaged_views = Some(AveragedViews { views, raw: Evaluation::from_probabilities(&rows, &labels(test)) });
        }
        eprintln!(
            "fold {number}, ensemble: top-1 {:.3} · top-3 {:.3} · loss {:.3}",
            result.raw.accuracy, result.raw.top3_accuracy, result.raw.loss
        );
        ensemble.push(result);

        if one_model {
            let models: Vec<Classifier> = args
                .runs
                .iter()
                .map(|run| load_model_dir(&run.join(format!("fold-{number}")), &device).map(|(_, model)| model))
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
            let model = match models.len() {
                1 => models.into_iter().next().expect("one run"),
                _ => average_weights(&models).expect("two or more runs"),
            };
            let images = |predictions: &[Prediction]| -> Result<Vec<&Xray>, String> {
                predictions
                    .iter()
                    .map(|p| by_key(&p.file).map(|item| &item.xray).ok_or_else(|| format!("{} is not in --data", p.file)))
                    .collect()
            };
            let image_alone = |predictions: &[Prediction]| {
                pollster::block_on(predict(&model, &images(predictions)?, args.batch_size, &device)).map_err(|e| e.to_string())
            };
            if args.soup {
                let rows = (image_alone(valid)?, image_alone(test)?);
                let result = score(number, train_images, (valid, test), (&rows.0, &rows.1));
                eprintln!(
                    "fold {number}, soup: top-1 {:.3} · top-3 {:.3} · loss {:.3}",
                    result.raw.accuracy, result.raw.top3_accuracy, result.raw.loss
                );
                soup.push(result);
            }
            if let Some(&most) = args.views.iter().max() {
                let each_view = |predictions: &[Prediction]| {
                    pollster::block_on(predict_each_view(&model, &images(predictions)?, most, &device)).map_err(|e| e.to_string())
                };
                let (valid_views, test_views) = (each_view(valid)?, each_view(test)?);
                for (&count, results) in args.views.iter().zip(&mut views) {
                    // Calibrated as the page shows it: the temperature fitted on the inner
                    // validation images' averages.
                    let means =
                        |rows: &[Vec<[f32; NUM_CLASSES]>]| -> Vec<_> { rows.iter().map(|r| mean_row(&r[..count])).collect() };
                    let rows = (means(&valid_views), means(&test_views));
                    let result = score(number, train_images, (valid, test), (&rows.0, &rows.1));
                    eprintln!(
                        "fold {number}, {count} views: top-1 {:.3} · top-3 {:.3} · loss {:.3} · ECE {:.3} → {:.3}",
                        result.raw.accuracy, result.raw.top3_accuracy, result.raw.loss, result.raw_ece, result.calibrated_ece
                    );
                    results.push(result);
                }
            }
        }
    }

    let names: Vec<String> = args.runs.iter().map(|r| r.display().to_string()).collect();
    for (name, member) in names.iter().zip(&members) {
        let results = member.results.iter().filter(|r| numbers.contains(&r.fold)).cloned().collect();
        print_summary(&CrossValidation::summarise(&format!("{name}: {}", member.recipe), member.folds, member.seed, results));
    }
    let recipe = recipes(&members);
    let one_model_label = match args.soup {
        true => format!("soup (weights averaged) of {recipe}"),
        false => recipe.clone(),
    };
    let combined = Combined {
        ensemble: CrossValidation::summarise(&format!("ensemble of {recipe}"), first.folds, first.seed, ensemble),
        soup: args.soup.then(|| CrossValidation::summarise(&one_model_label, first.folds, first.seed, soup)),
        views: args
            .views
            .iter()
            .zip(views)
            .map(|(&count, results)| {
                let summary = CrossValidation::summarise(
                    &format!("{one_model_label} · each answer averaged over {count} test-time views"),
                    first.folds,
                    first.seed,
                    results,
                );
                CrossValidation { views: Some(count), ..summary }
            })
            .collect(),
        runs: names,
    };
    print_summary(&combined.ensemble);
    for summary in combined.soup.iter().chain(&combined.views) {
        print_summary(summary);
    }
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let write = |name: &str, json: String| {
        let path = args.out.join(name);
        std::fs::write(&path, json + "\n").map_err(|e| format!("{}: {e}", path.display()))
    };
    let pretty = |cv: &CrossValidation| serde_json::to_string_pretty(cv).expect("json");
    write("combine.json", serde_json::to_string_pretty(&combined).expect("json"))?;
    // Each combination also alone, as `cv.json` holds a run's (`fracture publish --cv` takes it).
    write("ensemble.json", pretty(&combined.ensemble))?;
    combined.soup.as_ref().map_or(Ok(()), |soup| write("soup.json", pretty(soup)))?;
    // `views.json`: the first --views count's; `views-N.json`: each count's.
    if let Some(views) = combined.views.first() {
        write("views.json", pretty(views))?;
    }
    args.views.iter().zip(&combined.views).try_for_each(|(count, views)| write(&format!("views-{count}.json"), pretty(views)))
}
