//! The ten classes with probability bars, most likely first, the top three emphasised.

use leptos::prelude::*;

use crate::classes::FractureClass;
use crate::train::ranked_classes;
use crate::NUM_CLASSES;

/// Probability bars for one prediction.
#[component]
pub fn ProbabilityBars(
    /// Class probabilities in label order.
    probabilities: [f32; NUM_CLASSES],
) -> impl IntoView {
    let ranked = ranked_classes(&probabilities);
    view! {
        <ol class="probabilities" data-testid="probabilities">
            {ranked
                .iter()
                .enumerate()
                .map(|(rank, &index)| {
                    let class = FractureClass::from_index(index).expect("ranked indices are class indices");
                    let percent = probabilities[index] * 100.0;
                    view! {
                        <li
                            class="class-row"
                            class:top=rank < 3
                            data-testid="prediction"
                            data-class=class.folder_name()
                            data-prob=probabilities[index].to_string()
                        >
                            <span class="class-name">{class.display_name()}</span>
                            <span class="bar">
                                <span class="fill" style:width=format!("{percent:.1}%")></span>
                            </span>
                            <span class="percent">{format!("{percent:.1} %")}</span>
                            <span class="class-description">{class.description()}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
