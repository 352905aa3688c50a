//! Fine-tuned models kept in this browser, in IndexedDB: save, list, read, rename, delete.
//!
//! Two object stores: `models` holds each model's id, name, date and `model.json` (small, so
//! the list is cheap); `weights` holds its `model.bpk` bytes under the same id.

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStoreParameters, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode};

use crate::fetch::js_message;
use crate::worker::ModelFiles;

const DB_NAME: &str = "bone-fracture";
const DB_VERSION: u32 = 1;
const MODELS: &str = "models";
const WEIGHTS: &str = "weights";

/// A saved model as the list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedModel {
    pub id: String,
    pub name: String,
    /// Milliseconds since 1970, when it was saved.
    pub saved_at: f64,
    pub card_json: String,
}

/// Saves (or replaces) a model under `id`.
pub async fn save(id: &str, name: &str, files: &ModelFiles) -> Result<(), String> {
    let db = open().await?;
    let tx = transaction(&db, IdbTransactionMode::Readwrite)?;
    let record = model_record(id, name, &files.card_json, js_sys::Date::now())?;
    tx.object_store(MODELS).and_then(|s| s.put(&record)).map_err(|e| js_message(&e))?;
    let weights = Uint8Array::from(files.weights.as_slice());
    tx.object_store(WEIGHTS).and_then(|s| s.put_with_key(&weights, &id.into())).map_err(|e| js_message(&e))?;
    finished(&tx).await.map_err(|e| format!("saving the model in this browser failed: {e} (is the disk full?)"))
}

/// Every saved model, oldest first.
pub async fn list() -> Result<Vec<SavedModel>, String> {
    let db = open().await?;
    let tx = transaction(&db, IdbTransactionMode::Readonly)?;
    let request = tx.object_store(MODELS).and_then(|s| s.get_all()).map_err(|e| js_message(&e))?;
    let rows: Array = done(&request).await?.unchecked_into();
    let text = |row: &JsValue, key: &str| Reflect::get(row, &key.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    let mut models: Vec<SavedModel> = rows
        .iter()
        .map(|row| SavedModel {
            id: text(&row, "id"),
            name: text(&row, "name"),
            saved_at: Reflect::get(&row, &"saved_at".into()).ok().and_then(|v| v.as_f64()).unwrap_or(0.0),
            card_json: text(&row, "card_json"),
        })
        .collect();
    models.sort_by(|a, b| a.saved_at.total_cmp(&b.saved_at));
    Ok(models)
}

/// The files of a saved model.
pub async fn read(model: &SavedModel) -> Result<ModelFiles, String> {
    let db = open().await?;
    let tx = transaction(&db, IdbTransactionMode::Readonly)?;
    let request = tx.object_store(WEIGHTS).and_then(|s| s.get(&model.id.as_str().into())).map_err(|e| js_message(&e))?;
    let value = done(&request).await?;
    if value.is_undefined() {
        return Err(format!("the weights of “{}” are missing from this browser's storage", model.name));
    }
    Ok(ModelFiles { card_json: model.card_json.clone(), weights: Uint8Array::new(&value).to_vec() })
}

/// Gives a saved model another name.
pub async fn rename(model: &SavedModel, name: &str) -> Result<(), String> {
    let db = open().await?;
    let tx = transaction(&db, IdbTransactionMode::Readwrite)?;
    let record = model_record(&model.id, name, &model.card_json, model.saved_at)?;
    tx.object_store(MODELS).and_then(|s| s.put(&record)).map_err(|e| js_message(&e))?;
    finished(&tx).await
}

/// Removes a saved model and its weights.
pub async fn delete(id: &str) -> Result<(), String> {
    let db = open().await?;
    let tx = transaction(&db, IdbTransactionMode::Readwrite)?;
    for store in [MODELS, WEIGHTS] {
        tx.object_store(store).and_then(|s| s.delete(&id.into())).map_err(|e| js_message(&e))?;
    }
    finished(&tx).await
}

/// A row of the `models` store.
fn model_record(id: &str, name: &str, card_json: &str, saved_at: f64) -> Result<Object, String> {
    let record = Object::new();
    let fields =
        [("id", JsValue::from_str(id)), ("name", name.into()), ("card_json", card_json.into()), ("saved_at", saved_at.into())];
    for (key, value) in fields {
        Reflect::set(&record, &key.into(), &value).map_err(|e| js_message(&e))?;
    }
    Ok(record)
}

async fn open() -> Result<IdbDatabase, String> {
    let factory = web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .ok_or("this browser does not let the page store data (IndexedDB is off, as in some private windows)")?;
    let request: IdbOpenDbRequest = factory.open_with_u32(DB_NAME, DB_VERSION).map_err(|e| js_message(&e))?;
    let on_upgrade = Closure::once_into_js(move |event: web_sys::Event| {
        let Some(request) = event.target().and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok()) else { return };
        let Ok(db) = request.result().and_then(|r| r.dyn_into::<IdbDatabase>()) else { return };
        if !db.object_store_names().contains(MODELS) {
            let parameters = IdbObjectStoreParameters::new();
            parameters.set_key_path(&"id".into());
            let _ = db.create_object_store_with_optional_parameters(MODELS, &parameters);
        }
        if !db.object_store_names().contains(WEIGHTS) {
            let _ = db.create_object_store(WEIGHTS);
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    Ok(done(&request).await?.unchecked_into())
}

fn transaction(db: &IdbDatabase, mode: IdbTransactionMode) -> Result<IdbTransaction, String> {
    let stores = Array::of2(&MODELS.into(), &WEIGHTS.into());
    db.transaction_with_str_sequence_and_mode(&stores, mode).map_err(|e| js_message(&e))
}

/// The result of a request, once it succeeds.
async fn done(request: &IdbRequest) -> Result<JsValue, String> {
    let promise = Promise::new(&mut |resolve, reject| {
        let ok = request.clone();
        let on_success = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = resolve.call1(&JsValue::NULL, &ok.result().unwrap_or(JsValue::UNDEFINED));
        });
        let failed = request.clone();
        let on_error = Closure::once_into_js(move |_: web_sys::Event| {
            let message = failed.error().ok().flatten().map_or("unknown error".to_string(), |e| e.message());
            let _ = reject.call1(&JsValue::NULL, &message.into());
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await.map_err(|e| format!("browser storage: {}", js_message(&e)))
}

/// Resolves when a write transaction is committed.
async fn finished(tx: &IdbTransaction) -> Result<(), String> {
    let promise = Promise::new(&mut |resolve, reject| {
        let on_complete = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let fail = |tx: IdbTransaction, reject: js_sys::Function| {
            Closure::once_into_js(move |_: web_sys::Event| {
                let message = tx.error().map_or("the write was aborted".to_string(), |e| e.message());
                let _ = reject.call1(&JsValue::NULL, &message.into());
            })
        };
        tx.set_oncomplete(Some(on_complete.unchecked_ref()));
        tx.set_onerror(Some(fail(tx.clone(), reject.clone()).unchecked_ref()));
        tx.set_onabort(Some(fail(tx.clone(), reject.clone()).unchecked_ref()));
    });
    JsFuture::from(promise).await.map(|_| ()).map_err(|e| js_message(&e))
}
