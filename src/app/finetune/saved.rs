//! Keeping fine-tuned models: use one, save it in this browser (IndexedDB), download it as
//! `.bpk` + `.json`, load one back from those files, or go back to the pretrained model.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::data::{file_list, read_bytes};
use crate::app::blobs::download;
use crate::app::engine_link::{use_engine, EngineLink, ModelState};
use crate::app::indexed_db::{self, SavedModel};
use crate::store::{ModelCard, FINE_TUNE_METRICS};
use crate::worker::ModelFiles;

/// The model in use, the latest fine-tuned one, and the saved ones.
#[component]
pub fn KeepModels() -> impl IntoView {
    let link = use_engine();
    let saved = RwSignal::new(Vec::<SavedModel>::new());
    let message = RwSignal::new(None::<String>);
    let refresh = move || {
        spawn_local(async move {
            match indexed_db::list().await {
                Ok(list) => saved.set(list),
                Err(e) => message.set(Some(e)),
            }
        })
    };
    refresh();
    let in_use = move || match link.model.get() {
        ModelState::Ready { card, .. } => card.name.clone(),
        _ => "loading…".into(),
    };
    let save_tuned = move |_| {
        let Some(files) = link.tuned.get_untracked() else { return };
        spawn_local(async move {
            let result = match ModelCard::from_json(&files.card_json) {
                Ok(card) => indexed_db::save(&card.id, &card.name, &files).await,
                Err(e) => Err(e.to_string()),
            };
            match result {
                Ok(()) => {
                    message.set(Some("Saved in this browser.".into()));
                    refresh();
                }
                Err(e) => message.set(Some(e)),
            }
        });
    };
    let download_tuned = move |_| {
        if let Some(files) = link.tuned.get_untracked() {
            if let Err(e) = download_files(&files) {
                message.set(Some(e));
            }
        }
    };
    let on_load_files = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        let files = file_list(input.files());
        input.set_value("");
        spawn_local(async move {
            match model_from_files(files).await {
                Ok(files) => link.load_model(files),
                Err(e) => message.set(Some(e)),
            }
        });
    };
    view! {
        <div class="keep-models">
            <h3>"Keep it"</h3>
            <p>"In use: " <strong data-testid="model-in-use">{in_use}</strong></p>
            <p class="actions">
                <Show when=move || link.tuned.with(Option::is_some)>
                    <button data-testid="use-finetuned" on:click=move |_| {
                        if let Some(files) = link.tuned.get_untracked() {
                            link.load_model(files);
                        }
                    }>"Use the fine-tuned model"</button>
                    <button data-testid="finetune-save" on:click=save_tuned>"Save in this browser"</button>
                    <button data-testid="finetune-download" on:click=download_tuned>"Download (.bpk + .json)"</button>
                </Show>
                <button data-testid="use-pretrained" on:click=move |_| link.use_pretrained()>"Back to the pretrained model"</button>
                <label class="load-files">
                    "Load a model from its two files: "
                    <input type="file" accept=".bpk,.json" multiple data-testid="finetune-load-files" on:change=on_load_files />
                </label>
            </p>
            {move || message.get().map(|m| view! { <p class="note" data-testid="keep-message">{m}</p> })}
            {move || link.load_error.get().map(|m| view! { <p class="error" role="alert" data-testid="model-load-error">{m}</p> })}
            <h4>"Saved in this browser"</h4>
            <Show when=move || saved.with(Vec::is_empty)>
                <p>"None yet."</p>
            </Show>
            <ul class="saved-models">
                {move || {
                    saved
                        .get()
                        .into_iter()
                        .map(|model| view! { <SavedRow model link saved message /> })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// One saved model: load, rename, delete.
#[component]
fn SavedRow(
    model: SavedModel,
    link: EngineLink,
    saved: RwSignal<Vec<SavedModel>>,
    message: RwSignal<Option<String>>,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let new_name = RwSignal::new(model.name.clone());
    let score = ModelCard::from_json(&model.card_json)
        .ok()
        .and_then(|card| card.metrics.get(FINE_TUNE_METRICS).map(|m| m.validation.accuracy))
        .map(|a| format!(" · held-out accuracy {:.1} %", a * 100.0))
        .unwrap_or_default();
    let date =
        String::from(js_sys::Date::new(&model.saved_at.into()).to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED));
    let (for_load, for_rename, for_delete) = (model.clone(), model.clone(), model.id.clone());
    let load = move |_| {
        let model = for_load.clone();
        spawn_local(async move {
            match indexed_db::read(&model).await {
                Ok(files) => link.load_model(files),
                Err(e) => message.set(Some(e)),
            }
        });
    };
    let rename = move |_| {
        let model = for_rename.clone();
        let name = new_name.get_untracked();
        spawn_local(async move {
            match indexed_db::rename(&model, name.trim()).await {
                Ok(()) => saved.update(|list| {
                    if let Some(row) = list.iter_mut().find(|m| m.id == model.id) {
                        row.name = name.trim().to_string();
                    }
                }),
                Err(e) => message.set(Some(e)),
            }
            editing.set(false);
        });
    };
    let delete = move |_| {
        let id = for_delete.clone();
        spawn_local(async move {
            match indexed_db::delete(&id).await {
                Ok(()) => saved.update(|list| list.retain(|m| m.id != id)),
                Err(e) => message.set(Some(e)),
            }
        });
    };
    view! {
        <li data-testid="saved-model" data-id=model.id.clone()>
            <Show
                when=move || editing.get()
                fallback=move || view! { <span class="name">{move || new_name.get()}</span> }
            >
                <input type="text" data-testid="saved-name" prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev)) />
                <button data-testid="saved-rename-ok" on:click=rename.clone()>"OK"</button>
            </Show>
            <small>{format!(" saved {date}{score} ")}</small>
            <button data-testid="saved-load" on:click=load>"Use"</button>
            <button data-testid="saved-rename" on:click=move |_| editing.set(true)>"Rename"</button>
            <button data-testid="saved-delete" on:click=delete>"Delete"</button>
        </li>
    }
}

/// Downloads `<id>.json` and `<id>.bpk`.
fn download_files(files: &ModelFiles) -> Result<(), String> {
    let card = ModelCard::from_json(&files.card_json).map_err(|e| e.to_string())?;
    download(files.card_json.as_bytes(), &format!("{}.json", card.id))?;
    download(&files.weights, &format!("{}.bpk", card.id))
}

/// A `.json` card and a `.bpk` weights file picked together.
async fn model_from_files(files: Vec<web_sys::File>) -> Result<ModelFiles, String> {
    let pick = |ext: &str| files.iter().find(|f| f.name().to_lowercase().ends_with(ext)).cloned();
    let (Some(card), Some(weights)) = (pick(".json"), pick(".bpk")) else {
        return Err("choose both files of a model together: its .json card and its .bpk weights".into());
    };
    let card_json = String::from_utf8(read_bytes(&card).await?).map_err(|_| format!("{} is not a text file", card.name()))?;
    Ok(ModelFiles { card_json, weights: read_bytes(&weights).await? })
}
