//! The Fine-tune section: teach the model the visitor's own labelled X-rays, in the browser,
//! with live progress, before/after scores, and ways to keep the result.

pub(crate) mod charts;
mod data;
mod options;
mod progress;
mod results;
mod saved;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::engine_link::{use_engine, ModelState, RunState};
use crate::train::FineTuneOptions;
use data::{load_demo, DataPicker, LabelledSet};
use options::OptionsForm;
use progress::RunProgress;
use results::RunResults;
use saved::KeepModels;

/// The section (a `<details>`: closing it during a run stops the run).
#[component]
pub fn FineTuneSection() -> impl IntoView {
    let link = use_engine();
    let set = RwSignal::new(LabelledSet::default());
    // The images of the latest run, for its results (the picker may change meanwhile).
    let run_set = RwSignal::new(LabelledSet::default());
    let options = RwSignal::new(FineTuneOptions::default());
    let note = RwSignal::new(None::<String>);
    let running = Signal::derive(move || link.fine_tune.with(|r| r.state == RunState::Running));
    let model_ready = move || matches!(link.model.get(), ModelState::Ready { .. });

    let start = move || {
        let images = set.get_untracked();
        run_set.set(images.clone());
        link.start_fine_tune(options.get_untracked(), images.to_files());
    };
    let start_demo = move |_| {
        spawn_local(async move {
            let loaded = load_demo(|done, total| note.set(Some(format!("Loading the demo images: {done} of {total}…")))).await;
            match loaded {
                Ok(demo) => {
                    note.set(None);
                    set.set(demo);
                    start();
                }
                Err(e) => note.set(Some(format!("The demo images could not be loaded: {e}"))),
            }
        });
    };
    let on_toggle = move |ev: leptos::ev::Event| {
        let details = event_target::<web_sys::HtmlDetailsElement>(&ev);
        if !details.open() {
            link.stop_fine_tune();
        }
    };
    view! {
        <details class="finetune" id="fine-tune" data-testid="finetune-section" open on:toggle=on_toggle>
            <summary><h2>"Fine-tune it on your own X-rays"</h2></summary>
            <p>
                "Teach the model with labelled images of your own, here in the browser (on WebGPU when "
                "available; the CPU works too, more slowly). The training loop is the same Rust code as the "
                "command-line trainer. Your images stay on this device."
            </p>
            <p class="demo">
                <button
                    data-testid="finetune-demo"
                    disabled=move || running.get() || !model_ready()
                    on:click=start_demo
                >
                    "Run the demo"
                </button>
                " — fine-tunes on 101 X-rays the model never trained on (the dataset's held-out images, "
                "CC BY 4.0, Bone Break Classification Image Dataset)."
            </p>
            {move || note.get().map(|n| view! { <p class="note">{n}</p> })}
            <DataPicker set />
            <OptionsForm options disabled=running />
            <p>
                <button
                    data-testid="finetune-start"
                    disabled=move || running.get() || !model_ready() || set.with(|s| s.images.len() < 2)
                    on:click=move |_| start()
                >
                    "Start fine-tuning"
                </button>
            </p>
            <RunProgress />
            <RunResults run_set />
            <KeepModels />
        </details>
    }
}
