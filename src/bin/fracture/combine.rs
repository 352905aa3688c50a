//! `fracture combine`: scores combinations of `fracture cv` runs made on the same folds,
//! without retraining, from what each run saved per fold:
//!
//! - the **ensemble**: each image's probabilities averaged over the runs' fold models (the
//!   page would run every model);
//! - with `--soup`, the **soup**: one model per fold whose weights are the average of the runs'
//!   fold models ([`average_weights`]), scored on the fold's images (the page would run one).
//!
//! Either is calibrated as `cv` calibrates a run: its temperature fitted on the fold's inner
//! validation images, never on the fold.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bone_fracture::data::{load_folder, LabelledXray, Xray};
use bone_fracture::model::Classifier;
use bone_fracture::store::{load_model_dir, ModelCard, CARD_FILE};
use bone_fracture::train::{
    average_weights, predict, predict_averaged_views, AveragedViews, Cached, Calibration, CrossValidation, Evaluation,
    FoldResult, Prediction, PredictionPart, Trainable,
};
use bone_fracture::NUM_CLASSES;
use clap::Args;
use serde::Serialize;

use crate::cv::{image_key, print_summary};
use crate::recipe::views_rng;
use crate::Backend;

#[derive(Args)]
pub struct CombineArgs {
    /// `fracture cv` output folders (two or more), made with the same folds and seed.
    #[arg(long, num_args = 2.., required = true)]
    runs: Vec<PathBuf>,
    /// Also average each fold's models' weights into one model and score it; needs --data.
    #[arg(long, requires = "data")]
    soup: bool,
    /// The folder of class folders the runs were cross-validated on.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Also score the soup with each test image's probabilities averaged over this many views
    /// (the image and augmented variants: the views `cv` cached for the first run's seed),
    /// through the blocks every run kept frozen, computed once.
    #[arg(long, requires = "soup")]
    views: Option<usize>,
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
    /// The soup with each image's probabilities averaged over its views (inner validation
    /// images too, for the temperature).
    #[serde(skip_serializing_if = "Option::is_none")]
    soup_views: Option<CrossValidation>,
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

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
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

/// Every item's views through the blocks that all the runs kept frozen (ImageNet's, the same in
/// each run and so in their soup), drawn as `cv` drew them for the first run's seed.
fn build_views(
    cards: &[ModelCard],
    soup: &Classifier,
    items: &[LabelledXray],
    views: usize,
    batch_size: usize,
    device: &burn::tensor::Device,
) -> Result<Cached, String> {
    let frozen = cards.iter().map(|card| match card.training.trainable {
        Trainable::AfterBlock(n) => Ok(n),
        _ => Err(format!("--views needs runs with --frozen-blocks; {} trained {:?}", card.id, card.training.trainable)),
    });
    let blocks = frozen.collect::<Result<Vec<_>, _>>()?.into_iter().min().unwrap_or(0);
    eprintln!("computing the first {blocks} blocks once: {} images × {views} views …", items.len());
    let all: Vec<&LabelledXray> = items.iter().collect();
    pollster::block_on(Cached::build(soup, &all, blocks, views, &mut views_rng(&cards[0].training), batch_size, device))
        .map_err(|e| e.to_string())
}

pub fn run(args: CombineArgs) -> Result<(), String> {
    let members: Vec<CrossValidation> = args.runs.iter().map(|run| read_json(&run.join("cv.json"))).collect::<Result<_, _>>()?;
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
    let dataset = match (&args.data, args.soup) {
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
    let mut views_cache: Option<Cached> = None;

    let (mut ensemble, mut soup, mut soup_views) = (Vec::new(), Vec::new(), Vec::new());
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

        if args.soup {
            let (cards, models): (Vec<ModelCard>, Vec<Classifier>) = args
                .runs
                .iter()
                .map(|run| load_model_dir(&run.join(format!("fold-{number}")), &device))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?
                .into_iter()
                .unzip();
            let model = average_weights(&models).expect("two or more runs");
            let images = |predictions: &[Prediction]| -> Result<Vec<&Xray>, String> {
                predictions
                    .iter()
                    .map(|p| by_key(&p.file).map(|item| &item.xray).ok_or_else(|| format!("{} is not in --data", p.file)))
                    .collect()
            };
            let valid_rows =
                pollster::block_on(predict(&model, &images(valid)?, args.batch_size, &device)).map_err(|e| e.to_string())?;
            let test_rows =
                pollster::block_on(predict(&model, &images(test)?, args.batch_size, &device)).map_err(|e| e.to_string())?;
            let mut result = score(number, train_images, (valid, test), (&valid_rows, &test_rows));
            if let Some(views) = args.views {
                let dataset = dataset.as_ref().expect("--soup decodes --data");
                let cache = match &views_cache {
                    Some(cache) => cache,
                    None => views_cache.insert(build_views(&cards, &model, &dataset.items, views, args.batch_size, &device)?),
                };
                let averaged = |predictions: &[Prediction]| {
                    let index: Vec<usize> = predictions.iter().map(|p| index_of[p.file.as_str()]).collect();
                    pollster::block_on(predict_averaged_views(&model, &cache.subset(&index), args.batch_size, &device))
                        .map_err(|e| e.to_string())
                };
                let (valid_rows, test_rows) = (averaged(valid)?, averaged(test)?);
                let raw = Evaluation::from_probabilities(&test_rows, &labels(test));
                result.averaged_views = Some(AveragedViews { views, raw });
                // Calibrated as the page would show it: the temperature fitted on the inner
                // validation images' averages.
                soup_views.push(score(number, train_images, (valid, test), (&valid_rows, &test_rows)));
            }
            eprintln!(
                "fold {number}, soup: top-1 {:.3} · top-3 {:.3} · loss {:.3}",
                result.raw.accuracy, result.raw.top3_accuracy, result.raw.loss
            );
            soup.push(result);
        }
    }

    let names: Vec<String> = args.runs.iter().map(|r| r.display().to_string()).collect();
    for (name, member) in names.iter().zip(&members) {
        let results = member.results.iter().filter(|r| numbers.contains(&r.fold)).cloned().collect();
        print_summary(&CrossValidation::summarise(&format!("{name}: {}", member.recipe), member.folds, member.seed, results));
    }
    let combined = Combined {
        ensemble: CrossValidation::summarise(&format!("ensemble of {}", names.join(" + ")), first.folds, first.seed, ensemble),
        soup: args.soup.then(|| {
            CrossValidation::summarise(
                &format!("soup (weights averaged) of {}", names.join(" + ")),
                first.folds,
                first.seed,
                soup,
            )
        }),
        soup_views: args.views.map(|views| {
            CrossValidation::summarise(
                &format!("soup of {}, each image averaged over {views} views", names.join(" + ")),
                first.folds,
                first.seed,
                soup_views,
            )
        }),
        runs: names,
    };
    print_summary(&combined.ensemble);
    for summary in combined.soup.iter().chain(&combined.soup_views) {
        print_summary(summary);
    }
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let path = args.out.join("combine.json");
    std::fs::write(&path, serde_json::to_string_pretty(&combined).expect("json") + "\n")
        .map_err(|e| format!("{}: {e}", path.display()))
}
