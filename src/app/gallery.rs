//! Sample X-rays, one per fracture type, from the dataset (CC BY 4.0); a click classifies one.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::engine_link::{use_engine, EngineLink};
use crate::classes::FractureClass;
use crate::fetch::fetch_bytes;

/// Folder of the samples, relative to the page. `samples/<slug>.jpg` for every class.
const SAMPLES_URL: &str = "samples";

/// The gallery.
#[component]
pub fn SampleGallery() -> impl IntoView {
    let link = use_engine();
    view! {
        <div class="gallery">
            <p>"Or try a sample (images the model did not train on):"</p>
            <ul>
                {FractureClass::ALL
                    .iter()
                    .map(|&class| {
                        let url = format!("{SAMPLES_URL}/{}.jpg", class.slug());
                        let on_click = {
                            let url = url.clone();
                            move |_| classify_sample(link, class, url.clone())
                        };
                        view! {
                            <li>
                                <button class="sample" data-testid="sample" data-class=class.slug() on:click=on_click>
                                    <img src=url alt=format!("Sample X-ray: {}", class.display_name()) loading="lazy" />
                                    <span>{class.display_name()}</span>
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <DatasetCredit what="Samples" />
        </div>
    }
}

/// The dataset's licence asks for this wherever its images are shown.
#[component]
pub fn DatasetCredit(what: &'static str) -> impl IntoView {
    view! {
        <p class="credit">
            {what} ": Bone Break Classification Image Dataset (pkdarabi, Kaggle; Roboflow export), "
            <a href="https://creativecommons.org/licenses/by/4.0/" rel="license">"CC BY 4.0"</a>"."
        </p>
    }
}

fn classify_sample(link: EngineLink, class: FractureClass, url: String) {
    spawn_local(async move {
        let name = format!("sample: {}", class.display_name());
        match fetch_bytes(&url).await {
            Ok(bytes) => link.classify(name, bytes),
            Err(message) => link.fail_input(format!("{name}: {message}")),
        }
    });
}
