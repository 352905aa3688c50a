//! Which backend runs the model (switchable by hand), and the model's download and load state.

use leptos::prelude::*;

use super::engine_link::{use_engine, ModelState};
use crate::worker::{reason_and_detail, BackendKind};

/// The active backend, why it was chosen, and buttons to switch.
#[component]
pub fn BackendBar() -> impl IntoView {
    let link = use_engine();
    let kind = move || link.backend.with(|b| b.as_ref().map(|b| b.kind));
    let attribute = move || kind().map_or("pending", |k| k.attribute());
    view! {
        <div class="backend-bar" data-testid="backend" data-backend=attribute>
            <span class="backend-label">
                {move || match link.backend.get() {
                    Some(state) => format!("Running on {} · {}", state.kind.label(), state.adapter),
                    None => "Choosing a backend…".to_string(),
                }}
            </span>
            {move || {
                link.backend
                    .get()
                    .and_then(|b| b.fallback)
                    .map(|why| {
                        let (reason, detail) = reason_and_detail(&why);
                        let detail = detail.map(|detail| {
                            view! { <details><summary>"Details"</summary><code>{detail.to_string()}</code></details> }
                        });
                        view! { <span class="fallback">{format!("Using the CPU because {reason}.")} {detail}</span> }
                    })
            }}
            <span class="switch">
                "Switch to " <SwitchButton to=BackendKind::WebGpu /> <SwitchButton to=BackendKind::Cpu />
            </span>
        </div>
    }
}

/// Moves the model to `to`; disabled while a model loads and when `to` is already in use.
#[component]
fn SwitchButton(to: BackendKind) -> impl IntoView {
    let link = use_engine();
    let disabled =
        move || matches!(link.model.get(), ModelState::Loading) || link.backend.with(|b| b.as_ref().map(|b| b.kind)) == Some(to);
    let label = match to {
        BackendKind::WebGpu => "WebGPU",
        BackendKind::Cpu => "CPU",
    };
    view! {
        <button data-testid=format!("use-{}", to.attribute()) disabled=disabled on:click=move |_| link.switch_backend(to)>
            {label}
        </button>
    }
}

/// Download progress, loading steps, and a retry when the model could not be loaded.
#[component]
pub fn ModelStatus() -> impl IntoView {
    let link = use_engine();
    view! {
        <div class="model-status" data-testid="model-status">
            {move || match link.model.get() {
                ModelState::Loading => {
                    let (loaded, total) = link.download.get().unwrap_or((0, 0));
                    view! {
                        <p>{move || link.status.get()}</p>
                        <progress max=total.max(1) value=loaded data-testid="download"></progress>
                        <span class="bytes">{format!(" {:.1} of {:.1} MB", mb(loaded), mb(total))}</span>
                    }
                    .into_any()
                }
                ModelState::Ready { card, from_cache, load_ms } => view! {
                    <p class="ready" data-testid="model-ready" data-from-cache=from_cache.to_string()>
                        {format!(
                            "Model “{}” ready in {:.1} s{}.",
                            card.name,
                            load_ms / 1000.0,
                            if from_cache { ", weights from this browser's cache" } else { "" }
                        )}
                    </p>
                }
                .into_any(),
                ModelState::Failed(message) => view! {
                    <p class="error" role="alert" data-testid="error">
                        {format!("The model could not be loaded: {message}. ")}
                        <button data-testid="retry" on:click=move |_| link.retry_model()>"Retry"</button>
                    </p>
                }
                .into_any(),
            }}
        </div>
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}
