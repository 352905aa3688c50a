//! The web page (Leptos, client-side rendering). One file a section; the model runs in a Web
//! Worker (`crate::worker`), reached only through messages.

mod analysis;
mod backend_bar;
mod blobs;
mod classify;
mod confusion;
mod dataset_views;
mod engine_link;
mod finetune;
mod gallery;
mod indexed_db;
mod model_card;
mod model_picker;
mod offline;
mod probabilities;
mod upload;

use leptos::prelude::*;

use crate::worker::BackendKind;
use backend_bar::{BackendBar, ModelStatus};
use classify::ClassifySection;
pub use engine_link::{BackendState, EngineLink, ModelState};
use finetune::FineTuneSection;
use model_card::ModelCardSection;
use model_picker::ModelPicker;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let link = EngineLink::spawn(BackendKind::WebGpu);
    provide_context(link);
    offline::register_service_worker();
    // index.html shows a "needs WebAssembly" line until the app starts.
    if let Some(boot) = document().get_element_by_id("boot") {
        boot.remove();
    }
    view! {
        <header class="masthead">
            <h1>"Bone fracture classifier"</h1>
            <p class="tagline">
                "Convolutional networks, written in Rust with Burn, sort X-rays into ten fracture types — "
                "entirely in your browser, on WebGPU or the CPU."
            </p>
            <p class="notice" role="note">"Research demo, not a medical device. Do not use it to diagnose anyone."</p>
            <nav>
                <a href="#classify">"Classify"</a>
                <a href="#fine-tune">"Fine-tune"</a>
                <a href="#model-card">"Model card"</a>
            </nav>
        </header>
        <BackendBar />
        <ModelStatus />
        <ModelPicker />
        <main>
            <ClassifySection />
            <FineTuneSection />
            <ModelCardSection />
        </main>
        <footer>
            "X-rays: Bone Break Classification Image Dataset (pkdarabi, Kaggle; Roboflow export), "
            <a href="https://creativecommons.org/licenses/by/4.0/" rel="license">"CC BY 4.0"</a>
            ". Built with Rust, Burn and Leptos."
        </footer>
    }
}
