//! The reference notebook's analysis views for the model in use: its training curves (from the
//! `metrics.jsonl` next to its weights), per-class precision, recall and F1, and the confusion
//! matrix of its group-split validation images.

use leptos::prelude::*;

use super::engine_link::{use_engine, ModelState};
use super::finetune::charts::{LineChart, Series};
use crate::fetch::fetch_bytes;
use crate::train::{EpochReport, Evaluation};
use crate::worker::weights::MODELS_URL;

/// Curves, per-class table and confusion matrix; empty until a model is ready.
#[component]
pub fn AnalysisViews() -> impl IntoView {
    let link = use_engine();
    let card = move || match link.model.get() {
        ModelState::Ready { card, .. } => Some(*card),
        _ => None,
    };
    // The shipped model in use, if it is one: its folder holds the per-epoch log.
    let log_url = move || {
        let card = card()?;
        let (models, _) = link.shipped.get();
        let model = models.into_iter().find(|m| m.id == card.id)?;
        Some(format!("{MODELS_URL}/{}metrics.jsonl", model.path))
    };
    let history = LocalResource::new(move || {
        let url = log_url();
        async move {
            let bytes = fetch_bytes(&url?).await.ok()?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            Some(text.lines().filter_map(|line| serde_json::from_str::<EpochReport>(line).ok()).collect::<Vec<_>>())
        }
    });
    let curves = move |pick: fn(&EpochReport) -> (f64, f64)| {
        Signal::derive(move || {
            let epochs = history.get().flatten().unwrap_or_default();
            let (train, valid): (Vec<f64>, Vec<f64>) = epochs.iter().map(pick).unzip();
            vec![
                Series { label: "train", class: "train", values: train },
                Series { label: "validation", class: "valid", values: valid },
            ]
        })
    };
    let loss = curves(|e| (e.train_loss, e.valid_loss));
    let accuracy = curves(|e| (e.train_accuracy, e.valid_accuracy));
    view! {
        <h3>"Training curves"</h3>
        {move || match history.get().flatten() {
            Some(epochs) if !epochs.is_empty() => view! {
                <p>{format!("{} epochs of the shipped run, from its metrics.jsonl.", epochs.len())}</p>
                <div class="charts" data-testid="training-curves">
                    <LineChart title="Loss per epoch" series=loss />
                    <LineChart title="Accuracy per epoch" series=accuracy />
                </div>
            }
            .into_any(),
            _ => view! { <p>"Only the shipped models carry their training log."</p> }.into_any(),
        }}
        {move || card().and_then(|card| card.metrics.get("group").cloned()).map(|run| view! {
            <ClassTables evaluation=run.validation />
        })}
    }
}

/// Per-class metrics and the confusion matrix of one evaluation.
#[component]
fn ClassTables(evaluation: Evaluation) -> impl IntoView {
    let short = |name: &str| name.replace(" fracture", "").replace(" Fracture", "");
    let names: Vec<String> = evaluation.per_class.iter().map(|m| short(&m.class)).collect();
    let header = names.clone();
    view! {
        <h3>{format!("Per class, on the {} group-split validation X-rays", evaluation.n)}</h3>
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
        <p>"Rows: the actual class; columns: the model's first choice. The diagonal is right."</p>
        <table class="confusion" data-testid="confusion-matrix">
            <thead>
                <tr><th></th>{header.into_iter().map(|n| view! { <th scope="col">{n}</th> }).collect_view()}</tr>
            </thead>
            <tbody>
                {evaluation.confusion.iter().zip(names).enumerate().map(|(actual, (row, name))| view! {
                    <tr>
                        <th scope="row">{name}</th>
                        {row.iter().enumerate().map(|(predicted, &count)| view! {
                            <td class:diagonal=actual == predicted class:empty=count == 0>{count}</td>
                        }).collect_view()}
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
