//! The reference notebook's image grids, from a shipped model's `gallery.json`: training X-rays
//! with their labels, and every validation X-ray with the model's answer beside the truth
//! (all of them, the right or wrong ones, or one confusion-matrix cell's).

use leptos::prelude::*;

use super::confusion::Cell;
use super::gallery::DatasetCredit;
use crate::classes::FractureClass;
use crate::store::{Predicted, Thumbnail};

/// Which validation images the grid shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    Right,
    Wrong,
    /// One confusion-matrix cell: (actual, predicted).
    Cell(Cell),
}

impl Filter {
    fn keeps(self, image: &Predicted) -> bool {
        let (actual, predicted) = (image.image.class.index(), image.predicted().index());
        match self {
            Filter::All => true,
            Filter::Right => actual == predicted,
            Filter::Wrong => actual != predicted,
            Filter::Cell(cell) => cell == (actual, predicted),
        }
    }

    /// The open cell, for the confusion matrix to highlight.
    pub fn cell(self) -> Option<Cell> {
        match self {
            Filter::Cell(cell) => Some(cell),
            _ => None,
        }
    }
}

/// Predicted vs actual for the validation X-rays; `filter` is shared with the confusion matrix.
#[component]
pub fn ValidationGrid(images: Vec<Predicted>, filter: RwSignal<Filter>) -> impl IntoView {
    let count = |f: Filter| images.iter().filter(|i| f.keeps(i)).count();
    let (all, right, wrong) = (count(Filter::All), count(Filter::Right), count(Filter::Wrong));
    let choice = move |f: Filter, label: String| {
        view! {
            <button data-testid="validation-filter" class:open=move || filter.get() == f on:click=move |_| filter.set(f)>
                {label}
            </button>
        }
    };
    let heading = move || match filter.get() {
        Filter::Cell((actual, predicted)) => format!(
            "Actual {}, predicted {}:",
            FractureClass::from_index(actual).map_or("?", |c| c.display_name()),
            FractureClass::from_index(predicted).map_or("?", |c| c.display_name())
        ),
        _ => "Show:".into(),
    };
    view! {
        <h3>"Validation X-rays: the model's answer and the truth"</h3>
        <p class="filters">
            <span data-testid="validation-heading">{heading}</span>
            {choice(Filter::All, format!("All {all}"))}
            {choice(Filter::Right, format!("Right {right}"))}
            {choice(Filter::Wrong, format!("Wrong {wrong}"))}
        </p>
        <ul class="xray-grid" data-testid="validation-grid">
            {images
                .into_iter()
                .map(|image| {
                    let shown = image.clone();
                    view! {
                        <li style:display=move || if filter.get().keeps(&shown) { None } else { Some("none") }>
                            <ValidationImage image />
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
fn ValidationImage(image: Predicted) -> impl IntoView {
    let (actual, predicted) = (image.image.class, image.predicted());
    let confidence = image.probabilities[predicted.index()];
    view! {
        <figure
            class="xray-thumb"
            class:right=actual == predicted
            class:wrong=actual != predicted
            data-testid="validation-image"
            data-actual=actual.index()
            data-predicted=predicted.index()
        >
            <img src=image.image.thumbnail alt=format!("Validation X-ray labelled {}", actual.display_name()) loading="lazy" />
            <figcaption>
                <span>"Actual: " {actual.display_name()}</span>
                <span class="answer">{format!("Model: {} ({:.0} %)", predicted.display_name(), confidence * 100.0)}</span>
            </figcaption>
        </figure>
    }
}

/// A few training X-rays of every class with their labels.
#[component]
pub fn TrainingGrid(images: Vec<Thumbnail>) -> impl IntoView {
    let shown = images.len();
    view! {
        <h3>"Training X-rays"</h3>
        <p>{format!("{shown} of the images the model learned from, a few per class, each from a different near-copy group.")}</p>
        <ul class="xray-grid" data-testid="training-grid">
            {images
                .into_iter()
                .map(|image| view! {
                    <li>
                        <figure class="xray-thumb" data-testid="training-image" data-class=image.class.index()>
                            <img src=image.thumbnail alt=format!("Training X-ray labelled {}", image.class.display_name()) loading="lazy" />
                            <figcaption>{image.class.display_name()}</figcaption>
                        </figure>
                    </li>
                })
                .collect_view()}
        </ul>
        <DatasetCredit what="X-rays, shrunk to thumbnails" />
    }
}
