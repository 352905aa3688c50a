//! A confusion matrix whose cells open their images: rows are the actual class, columns the
//! model's first choice. Used by the model card and by the fine-tuning results.

use leptos::prelude::*;

use crate::classes::FractureClass;
use crate::train::Evaluation;

/// One cell: (actual, predicted) class indices.
pub type Cell = (usize, usize);

/// The matrix. A cell with images is a button that calls `on_open`; `opened` is highlighted.
#[component]
pub fn ConfusionMatrix(
    caption: String,
    evaluation: Evaluation,
    /// `data-testid` of the table; its cell buttons get `<testid>-cell`.
    testid: &'static str,
    #[prop(into)] opened: Signal<Option<Cell>>,
    on_open: Callback<Cell>,
) -> impl IntoView {
    let header = FractureClass::ALL
        .iter()
        .map(|c| view! { <th scope="col" title=c.display_name()>{abbreviation(*c)}</th> })
        .collect_view();
    let rows = evaluation
        .confusion
        .iter()
        .enumerate()
        .map(|(actual, row)| {
            let cells = row
                .iter()
                .enumerate()
                .map(|(predicted, &n)| {
                    let cell = (actual, predicted);
                    let name = |i: usize| FractureClass::from_index(i).map_or("?", |c| c.display_name());
                    let label = format!("{n} X-rays: actual {}, predicted {}", name(actual), name(predicted));
                    view! {
                        <td class:diagonal=actual == predicted class:empty=n == 0>
                            <button
                                data-testid=format!("{testid}-cell")
                                data-actual=actual
                                data-predicted=predicted
                                aria-label=label
                                disabled=n == 0
                                class:open=move || opened.get() == Some(cell)
                                on:click=move |_| on_open.run(cell)
                            >
                                {n}
                            </button>
                        </td>
                    }
                })
                .collect_view();
            let class = FractureClass::from_index(actual).expect("a row per class");
            view! { <tr><th scope="row" title=class.display_name()>{abbreviation(class)}</th>{cells}</tr> }
        })
        .collect_view();
    view! {
        <table class="confusion" data-testid=testid>
            <caption>{caption}</caption>
            <thead><tr><th></th>{header}</tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// `Fracture Dislocation` → `FD`, `Spiral Fracture` → `Sp`: column headers that fit.
pub fn abbreviation(class: FractureClass) -> &'static str {
    match class {
        FractureClass::Avulsion => "Av",
        FractureClass::Comminuted => "Co",
        FractureClass::FractureDislocation => "FD",
        FractureClass::Greenstick => "Gr",
        FractureClass::Hairline => "Ha",
        FractureClass::Impacted => "Im",
        FractureClass::Longitudinal => "Lo",
        FractureClass::Oblique => "Ob",
        FractureClass::Pathological => "Pa",
        FractureClass::Spiral => "Sp",
    }
}
