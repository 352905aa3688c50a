//! After a run: accuracy per class and confusion matrices on the held-out images, before and
//! after; a click on a cell shows its images.

use leptos::prelude::*;

use super::data::LabelledSet;
use crate::app::blobs::object_url;
use crate::app::confusion::ConfusionMatrix;
use crate::app::engine_link::use_engine;
use crate::classes::FractureClass;
use crate::train::{Evaluation, FineTuneReport};

/// Which matrix and cell the visitor opened: (after?, actual, predicted).
type Cell = (bool, usize, usize);

/// The scores of the latest run on its held-out images.
#[component]
pub fn RunResults(run_set: RwSignal<LabelledSet>) -> impl IntoView {
    let link = use_engine();
    let opened = RwSignal::new(None::<Cell>);
    move || {
        let report = link.fine_tune.with(|r| r.report.clone())?;
        let (Some(before), Some(after)) = (report.before.clone(), report.after.clone()) else {
            return Some(view! { <p>"No images were held out, so there is nothing to score."</p> }.into_any());
        };
        let kept = match report.best_epoch {
            0 => "No epoch finished, so the model did not change.".to_string(),
            n => format!("Kept: epoch {n} (lowest held-out loss)."),
        };
        Some(
            view! {
                <div class="run-results" data-testid="finetune-results">
                    <h3>"Before and after, on the same held-out images"</h3>
                    <p>
                        {format!(
                            "{} held-out images{}: accuracy {:.1} % → {:.1} %, loss {:.3} → {:.3}. {kept}",
                            report.valid_images,
                            if report.grouped { " (near-copies kept on one side)" } else { "" },
                            before.accuracy * 100.0,
                            after.accuracy * 100.0,
                            before.loss,
                            after.loss
                        )}
                    </p>
                    <PerClass before=before.clone() after=after.clone() />
                    <div class="matrices">
                        <Confusion title="Before" evaluation=before after=false opened />
                        <Confusion title="After" evaluation=after after=true opened />
                    </div>
                    <CellImages report opened run_set />
                </div>
            }
            .into_any(),
        )
    }
}

#[component]
fn PerClass(before: Evaluation, after: Evaluation) -> impl IntoView {
    view! {
        <table class="per-class" data-testid="finetune-per-class">
            <thead>
                <tr><th>"Class"</th><th>"Held-out images"</th><th>"Recall before"</th><th>"Recall after"</th></tr>
            </thead>
            <tbody>
                {before
                    .per_class
                    .iter()
                    .zip(&after.per_class)
                    .map(|(b, a)| {
                        let (better, worse) = (a.recall > b.recall, a.recall < b.recall);
                        view! {
                            <tr>
                                <td>{b.class.clone()}</td>
                                <td>{b.support}</td>
                                <td>{percent(b.recall, b.support)}</td>
                                <td class:better=better class:worse=worse>{percent(a.recall, a.support)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// One of the two matrices, sharing `opened` with the other.
#[component]
fn Confusion(title: &'static str, evaluation: Evaluation, after: bool, opened: RwSignal<Option<Cell>>) -> impl IntoView {
    let mine = Signal::derive(move || opened.get().filter(|c| c.0 == after).map(|(_, a, p)| (a, p)));
    view! {
        <ConfusionMatrix
            caption=format!("{title} (rows: actual, columns: predicted)")
            evaluation
            testid=if after { "confusion-after" } else { "confusion-before" }
            opened=mine
            on_open=Callback::new(move |(actual, predicted)| opened.set(Some((after, actual, predicted))))
        />
    }
}

/// The held-out images of the opened cell.
#[component]
fn CellImages(report: FineTuneReport, opened: RwSignal<Option<Cell>>, run_set: RwSignal<LabelledSet>) -> impl IntoView {
    move || {
        let (after, actual, predicted) = opened.get()?;
        let images = report
            .held_out
            .iter()
            .filter(|h| h.actual == actual && (if after { h.after } else { h.before }) == predicted)
            .filter_map(|h| run_set.with(|s| s.images.get(h.index).cloned()))
            .map(|image| {
                let url = object_url(&image.bytes).unwrap_or_default();
                let revoke = url.clone();
                on_cleanup(move || {
                    let _ = web_sys::Url::revoke_object_url(&revoke);
                });
                view! {
                    <figure>
                        <img src=url alt=image.name.clone() />
                        <figcaption>{image.name}</figcaption>
                    </figure>
                }
            })
            .collect_view();
        let name = |i: usize| FractureClass::from_index(i).map_or("?", |c| c.display_name());
        Some(view! {
            <div class="cell-images" data-testid="finetune-cell-images">
                <p>
                    {format!(
                        "{}: actual {}, predicted {}. ",
                        if after { "After" } else { "Before" },
                        name(actual),
                        name(predicted)
                    )}
                    <button on:click=move |_| opened.set(None)>"Close"</button>
                </p>
                <div class="thumbs">{images}</div>
            </div>
        })
    }
}

fn percent(value: f64, support: usize) -> String {
    if support == 0 {
        "—".into()
    } else {
        format!("{:.0} %", value * 100.0)
    }
}
