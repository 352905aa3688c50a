//! Offline reloads: registers the service worker (`public/sw.js`) that keeps the app shell.
//! The model's weights are kept by the model worker in the Cache API.

use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The service worker's script, next to `index.html` (relative: it works from a sub-path).
const SERVICE_WORKER: &str = "./sw.js";

/// Registers the service worker where the browser has them (secure contexts: https, localhost).
pub fn register_service_worker() {
    let navigator = leptos::prelude::window().navigator();
    let container = js_sys::Reflect::get(&navigator, &"serviceWorker".into()).unwrap_or_default();
    let register = js_sys::Reflect::get(&container, &"register".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let Some(register) = register else {
        log::info!("no service workers here: the page will need the network to reload");
        return;
    };
    let Ok(promise) = register.call1(&container, &SERVICE_WORKER.into()) else { return };
    spawn_local(async move {
        if let Err(e) = JsFuture::from(js_sys::Promise::from(promise)).await {
            log::warn!("the offline cache could not be set up: {}", crate::fetch::js_message(&e));
        }
    });
}
