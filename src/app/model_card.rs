//! The Model card section: what the network is, how it was trained, and how good it honestly is.

use leptos::prelude::*;

use super::analysis::AnalysisViews;
use super::engine_link::{use_engine, ModelState};
use crate::data::{Framing, SplitKind};
use crate::model::Architecture;
use crate::store::{ComparedCrossValidation, ModelCard, RunMetrics};
use crate::train::{CrossValidation, Keep, MeanSd, Schedule, Trainable, TrainingConfig};

/// Validation accuracy the reference Keras notebook reported, on a random split that puts
/// near-copies of the same X-ray on both sides.
pub const NOTEBOOK_REPORTED_ACCURACY: f64 = 0.8934;

/// The section; filled in once the model is loaded.
#[component]
pub fn ModelCardSection() -> impl IntoView {
    let link = use_engine();
    view! {
        <section class="model-card" id="model-card">
            <h2>"Model card"</h2>
            {move || match link.model.get() {
                ModelState::Ready { card, .. } => view! { <CardDetails card=*card /> }.into_any(),
                _ => view! { <p>"Shown once the model is loaded."</p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn CardDetails(card: ModelCard) -> impl IntoView {
    let training = &card.training;
    let mut runs: Vec<RunMetrics> = card.metrics.values().cloned().collect();
    runs.extend(card.comparison.iter().cloned());
    let cross_validated = card.compared_cross_validations();
    let weights =
        card.weights.as_ref().map(|w| format!("{} ({:.2} MB, {}), sha256 {}", w.file, w.bytes as f64 / 1e6, w.dtype, w.sha256));
    view! {
        <dl class="facts">
            <dt>"Network"</dt>
            <dd>{format!("{} — {} parameters (including batch-norm statistics)", card.name, thousands(card.parameters))}</dd>
            <dt>"Input"</dt>
            <dd>{format!(
                "{}×{} RGB; {}{}; {}",
                card.input.width,
                card.input.height,
                if card.input.framing == Framing::TrimBars { "flat padding bars trimmed, then " } else { "" },
                card.input.resize,
                card.input.scale
            )}</dd>
            <dt>"Training"</dt>
            <dd>{format!(
                "Adam, learning rate {}{}{}, batch {}, {} epochs ({}), seed {}, {} split with {:.0} % held out{}{}{}{}{}{}",
                training.learning_rate,
                if training.trunk_lr_factor != 1.0 {
                    format!(" (× {} for the trunk)", training.trunk_lr_factor)
                } else {
                    String::new()
                },
                if training.schedule == Schedule::Cosine { " falling to zero along a cosine" } else { "" },
                training.batch_size,
                training.epochs,
                match training.keep {
                    Keep::BestValidation => "best by validation loss kept",
                    Keep::Last => "the last kept",
                },
                training.seed,
                split_name(training.split),
                training.valid_fraction * 100.0,
                match training.trainable {
                    Trainable::AfterBlock(n) => format!("; ImageNet weights, the stem and first {n} blocks frozen"),
                    Trainable::Head => "; only the head trained".into(),
                    Trainable::Whole => String::new(),
                },
                if training.augment { "; flips, rotations, zooms and exposure changes" } else { "" },
                if training.label_smoothing > 0.0 { format!("; label smoothing {}", training.label_smoothing) } else { String::new() },
                if training.mixup > 0.0 { format!("; mixup α {}", training.mixup) } else { String::new() },
                if training.drop_path > 0.0 { format!("; stochastic depth {}", training.drop_path) } else { String::new() },
                if training.weight_average > 0.0 {
                    format!("; weights averaged over the steps (moving average, decay {})", training.weight_average)
                } else {
                    String::new()
                },
            )}</dd>
            {(!card.averaged_from.is_empty()).then(|| view! {
                <dt>"Soup"</dt>
                <dd data-testid="soup">{soup_text(&card.averaged_from)}</dd>
            })}
            {(card.views > 1).then(|| view! {
                <dt>"Test-time views"</dt>
                <dd data-testid="views">{format!(
                    "Each answer is the mean of the probabilities over {} views of the upload: the image itself and \
                     {} variants of it (mirrored, turned by up to 10°, zoomed in by up to 15 %, exposure changed), the \
                     same variants every time. The heatmap is the image's own.",
                    card.views,
                    card.views - 1
                )}</dd>
            })}
            <dt>"Weights"</dt>
            <dd class="mono">{weights}</dd>
            {card.calibration.as_ref().map(|c| view! {
                <dt>"Calibration"</dt>
                <dd data-testid="calibration">{format!(
                    "The shown probabilities are temperature-scaled (T = {:.2}, fitted on {} validation images): \
                     expected calibration error {:.3} → {:.3}, loss {:.3} → {:.3}",
                    c.temperature, c.fitted_on, c.ece_before, c.ece_after, c.nll_before, c.nll_after
                )}</dd>
            })}
        </dl>
        {card.cross_validation.clone().map(|cv| view! { <CrossValidationTable cv=cv views=card.cross_validation_views.clone() /> })}
        <AnalysisViews />
        <h3>"How good is it?"</h3>
        <p>
            "The reference notebook reported 89.34 % validation accuracy. Its random split puts near-copies of the same "
            "X-ray on both sides, so it measures memory more than diagnosis. A group split keeps every near-copy group "
            "on one side; cross-validation repeats it fold by fold, so that every image is scored once by a model "
            "that never saw it or its near-copies: those are the numbers to trust."
        </p>
        <table class="metrics" data-testid="metrics-table">
            <thead>
                <tr>
                    <th>"Model"</th><th>"Evaluation"</th><th>"Top-1"</th><th>"Top-3"</th><th>"Macro-F1"</th>
                    <th>"Loss"</th><th>"Images scored"</th>
                </tr>
            </thead>
            <tbody>
                <tr class="reported">
                    <td>"Reference notebook CNN (Keras)"</td><td>"random split"</td>
                    <td>{percent(NOTEBOOK_REPORTED_ACCURACY)}</td><td>"—"</td><td>"—"</td><td>"—"</td><td>"reported"</td>
                </tr>
                {cross_validated.into_iter().map(|compared| view! { <CrossValidatedRow compared=compared /> }).collect_view()}
                {runs
                    .into_iter()
                    .map(|run| {
                        let v = run.validation;
                        view! {
                            <tr>
                                <td>{Architecture::readable(&run.model)}</td>
                                <td>{format!("{} split", split_name(run.split))}</td>
                                <td>{percent(v.accuracy)}</td>
                                <td>{percent(v.top3_accuracy)}</td>
                                <td>{format!("{:.3}", v.macro_f1)}</td>
                                <td>{format!("{:.3}", v.loss)}</td>
                                <td>{v.n}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// A model's cross-validated scores in the comparison table, mean ± sd over the folds.
#[component]
fn CrossValidatedRow(compared: ComparedCrossValidation) -> impl IntoView {
    let cv = compared.cross_validation;
    view! {
        <tr class="trusted" data-testid="compared-cv" data-model=compared.model.clone()>
            <td>{Architecture::readable(&compared.model)}</td>
            <td>{format!("{} group folds", cv.folds)}</td>
            <td>{pm_percent(cv.top1)}</td><td>{pm_percent(cv.top3)}</td><td>{pm(cv.macro_f1)}</td>
            <td>{pm(cv.loss)}</td><td>{cv.results.iter().map(|r| r.test_images).sum::<usize>()}</td>
        </tr>
    }
}

/// The recipe's group-disjoint k-fold scores, mean ± sd over folds: each answer from the image
/// alone and, when measured, as the page answers (the mean over the card's test-time views,
/// with the temperature fitted on those means).
#[component]
fn CrossValidationTable(cv: CrossValidation, views: Option<CrossValidation>) -> impl IntoView {
    let views_row = views.map(|v| {
        view! {
            <tr class="trusted" data-testid="cv-views">
                <td>{format!("mean over {} views (the page's answer)", v.views.unwrap_or(1))}</td>
                <td>{pm_percent(v.top1)}</td><td>{pm_percent(v.top3)}</td><td>{pm(v.macro_f1)}</td>
                <td>{pm(v.loss)}</td><td>{pm(v.ece)}</td><td>{pm(v.calibrated_ece)}</td>
            </tr>
        }
    });
    view! {
        <h3>"Cross-validation"</h3>
        <p>{format!(
            "{} group-disjoint, class-stratified folds of all {} images: each fold scored by a model trained on the \
             others, none of whose near-copies it saw. Recipe: {}.",
            cv.folds,
            cv.results.iter().map(|r| r.test_images).sum::<usize>(),
            cv.recipe
        )}</p>
        <table class="metrics" data-testid="cv-table">
            <thead>
                <tr>
                    <th>"Answer"</th><th>"Top-1"</th><th>"Top-3"</th><th>"Macro-F1"</th><th>"Loss"</th><th>"ECE"</th>
                    <th>"ECE, calibrated"</th>
                </tr>
            </thead>
            <tbody>
                <tr class="trusted">
                    <td>"the image alone"</td>
                    <td>{pm_percent(cv.top1)}</td><td>{pm_percent(cv.top3)}</td><td>{pm(cv.macro_f1)}</td>
                    <td>{pm(cv.loss)}</td><td>{pm(cv.ece)}</td><td>{pm(cv.calibrated_ece)}</td>
                </tr>
                {views_row}
            </tbody>
        </table>
    }
}

/// What a soup's weights average: its runs, as they differ in what they trained.
fn soup_text(runs: &[TrainingConfig]) -> String {
    format!(
        "The weights are the mean of {} training runs' weights (a model soup: one model, one pass per image): {}. \
         The training line above is the first run's.",
        runs.len(),
        runs.iter().map(run_text).collect::<Vec<_>>().join("; ")
    )
}

/// A soup member's training: what its runs can differ in — what was trained, how long, the
/// seeds and the regularisers it used.
pub(super) fn run_text(t: &TrainingConfig) -> String {
    let trained = match t.trainable {
        Trainable::AfterBlock(n) => format!("{n} blocks frozen"),
        Trainable::Head => "head only".to_string(),
        Trainable::Whole => "every layer".to_string(),
    };
    let mut parts = vec![trained, format!("{} epochs", t.epochs), format!("seed {}", t.seed)];
    parts.extend(t.init_seed.map(|seed| format!("initial weights from seed {seed}")));
    parts.extend((t.label_smoothing > 0.0).then(|| format!("label smoothing {}", t.label_smoothing)));
    parts.extend(t.class_weighted.then(|| "classes weighted".to_string()));
    parts.extend((t.mixup > 0.0).then(|| format!("mixup α {}", t.mixup)));
    parts.extend((t.drop_path > 0.0).then(|| format!("stochastic depth {}", t.drop_path)));
    parts.join(", ")
}

fn split_name(split: SplitKind) -> &'static str {
    match split {
        SplitKind::Group => "group",
        SplitKind::Random => "random",
    }
}

/// `6151446` → `6,151,446`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `45.5 ± 2.9 %`.
fn pm_percent(m: MeanSd) -> String {
    format!("{:.1} ± {:.1} %", m.mean * 100.0, m.sd * 100.0)
}

/// `1.717 ± 0.046`.
fn pm(m: MeanSd) -> String {
    format!("{:.3} ± {:.3}", m.mean, m.sd)
}

fn percent(value: f64) -> String {
    format!("{:.1} %", value * 100.0)
}
