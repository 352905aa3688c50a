//! The run's settings, each with a line on what it does.

use leptos::prelude::*;

use crate::train::{FineTuneOptions, Trainable};

const LEARNING_RATES: [f64; 5] = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3];
const BATCH_SIZES: [usize; 4] = [4, 8, 16, 32];

/// The settings form.
#[component]
pub fn OptionsForm(options: RwSignal<FineTuneOptions>, #[prop(into)] disabled: Signal<bool>) -> impl IntoView {
    let trainable = move || options.with(|o| o.trainable);
    view! {
        <fieldset class="finetune-options" disabled=disabled>
            <legend>"Settings"</legend>
            <div class="option">
                <span class="name">"What trains"</span>
                <label>
                    <input
                        type="radio"
                        name="trainable"
                        data-testid="finetune-head"
                        prop:checked=move || trainable() == Trainable::Head
                        on:change=move |_| options.update(|o| o.trainable = Trainable::Head)
                    />
                    "Classifier head only"
                </label>
                <label>
                    <input
                        type="radio"
                        name="trainable"
                        data-testid="finetune-whole"
                        prop:checked=move || trainable() == Trainable::Whole
                        on:change=move |_| options.update(|o| o.trainable = Trainable::Whole)
                    />
                    "Whole network"
                </label>
                <small>
                    "The head is the dense layers at the end (the seed CNN's two, EfficientNet's last one); "
                    "the convolutions keep what they learnt. "
                    "Training everything is about three times slower a step and overfits a few images faster."
                </small>
            </div>
            <label class="option">
                <span class="name">"Epochs"</span>
                <input
                    type="number"
                    min="1"
                    max="50"
                    data-testid="finetune-epochs"
                    prop:value=move || options.with(|o| o.epochs.to_string())
                    on:input=move |ev| {
                        if let Ok(n) = event_target_value(&ev).parse::<usize>() {
                            options.update(|o| o.epochs = n.clamp(1, 50));
                        }
                    }
                />
                <small>"Passes over your training images. The epoch with the lowest held-out loss is kept."</small>
            </label>
            <label class="option">
                <span class="name">"Batch size"</span>
                <select on:change=move |ev| {
                    if let Ok(n) = event_target_value(&ev).parse::<usize>() {
                        options.update(|o| o.batch_size = n);
                    }
                }>
                    {BATCH_SIZES
                        .iter()
                        .map(|&n| view! { <option value=n.to_string() selected=move || options.with(|o| o.batch_size == n)>{n}</option> })
                        .collect_view()}
                </select>
                <small>"Images per step. Larger batches give steadier steps and need more GPU memory."</small>
            </label>
            <label class="option">
                <span class="name">"Learning rate"</span>
                <select on:change=move |ev| {
                    if let Ok(rate) = event_target_value(&ev).parse::<f64>() {
                        options.update(|o| o.learning_rate = rate);
                    }
                }>
                    {LEARNING_RATES
                        .iter()
                        .map(|&rate| {
                            view! {
                                <option value=rate.to_string() selected=move || options.with(|o| o.learning_rate == rate)>
                                    {format!("{rate:e}")}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <small>"Adam's step size. Too high undoes the pretrained weights (or the loss becomes NaN: the run stops and keeps the last good weights)."</small>
            </label>
            <label class="option">
                <span class="name">"Augmentation"</span>
                <input
                    type="checkbox"
                    prop:checked=move || options.with(|o| o.augment)
                    on:change=move |ev| options.update(|o| o.augment = event_target_checked(&ev))
                />
                <small>"Random mirror images, ±10° rotations, 85–100 % zooms, ±10 % brightness and ±15 % contrast: more variety from few images."</small>
            </label>
            <label class="option">
                <span class="name">"Held out"</span>
                <input
                    type="number"
                    min="5"
                    max="50"
                    step="5"
                    data-testid="finetune-held-out"
                    prop:value=move || options.with(|o| format!("{:.0}", o.valid_fraction * 100.0))
                    on:input=move |ev| {
                        if let Ok(p) = event_target_value(&ev).parse::<f64>() {
                            options.update(|o| o.valid_fraction = (p / 100.0).clamp(0.05, 0.5));
                        }
                    }
                />
                " %"
                <small>"Images kept aside to score the model before and after; near-copies named in a manifest stay together."</small>
            </label>
        </fieldset>
    }
}
