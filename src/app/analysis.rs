//! The reference notebook's analysis views for the model in use: its training curves (from the
//! `metrics.jsonl` next to its weights; a soup's members' curves one after another), per-class
//! precision, recall and F1, a confusion matrix whose cells open their X-rays, predicted vs
//! actual for every validation X-ray and a grid of training X-rays (from the `gallery.json` next
//! to its weights).

use leptos::prelude::*;

use super::confusion::ConfusionMatrix;
use super::dataset_views::{Filter, TrainingGrid, ValidationGrid};
use super::engine_link::{use_engine, ModelState};
use super::finetune::charts::{LineChart, Series};
use super::model_card::run_text;
use crate::fetch::fetch_bytes;
use crate::store::{runs_in_log, Gallery, GALLERY_FILE, LOG_FILE};
use crate::train::{EpochReport, Evaluation, TrainingConfig};
use crate::worker::weights::MODELS_URL;

/// Curves, per-class table, confusion matrix and image grids; empty until a model is ready.
#[component]
pub fn AnalysisViews() -> impl IntoView {
    let link = use_engine();
    let card = move || match link.model.get() {
        ModelState::Ready { card, .. } => Some(*card),
        _ => None,
    };
    // The shipped model in use, if it is one: its folder holds the per-epoch log and the gallery.
    let shipped_file = move |name: &'static str| {
        let card = card()?;
        let (models, _) = link.shipped.get();
        let model = models.into_iter().find(|m| m.id == card.id)?;
        Some(format!("{MODELS_URL}/{}{name}", model.path))
    };
    let history = LocalResource::new(move || {
        let url = shipped_file(LOG_FILE);
        async move {
            let bytes = fetch_bytes(&url?).await.ok()?;
            Some(runs_in_log(&String::from_utf8_lossy(&bytes)))
        }
    });
    let gallery = LocalResource::new(move || {
        let url = shipped_file(GALLERY_FILE);
        async move { serde_json::from_slice::<Gallery>(&fetch_bytes(&url?).await.ok()?).ok() }
    });
    view! {
        <h3>"Training curves"</h3>
        {move || match history.get().flatten() {
            Some(runs) if !runs.is_empty() => {
                let members = card().map(|c| c.averaged_from).unwrap_or_default();
                runs.into_iter()
                    .map(|(run, epochs)| {
                        let member = run.and_then(|i| Some((i, members.get(i.checked_sub(1)?)?.clone())));
                        view! { <RunCurves epochs member /> }
                    })
                    .collect_view()
                    .into_any()
            }
            _ => view! { <p>"Only the shipped models carry their training log."</p> }.into_any(),
        }}
        {move || {
            let run = card()?.metrics.get("group").cloned()?;
            // Wait for the gallery's answer, so the tables are drawn once.
            let gallery = gallery.get()?;
            Some(view! { <ClassTables evaluation=run.validation gallery /> })
        }}
    }
}

/// One training run's loss and accuracy per epoch; `member` names a soup's run (its place in
/// the card's `averaged_from`, from 1, and its training).
#[component]
fn RunCurves(epochs: Vec<EpochReport>, member: Option<(usize, TrainingConfig)>) -> impl IntoView {
    let series = |pick: fn(&EpochReport) -> (f64, f64)| {
        let (train, valid): (Vec<f64>, Vec<f64>) = epochs.iter().map(pick).unzip();
        Signal::stored(vec![
            Series { label: "train", class: "train", values: train },
            Series { label: "validation", class: "valid", values: valid },
        ])
    };
    let caption = match &member {
        None => format!("{} epochs of the shipped run, from its metrics.jsonl.", epochs.len()),
        Some((i, training)) => format!("Run {i} of the soup ({}): {} epochs, from its log.", run_text(training), epochs.len()),
    };
    view! {
        <p>{caption}</p>
        <div class="charts" data-testid="training-curves">
            <LineChart title="Loss per epoch" series=series(|e| (e.train_loss, e.valid_loss)) />
            <LineChart title="Accuracy per epoch" series=series(|e| (e.train_accuracy, e.valid_accuracy)) />
        </div>
    }
}

/// Per-class metrics and the confusion matrix of the group-split validation X-rays, and the
/// images behind them. With a gallery, the figures are recomputed from the shipped weights'
/// predictions stored in it (f16 weights can move a near-tie against the card's f32 figures).
#[component]
fn ClassTables(evaluation: Evaluation, gallery: Option<Gallery>) -> impl IntoView {
    let (evaluation, source) = match &gallery {
        Some(g) => (g.validation_metrics(), "the shipped weights' answers"),
        None => (evaluation, "the training run's final evaluation"),
    };
    let filter = RwSignal::new(Filter::All);
    view! {
        <h3>{format!("Per class, on the {} group-split validation X-rays", evaluation.n)}</h3>
        <p>{format!("From {source}.")}</p>
        <table class="metrics" data-testid="per-class-table">
            <thead><tr><th>"Class"</th><th>"Precision"</th><th>"Recall"</th><th>"F1"</th><th>"Images"</th></tr></thead>
            <tbody>
                {evaluation.per_class.iter().map(|m| view! {
                    <tr>
                        <td>{m.class.clone()}</td>
                        <td>{format!("{:.2}", m.precision)}</td>
                        <td>{format!("{:.2}", m.recall)}</td>
                        <td>{format!("{:.2}", m.f1)}</td>
                        <td>{m.support}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <h3>"Confusion matrix"</h3>
        <p>
            "Rows: the actual class; columns: the model's first choice. The diagonal is right."
            {gallery.is_some().then_some(" Click a cell to see its X-rays below.")}
        </p>
        <ConfusionMatrix
            caption=format!("{} validation X-rays", evaluation.n)
            evaluation
            testid="confusion-matrix"
            opened=Signal::derive(move || filter.get().cell())
            on_open=Callback::new(move |cell| filter.set(Filter::Cell(cell)))
        />
        {gallery.map(|g| view! {
            <ValidationGrid images=g.validation filter />
            <TrainingGrid images=g.training />
        })}
    }
}
