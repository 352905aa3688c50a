//! Sample X-rays, one per fracture type, from the dataset (CC BY 4.0); a click classifies one.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::engine_link::{use_engine, EngineLink};
use crate::classes::FractureClass;

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
                                    <img src=url alt=format!("Sample X-ray: {}", class.folder_name()) loading="lazy" />
                                    <span>{class.folder_name()}</span>
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <p class="credit">
                "Samples: Bone Break Classification Image Dataset (pkdarabi, Kaggle; Roboflow export), "
                <a href="https://creativecommons.org/licenses/by/4.0/" rel="license">"CC BY 4.0"</a>"."
            </p>
        </div>
    }
}

fn classify_sample(link: EngineLink, class: FractureClass, url: String) {
    spawn_local(async move {
        let name = format!("sample: {}", class.folder_name());
        match fetch_bytes(&url).await {
            Ok(bytes) => link.classify(name, bytes),
            Err(message) => link.fail_input(format!("{name}: {message}")),
        }
    });
}

async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| format!("could not download {url} (are you offline?)"))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("could not download {url}: the server answered {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|_| "unreadable response")?)
        .await
        .map_err(|_| format!("the download of {url} broke off"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
