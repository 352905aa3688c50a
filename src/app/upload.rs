//! Getting an image into the page: file picker, drag and drop, and paste.

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FileList};

use super::engine_link::{use_engine, EngineLink};

/// Reads a file and sends it to the model; a file that cannot be read is reported, not dropped.
pub fn classify_file(link: EngineLink, file: File) {
    spawn_local(async move {
        let name = file.name();
        match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => link.classify(name, js_sys::Uint8Array::new(&buffer).to_vec()),
            Err(_) => link.fail_input(format!("{name}: the browser could not read this file")),
        }
    });
}

fn first_file(files: Option<FileList>) -> Option<File> {
    files.and_then(|list| list.get(0))
}

/// The drop zone with its file picker. Pasting an image anywhere on the page also classifies it.
#[component]
pub fn UploadZone() -> impl IntoView {
    let link = use_engine();
    let (dragging, set_dragging) = signal(false);
    let on_change = move |ev: ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        if let Some(file) = first_file(input.files()) {
            classify_file(link, file);
        }
        // Picking the same file again must fire `change` again.
        input.set_value("");
    };
    let on_drop = move |ev: ev::DragEvent| {
        ev.prevent_default();
        set_dragging.set(false);
        match first_file(ev.data_transfer().and_then(|dt| dt.files())) {
            Some(file) => classify_file(link, file),
            None => link.fail_input("Nothing to classify was dropped: drop an image file.".into()),
        }
    };
    let paste = window_event_listener(ev::paste, move |ev: ev::ClipboardEvent| {
        if let Some(file) = first_file(ev.clipboard_data().and_then(|dt| dt.files())) {
            ev.prevent_default();
            classify_file(link, file);
        }
    });
    on_cleanup(move || paste.remove());

    view! {
        <label
            class="drop-zone"
            class:dragging=dragging
            on:dragover=move |ev: ev::DragEvent| {
                ev.prevent_default();
                set_dragging.set(true);
            }
            on:dragleave=move |_| set_dragging.set(false)
            on:drop=on_drop
        >
            <input type="file" data-testid="file-input" accept="image/*,.tif,.tiff,.dcm,.dicom,application/dicom" on:change=on_change />
            <strong>"Choose an X-ray"</strong>
            " or drop it here, or paste it (Ctrl+V). JPEG, PNG, WebP, BMP, TIFF, GIF or DICOM (.dcm)."
            <span class="privacy">"The image never leaves your device."</span>
        </label>
    }
}
