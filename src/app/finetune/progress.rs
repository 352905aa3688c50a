//! The run as it happens: its state, the latest step's numbers, Stop, and the live charts.

use leptos::prelude::*;

use super::charts::{LineChart, Series};
use crate::app::engine_link::{use_engine, RunState};
use crate::worker::BackendKind;

/// State, numbers and charts of the current run.
#[component]
pub fn RunProgress() -> impl IntoView {
    let link = use_engine();
    let run = link.fine_tune;
    let state = move || run.with(|r| r.state);
    let latest = move || run.with(|r| r.batches.last().cloned());
    let epochs_planned = move || run.with(|r| r.options.as_ref().map_or(0, |o| o.epochs));
    let batch_losses = Signal::derive(move || {
        vec![Series {
            label: "batch loss",
            class: "train",
            values: run.with(|r| r.batches.iter().map(|b| b.loss as f64).collect()),
        }]
    });
    let epoch_losses = Signal::derive(move || {
        run.with(|r| {
            vec![
                Series { label: "train", class: "train", values: r.epochs.iter().map(|e| e.train_loss).collect() },
                Series { label: "held out", class: "valid", values: r.epochs.iter().map(|e| e.valid_loss).collect() },
            ]
        })
    });
    let epoch_accuracy = Signal::derive(move || {
        run.with(|r| {
            vec![
                Series { label: "train", class: "train", values: r.epochs.iter().map(|e| e.train_accuracy).collect() },
                Series { label: "held out", class: "valid", values: r.epochs.iter().map(|e| e.valid_accuracy).collect() },
            ]
        })
    });
    view! {
        <div class="run-progress" aria-live="polite">
            <p class="run-line">
                <span class="run-state" data-testid="finetune-state" data-state=move || state().attribute()>
                    {move || match state() {
                        RunState::Idle => "Not started.",
                        RunState::Running if run.with(|r| r.stop_requested) => "Stopping after this step…",
                        RunState::Running => "Training…",
                        RunState::Done => "Done.",
                        RunState::Stopped => "Stopped; the best epoch so far is kept.",
                        RunState::Failed => "Failed.",
                    }}
                </span>
                " "
                <Show when=move || state() == RunState::Running>
                    <button data-testid="finetune-stop" on:click=move |_| link.stop_fine_tune() disabled=move || run.with(|r| r.stop_requested)>
                        "Stop"
                    </button>
                </Show>
            </p>
            {move || {
                latest().map(|b| {
                    view! {
                        <p class="step-numbers" data-testid="finetune-speed" data-images-per-second=b.images_per_second data-batch=b.batch>
                            {format!("Epoch {} of {}, batch {} of {} · loss ", b.epoch, epochs_planned(), b.batch, b.batches)}
                            <span data-testid="finetune-loss">{format!("{:.4}", b.loss)}</span>
                            {format!(
                                " · accuracy {:.0} % · {:.2} images/s · about {} left",
                                b.accuracy * 100.0,
                                b.images_per_second,
                                duration(b.seconds_left)
                            )}
                        </p>
                    }
                })
            }}
            {move || {
                run.with(|r| {
                    (r.train_images + r.valid_images > 0)
                        .then(|| format!("{} images train, {} are held out to score the model.", r.train_images, r.valid_images))
                })
            }}
            {move || {
                run.with(|r| {
                    (!r.skipped.is_empty())
                        .then(|| {
                            let items = r
                                .skipped
                                .iter()
                                .map(|(name, why)| view! { <li>{name.clone()} ": " {why.clone()}</li> })
                                .collect_view();
                            view! {
                                <div class="warning" data-testid="finetune-skipped">
                                    {format!("{} files were skipped:", r.skipped.len())}
                                    <ul>{items}</ul>
                                </div>
                            }
                        })
                })
            }}
            {move || {
                run.with(|r| r.message.clone()).map(|message| {
                    let offer_cpu = run.with(|r| r.failed_on_gpu)
                        && link.backend.with(|b| b.as_ref().map(|b| b.kind)) == Some(BackendKind::WebGpu);
                    view! {
                        <p class="error" role="alert" data-testid="finetune-error">
                            {message}
                            <Show when=move || offer_cpu>
                                " "
                                <button on:click=move |_| link.switch_backend(BackendKind::Cpu)>
                                    "Switch to the CPU backend"
                                </button>
                                " and start again."
                            </Show>
                        </p>
                    }
                })
            }}
            <Show when=move || run.with(|r| !r.batches.is_empty())>
                <div class="charts">
                    <LineChart title="Loss per batch" series=batch_losses />
                    <LineChart title="Loss per epoch" series=epoch_losses />
                    <LineChart title="Accuracy per epoch" series=epoch_accuracy />
                </div>
            </Show>
        </div>
    }
}

fn duration(seconds: f64) -> String {
    let seconds = seconds.max(0.0).round() as u64;
    match seconds {
        0..=59 => format!("{seconds} s"),
        _ => format!("{} min {} s", seconds / 60, seconds % 60),
    }
}
