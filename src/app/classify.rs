//! The Classify section: the input, the image next to what the model sees, and the answer.

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::{Clamped, JsCast};

use super::engine_link::{use_engine, ModelState, Outcome};
use super::gallery::SampleGallery;
use super::probabilities::ProbabilityBars;
use super::upload::UploadZone;
use crate::data::INPUT_SIZE;
use crate::worker::Prediction;

/// The main section of the page.
#[component]
pub fn ClassifySection() -> impl IntoView {
    view! {
        <section class="classify" id="classify">
            <h2>"Classify an X-ray"</h2>
            <UploadZone />
            <SampleGallery />
            <ResultPanel />
        </section>
    }
}

/// The outcome of the latest input; `data-seq` counts the inputs handled so far.
#[component]
fn ResultPanel() -> impl IntoView {
    let link = use_engine();
    let seq = move || link.outcome.with(|o| o.as_ref().map_or(0, |o| o.seq));
    let waiting = move || {
        let sent = link.upload.with(|u| u.as_ref().map(|u| u.seq));
        sent.is_some() && sent != link.outcome.with(|o| o.as_ref().map(|o| o.seq))
    };
    view! {
        <div class="result" data-testid="result" data-seq=seq aria-live="polite">
            <Show when=waiting>
                <p class="working">"Classifying…"</p>
            </Show>
            {move || link.outcome.get().map(|outcome| view! { <OutcomeView outcome /> })}
        </div>
    }
}

#[component]
fn OutcomeView(outcome: Outcome) -> impl IntoView {
    match outcome.result {
        Ok(prediction) => view! { <PredictionView prediction /> }.into_any(),
        Err(message) => view! {
            <p class="error" data-testid="error" role="alert">
                {message}
                " Try another file; the page keeps working."
            </p>
        }
        .into_any(),
    }
}

#[component]
fn PredictionView(prediction: Prediction) -> impl IntoView {
    let link = use_engine();
    let upload = link.upload.get_untracked().filter(|u| u.seq == prediction.seq);
    let name = upload.as_ref().map(|u| u.name.clone()).unwrap_or_default();
    let preview_url = upload.map(|u| u.preview_url).unwrap_or_default();
    let canvas = NodeRef::<Canvas>::new();
    let (unshowable, set_unshowable) = signal(false);
    let Prediction { seq: _, probabilities, input_rgba: rgba, original_size: (w, h), elapsed_ms, backend } = prediction;
    Effect::new(move |_| {
        if let Some(canvas) = canvas.get() {
            draw_rgba(&canvas, &rgba);
        }
    });
    let honest = move || {
        link.model.with(|m| match m {
            ModelState::Ready { card, .. } => card.metrics.get("group").map(|run| {
                format!(
                    "How far to trust this: on {} validation X-rays with no near-copy in its training images, \
                     this model's first choice was right {:.0} % of the time and its top three held the answer \
                     {:.0} % of the time (guessing: 10 % and 30 %).",
                    run.validation.n,
                    run.validation.accuracy * 100.0,
                    run.validation.top3_accuracy * 100.0
                )
            }),
            _ => None,
        })
    };
    view! {
        <div class="images">
            <figure>
                // Browsers cannot show DICOM (or, mostly, TIFF) files themselves: say so instead
                // of a broken image; the decoded pixels are on the canvas beside it.
                <Show
                    when=move || !unshowable.get()
                    fallback=|| view! {
                        <p class="unshowable" data-testid="preview-unshowable">
                            "Your browser cannot display this file type itself; the image as read from the file is on the right."
                        </p>
                    }
                >
                    <img src=preview_url.clone() alt="The uploaded image" on:error=move |_| set_unshowable.set(true) />
                </Show>
                <figcaption>{name}" · "{w}"×"{h}</figcaption>
            </figure>
            <figure>
                <canvas node_ref=canvas width=INPUT_SIZE height=INPUT_SIZE data-testid="model-input"></canvas>
                <figcaption>"What the model sees: "{INPUT_SIZE}"×"{INPUT_SIZE}", bilinear"</figcaption>
            </figure>
        </div>
        <p class="timing">
            <span data-testid="inference-ms">{format!("{elapsed_ms:.1}")}</span>
            {format!(" ms on {} (decoding, resizing and the network)", backend.label())}
        </p>
        <ProbabilityBars probabilities />
        <p class="honesty">{honest}</p>
    }
}

fn draw_rgba(canvas: &web_sys::HtmlCanvasElement, rgba: &[u8]) {
    let Ok(Some(context)) = canvas.get_context("2d") else { return };
    let Ok(context) = context.dyn_into::<web_sys::CanvasRenderingContext2d>() else { return };
    let size = INPUT_SIZE as u32;
    if let Ok(image) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), size, size) {
        let _ = context.put_image_data(&image, 0.0, 0.0);
    }
}
