//! Bytes the page holds, shown or handed to the visitor: `blob:` URLs and downloads.

use wasm_bindgen::JsCast;

/// A `blob:` URL showing `bytes` (the browser decides whether it can display them). Revoke
/// it with `web_sys::Url::revoke_object_url` when it is no longer shown.
pub fn object_url(bytes: &[u8]) -> Option<String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// Offers `bytes` as a download named `file_name`.
pub fn download(bytes: &[u8], file_name: &str) -> Result<(), String> {
    let url = object_url(bytes).ok_or("the browser could not hold the file in memory")?;
    let anchor: web_sys::HtmlAnchorElement =
        document().create_element("a").map_err(|_| "the page could not create a download link")?.unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(file_name);
    anchor.click();
    // The click has started the download; the URL can go once this turn ends.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    let _ = web_sys::window()
        .ok_or("no window")?
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
    Ok(())
}

fn document() -> web_sys::Document {
    leptos::prelude::document()
}
