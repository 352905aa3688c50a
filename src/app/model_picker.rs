//! Which of the shipped models classifies: the transfer-learning model by default, the
//! reference notebook's CNN one choice away.

use leptos::prelude::*;

use super::engine_link::use_engine;

/// A drop-down of `models/index.json`'s models; choosing one downloads it (once) and uses it.
#[component]
pub fn ModelPicker() -> impl IntoView {
    let link = use_engine();
    let busy = move || link.switching_to.get().is_some();
    view! {
        <div class="model-picker">
            <label>
                "Model "
                <select
                    data-testid="model-picker"
                    disabled=busy
                    on:change=move |ev| link.use_shipped(event_target_value(&ev))
                >
                    {move || {
                        let (models, chosen) = link.shipped.get();
                        models
                            .into_iter()
                            .map(|m| {
                                let selected = m.id == chosen;
                                view! { <option value=m.id selected=selected>{m.name}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            </label>
            {move || busy().then(|| view! { <span class="switching">" Loading…"</span> })}
            {move || {
                link.load_error.get().map(|message| view! { <p class="error" role="alert" data-testid="picker-error">{message}</p> })
            }}
        </div>
    }
}
