//! Fetching a model (index → `model.json` → `model.bpk`) from the page's static files, with
//! progress, a sha256 check and the Cache API, so that a second visit needs no download.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Response, WorkerGlobalScope};

use crate::fetch::{fetch_ok, js_message, response_bytes};
use crate::store::{sha256_hex, ModelCard};

/// Where the models live, relative to the worker script (so a sub-path deployment works).
pub const MODELS_URL: &str = "models";
/// Name of this page's Cache API cache.
const CACHE_NAME: &str = "bone-fracture-weights-v1";

/// `models/index.json`: the models the page offers and the default one.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ModelIndex {
    pub default: String,
    pub models: Vec<IndexEntry>,
}

/// One model in `index.json`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct IndexEntry {
    pub id: String,
    pub name: String,
    /// Folder of `model.json` and the weights, relative to `models/`, ending in `/`.
    pub path: String,
}

/// A downloaded and verified model.
pub struct FetchedModel {
    pub card: ModelCard,
    pub card_json: String,
    pub weights: Vec<u8>,
    pub from_cache: bool,
}

/// Downloads `models/index.json`.
pub async fn fetch_index() -> Result<ModelIndex, String> {
    let index_text = fetch_text(&format!("{MODELS_URL}/index.json")).await?;
    serde_json::from_str(&index_text).map_err(|e| format!("models/index.json is not valid: {e}"))
}

/// Downloads the shipped model `id` of `index`, reporting `(loaded, total)` bytes of the weights.
pub async fn fetch_shipped_model(
    index: &ModelIndex,
    id: &str,
    mut progress: impl FnMut(u64, u64),
) -> Result<FetchedModel, String> {
    let entry =
        index.models.iter().find(|m| m.id == id).ok_or_else(|| format!("models/index.json does not list a model `{id}`"))?;
    let base = format!("{MODELS_URL}/{}", entry.path.trim_end_matches('/'));
    let card_json = fetch_text(&format!("{base}/model.json")).await?;
    let card = ModelCard::from_json(&card_json).map_err(|e| format!("{base}/model.json: {e}"))?;
    let info = card.weights.clone().ok_or_else(|| format!("{base}/model.json names no weights file"))?;
    let url = format!("{base}/{}", info.file);
    // The sha256 in the key makes a new model a cache miss instead of a stale hit.
    let key = format!("{url}?sha256={}", info.sha256);
    let cache = open_cache().await;
    if let Some(cache) = &cache {
        if let Some(bytes) = cached_bytes(cache, &key).await {
            if sha256_hex(&bytes) == info.sha256 {
                progress(bytes.len() as u64, bytes.len() as u64);
                return Ok(FetchedModel { card, card_json, weights: bytes, from_cache: true });
            }
            let _ = JsFuture::from(cache.delete_with_str(&key)).await;
        }
    }
    let weights = fetch_bytes_with_progress(&url, info.bytes as u64, &mut progress).await?;
    let actual = sha256_hex(&weights);
    if actual != info.sha256 {
        return Err(format!(
            "the downloaded weights ({url}) are corrupt: their sha256 is {actual}, model.json expects {}",
            info.sha256
        ));
    }
    if let Some(cache) = &cache {
        put_bytes(cache, &key, &weights).await;
    }
    Ok(FetchedModel { card, card_json, weights, from_cache: false })
}

fn scope() -> Option<WorkerGlobalScope> {
    js_sys::global().dyn_into::<WorkerGlobalScope>().ok()
}

async fn fetch_text(url: &str) -> Result<String, String> {
    let response = fetch_ok(url).await?;
    let text = JsFuture::from(response.text().map_err(|e| js_message(&e))?)
        .await
        .map_err(|e| format!("reading {url} failed: {}", js_message(&e)))?;
    Ok(text.as_string().unwrap_or_default())
}

/// Reads the body chunk by chunk so that the page can draw a progress bar.
async fn fetch_bytes_with_progress(url: &str, expected: u64, progress: &mut impl FnMut(u64, u64)) -> Result<Vec<u8>, String> {
    let response = fetch_ok(url).await?;
    let total = response.headers().get("content-length").ok().flatten().and_then(|v| v.parse::<u64>().ok()).unwrap_or(expected);
    let body = response.body().ok_or_else(|| format!("{url} came back without a body"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(total as usize);
    progress(0, total);
    loop {
        let chunk =
            JsFuture::from(reader.read()).await.map_err(|e| format!("the download of {url} broke off: {}", js_message(&e)))?;
        if Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into()).map_err(|e| js_message(&e))?.unchecked_into();
        bytes.extend_from_slice(&value.to_vec());
        progress(bytes.len() as u64, total.max(bytes.len() as u64));
    }
    Ok(bytes)
}

async fn open_cache() -> Option<Cache> {
    // The Cache API exists only in secure contexts (https, localhost); without it every visit downloads.
    let caches = scope()?.caches().ok()?;
    JsFuture::from(caches.open(CACHE_NAME)).await.ok().map(|c| c.unchecked_into())
}

async fn cached_bytes(cache: &Cache, key: &str) -> Option<Vec<u8>> {
    let hit = JsFuture::from(cache.match_with_str(key)).await.ok()?;
    response_bytes(hit.dyn_into().ok()?).await.ok()
}

async fn put_bytes(cache: &Cache, key: &str, bytes: &[u8]) {
    let array = Uint8Array::from(bytes);
    if let Ok(response) = Response::new_with_opt_buffer_source(Some(&array)) {
        // A full disk or a private window only costs the next visit a download.
        let _ = JsFuture::from(cache.put_with_str(key, &response)).await;
    }
}
