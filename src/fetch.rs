//! `fetch` for the page and its worker alike: the global `fetch` function exists in both, so one
//! helper serves the gallery (page) and the weights download (worker).

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str) -> Promise;
}

/// Fetches `url` and fails with a sentence for the visitor unless the answer is 2xx.
pub async fn fetch_ok(url: &str) -> Result<Response, String> {
    let response: Response = JsFuture::from(global_fetch(url))
        .await
        .map_err(|e| format!("could not download {url}: {} (are you offline?)", js_message(&e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("could not download {url}: the server answered {} {}", response.status(), response.status_text()));
    }
    Ok(response)
}

/// The whole body of `url`.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    response_bytes(fetch_ok(url).await?).await.map_err(|e| format!("the download of {url} broke off: {e}"))
}

/// The whole body of a response.
pub async fn response_bytes(response: Response) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| js_message(&e))?).await.map_err(|e| js_message(&e))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// The message of a JavaScript error value.
pub fn js_message(value: &JsValue) -> String {
    Reflect::get(value, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
