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

/// Whether the heatmap is shown over the model's input, and how opaque (0–1); kept across
/// predictions.
///
/// Only [`ResultPanel`], which lives as long as the page, binds to these signals: it sets a
/// class and a CSS variable that style every heatmap below it. A view rebuilt for each
/// prediction must not subscribe to a long-lived signal: the dropped view's effect stays in the
/// signal's subscriber list (a weak reference, 48 bytes each) until that signal next changes,
/// so a thousand predictions would leave a thousand of them behind.
#[derive(Clone, Copy)]
struct HeatmapSettings {
    shown: RwSignal<bool>,
    opacity: RwSignal<f64>,
}

/// The main section of the page.
#[component]
pub fn ClassifySection() -> impl IntoView {
    provide_context(HeatmapSettings { shown: RwSignal::new(false), opacity: RwSignal::new(0.6) });
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
    let settings = expect_context::<HeatmapSettings>();
    view! {
        <div
            class="result"
            class:heatmap-shown=move || settings.shown.get()
            // Through the CSSOM: the page's Content-Security-Policy blocks `style` attributes.
            style=("--heatmap-opacity", move || settings.opacity.get().to_string())
            data-testid="result"
            data-seq=seq
            aria-live="polite"
        >
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
    let heatmap_canvas = NodeRef::<Canvas>::new();
    let Prediction {
        seq: _,
        probabilities,
        input_rgba: rgba,
        original_size: (w, h),
        elapsed_ms,
        backend,
        heatmap,
        warning,
        views,
    } = prediction;
    let has_heatmap = heatmap.is_some();
    Effect::new(move |_| {
        if let Some(canvas) = canvas.get() {
            draw_rgba(&canvas, &rgba);
        }
        if let (Some(canvas), Some(map)) = (heatmap_canvas.get(), &heatmap) {
            draw_rgba(&canvas, &heat_colours(map));
        }
    });
    let settings = expect_context::<HeatmapSettings>();
    let top_class = crate::train::ranked_classes(&probabilities)[0];
    let top_name = crate::FractureClass::ALL[top_class].display_name();
    // Read once: the text is about the model that answered, and a per-prediction view must not
    // subscribe to the long-lived model signal (see `HeatmapSettings`).
    let honest = link.model.with_untracked(|m| match m {
        // The page's own answer (over the card's views) where it was cross-validated so.
        ModelState::Ready { card, .. } => match (card.answer_cross_validation(), card.metrics.get("group")) {
            (Some(cv), _) => Some(format!(
                "How far to trust this: in {}-fold cross-validation over {} X-rays, each scored by a model that had \
                 seen no near-copy of it, this recipe's first choice{} was right {:.0} % of the time and its top three \
                 held the answer {:.0} % of the time (guessing: 10 % and 30 %).",
                cv.folds,
                cv.results.iter().map(|r| r.test_images).sum::<usize>(),
                cv.views.map_or(String::new(), |n| format!(" (over {n} views, as here)")),
                cv.top1.mean * 100.0,
                cv.top3.mean * 100.0
            )),
            (None, Some(run)) => Some(format!(
                "How far to trust this: on {} validation X-rays with no near-copy in its training images, \
                 this model's first choice was right {:.0} % of the time and its top three held the answer \
                 {:.0} % of the time (guessing: 10 % and 30 %).",
                run.validation.n,
                run.validation.accuracy * 100.0,
                run.validation.top3_accuracy * 100.0
            )),
            _ => None,
        },
        _ => None,
    });
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
                <div class="stack">
                    <canvas node_ref=canvas width=INPUT_SIZE height=INPUT_SIZE data-testid="model-input"></canvas>
                    // Only networks with a map get the overlay and its reactive attributes.
                    {has_heatmap.then(|| view! {
                        <canvas
                            node_ref=heatmap_canvas
                            width=INPUT_SIZE
                            height=INPUT_SIZE
                            class="heatmap"
                            data-testid="heatmap"
                        ></canvas>
                    })}
                </div>
                <figcaption>"What the model sees: "{INPUT_SIZE}"×"{INPUT_SIZE}", bilinear"</figcaption>
                {if has_heatmap {
                    view! {
                        <div class="heatmap-controls">
                            <label>
                                <input
                                    type="checkbox"
                                    data-testid="heatmap-toggle"
                                    prop:checked=settings.shown.get_untracked()
                                    on:change=move |ev| settings.shown.set(event_target_checked(&ev))
                                />
                                {format!(" Show where the evidence for “{top_name}” lies")}
                            </label>
                            <label>
                                " Opacity "
                                <input
                                    type="range"
                                    min="0"
                                    max="100"
                                    data-testid="heatmap-opacity"
                                    prop:value=(settings.opacity.get_untracked() * 100.0).round().to_string()
                                    on:input=move |ev| {
                                        let value = event_target_value(&ev).parse::<f64>().unwrap_or(60.0);
                                        settings.opacity.set((value / 100.0).clamp(0.0, 1.0));
                                    }
                                />
                            </label>
                            <p class="note">
                                "Class activation map: the network's evidence for its first choice, region by region \
                                 (32×32-pixel cells, smoothed). It shows what the network used, not where a fracture is."
                            </p>
                        </div>
                    }
                    .into_any()
                } else {
                    view! {
                        <p class="note" data-testid="heatmap-unavailable">
                            "No heatmap for this network: the seed CNN flattens its feature maps instead of pooling them, \
                             so its evidence cannot be mapped back onto the image. Choose EfficientNet-Lite0 above for one."
                        </p>
                    }
                    .into_any()
                }}
            </figure>
        </div>
        {warning.map(|text| view! { <p class="warning" role="alert" data-testid="not-an-xray">{text}</p> })}
        <p class="timing">
            <span data-testid="inference-ms">{format!("{elapsed_ms:.1}")}</span>
            {match views {
                1 => format!(" ms on {} (decoding, resizing and the network)", backend.label()),
                n => format!(" ms on {} (decoding, resizing and the network on {n} views of the image)", backend.label()),
            }}
        </p>
        <ProbabilityBars probabilities />
        <p class="honesty">{honest}</p>
    }
}

/// A 0–255 map as RGBA: black-red-yellow-white ("hot"), transparent where the map is 0.
fn heat_colours(map: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(map.len() * 4);
    for &v in map {
        let t = v as f32 / 255.0;
        let channel = |offset: f32| ((3.0 * t - offset).clamp(0.0, 1.0) * 255.0) as u8;
        out.extend_from_slice(&[channel(0.0), channel(1.0), channel(2.0), v]);
    }
    out
}

fn draw_rgba(canvas: &web_sys::HtmlCanvasElement, rgba: &[u8]) {
    let Ok(Some(context)) = canvas.get_context("2d") else { return };
    let Ok(context) = context.dyn_into::<web_sys::CanvasRenderingContext2d>() else { return };
    let size = INPUT_SIZE as u32;
    if let Ok(image) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), size, size) {
        let _ = context.put_image_data(&image, 0.0, 0.0);
    }
}
