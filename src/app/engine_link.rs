//! The page's handle on the model worker: spawns it, sends [`Request`]s and turns its
//! [`Event`]s into signals the components read.

use futures::channel::mpsc::{unbounded, UnboundedSender};
use futures::StreamExt;
use gloo_worker::Spawnable;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::blobs::object_url;
use crate::store::ModelCard;
use crate::train::{BatchReport, EpochReport, FineTuneOptions, FineTuneReport};
use crate::worker::engine::ModelWorker;
use crate::worker::{BackendKind, Event, LabelledFile, ModelFiles, Prediction, Request, ShippedModel};

/// The worker's loader script, emitted by Trunk next to `index.html` (relative, so the page
/// also works from a sub-path).
const WORKER_LOADER: &str = "./worker_loader.js";

/// The backend the worker reports.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendState {
    pub kind: BackendKind,
    pub adapter: String,
    /// Why this is not the backend that was asked for.
    pub fallback: Option<String>,
}

/// Where the model is.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelState {
    Loading,
    Ready { card: Box<ModelCard>, from_cache: bool, load_ms: f64 },
    Failed(String),
}

/// The outcome of one handled input.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Grows by one for every input handled, classified or not.
    pub seq: u64,
    pub result: Result<Prediction, String>,
}

/// An input on its way to the worker (or back): its name and a URL to show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub seq: u64,
    pub name: String,
    pub preview_url: String,
}

/// Where a fine-tuning run is; the value of `data-state` on the page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RunState {
    #[default]
    Idle,
    Running,
    Done,
    Stopped,
    Failed,
}

impl RunState {
    pub fn attribute(self) -> &'static str {
        match self {
            RunState::Idle => "idle",
            RunState::Running => "running",
            RunState::Done => "done",
            RunState::Stopped => "stopped",
            RunState::Failed => "failed",
        }
    }
}

/// Everything the page knows about the latest fine-tuning run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FineTuneRun {
    pub state: RunState,
    pub options: Option<FineTuneOptions>,
    pub train_images: usize,
    pub valid_images: usize,
    /// Files the worker could not read, with the reason.
    pub skipped: Vec<(String, String)>,
    pub batches: Vec<BatchReport>,
    pub epochs: Vec<EpochReport>,
    pub report: Option<FineTuneReport>,
    /// Why it failed or halted.
    pub message: Option<String>,
    /// It failed on WebGPU: the CPU backend is worth offering.
    pub failed_on_gpu: bool,
    pub stop_requested: bool,
}

/// Shared through context; `Copy`, so every component can hold it.
#[derive(Clone, Copy)]
pub struct EngineLink {
    pub backend: RwSignal<Option<BackendState>>,
    pub status: RwSignal<String>,
    pub download: RwSignal<Option<(u64, u64)>>,
    pub model: RwSignal<ModelState>,
    pub upload: RwSignal<Option<Upload>>,
    pub outcome: RwSignal<Option<Outcome>>,
    pub fine_tune: RwSignal<FineTuneRun>,
    /// The latest fine-tuned (or loaded) model, to use again, save or download.
    pub tuned: RwSignal<Option<ModelFiles>>,
    /// A model asked for by [`EngineLink::load_model`], until the worker answers.
    pending_load: StoredValue<Option<ModelFiles>>,
    /// Why the last model switch failed (the model in use stayed).
    pub load_error: RwSignal<Option<String>>,
    /// The models the page ships, and the one chosen as its pretrained model.
    pub shipped: RwSignal<(Vec<ShippedModel>, String)>,
    /// The shipped model asked for by [`EngineLink::use_shipped`], until the worker answers.
    pub switching_to: RwSignal<Option<String>>,
    /// Number of inputs sent so far (the next input gets `sent + 1`).
    sent: RwSignal<u64>,
    requests: StoredValue<UnboundedSender<Request>>,
}

impl EngineLink {
    /// Spawns the worker and asks it for `backend`.
    pub fn spawn(backend: BackendKind) -> Self {
        let (requests, outgoing) = unbounded::<Request>();
        let link = EngineLink {
            backend: RwSignal::new(None),
            status: RwSignal::new("Starting the model worker…".into()),
            download: RwSignal::new(None),
            model: RwSignal::new(ModelState::Loading),
            upload: RwSignal::new(None),
            outcome: RwSignal::new(None),
            fine_tune: RwSignal::new(FineTuneRun::default()),
            tuned: RwSignal::new(None),
            pending_load: StoredValue::new(None),
            load_error: RwSignal::new(None),
            shipped: RwSignal::new((Vec::new(), String::new())),
            switching_to: RwSignal::new(None),
            sent: RwSignal::new(0),
            requests: StoredValue::new(requests),
        };
        let bridge = ModelWorker::spawner().as_module(false).with_loader(true).spawn(WORKER_LOADER);
        let (to_worker, mut from_worker) = bridge.split();
        spawn_local(async move {
            let _ = outgoing.map(Ok).forward(to_worker).await;
        });
        spawn_local(async move {
            while let Some(event) = from_worker.next().await {
                link.on_event(event);
            }
        });
        link.request(Request::Start { backend, model: model_in_address() });
        link
    }

    fn request(&self, request: Request) {
        self.requests.with_value(|tx| {
            // Fails only once the page is being torn down.
            let _ = tx.unbounded_send(request);
        });
    }

    /// Moves the model to another backend.
    pub fn switch_backend(&self, backend: BackendKind) {
        self.model.set(ModelState::Loading);
        self.request(Request::Start { backend, model: None });
    }

    /// Downloads the model again after a failure.
    pub fn retry_model(&self) {
        self.model.set(ModelState::Loading);
        self.request(Request::RetryModel);
    }

    /// Sends an image file's bytes to be classified; the answer arrives in [`EngineLink::outcome`].
    pub fn classify(&self, name: String, bytes: Vec<u8>) {
        let seq = self.next_seq();
        let preview_url = object_url(&bytes).unwrap_or_default();
        self.revoke_preview();
        self.upload.set(Some(Upload { seq, name: name.clone(), preview_url }));
        self.request(Request::Classify { seq, name, bytes });
    }

    /// Records an input that failed before reaching the worker (an unreadable file).
    pub fn fail_input(&self, message: String) {
        let seq = self.next_seq();
        self.revoke_preview();
        self.upload.set(None);
        self.outcome.set(Some(Outcome { seq, result: Err(message) }));
    }

    /// Starts fine-tuning the model in use on `images`.
    pub fn start_fine_tune(&self, options: FineTuneOptions, images: Vec<LabelledFile>) {
        self.fine_tune.set(FineTuneRun { state: RunState::Running, options: Some(options.clone()), ..Default::default() });
        self.request(Request::FineTune { options, images });
    }

    /// Ends the run after its current step; the best epoch so far is kept.
    pub fn stop_fine_tune(&self) {
        if self.fine_tune.with_untracked(|run| run.state == RunState::Running) {
            self.fine_tune.update(|run| run.stop_requested = true);
            self.request(Request::StopFineTune);
        }
    }

    /// Puts a model in use from its files (saved in the browser, downloaded, or just trained).
    pub fn load_model(&self, files: ModelFiles) {
        self.load_error.set(None);
        self.pending_load.set_value(Some(files.clone()));
        self.request(Request::LoadModel { card_json: files.card_json, weights: files.weights });
    }

    /// Goes back to the page's own pretrained model.
    pub fn use_pretrained(&self) {
        self.load_error.set(None);
        self.request(Request::UsePretrained);
    }

    /// Puts the shipped model `id` in use (downloaded once, then from the cache).
    pub fn use_shipped(&self, id: String) {
        self.load_error.set(None);
        self.download.set(None);
        self.switching_to.set(Some(id.clone()));
        self.request(Request::UseShipped { id });
    }

    fn next_seq(&self) -> u64 {
        self.sent.update(|n| *n += 1);
        self.sent.get_untracked()
    }

    fn revoke_preview(&self) {
        if let Some(upload) = self.upload.get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&upload.preview_url);
        }
    }

    fn on_event(&self, event: Event) {
        match event {
            Event::Status(text) => self.status.set(text),
            Event::BackendReady { backend, adapter, fallback } => {
                self.backend.set(Some(BackendState { kind: backend, adapter, fallback }))
            }
            Event::Download { loaded, total } => self.download.set(Some((loaded, total))),
            Event::ModelReady { card_json, from_cache, load_ms } => match ModelCard::from_json(&card_json) {
                Ok(card) => {
                    if let Some(files) = self.pending_load.try_update_value(Option::take).flatten() {
                        self.tuned.set(Some(files));
                    }
                    self.status.set(String::new());
                    self.switching_to.set(None);
                    self.model.set(ModelState::Ready { card: Box::new(card), from_cache, load_ms });
                }
                Err(e) => self.model.set(ModelState::Failed(e.to_string())),
            },
            Event::ModelFailed { message } => {
                self.status.set(String::new());
                self.model.set(ModelState::Failed(message));
            }
            Event::Classified(prediction) => self.outcome.set(Some(Outcome { seq: prediction.seq, result: Ok(prediction) })),
            Event::ClassifyFailed { seq, message } => self.outcome.set(Some(Outcome { seq, result: Err(message) })),
            Event::FineTuneStarted { train_images, valid_images, skipped } => self.fine_tune.update(|run| {
                run.train_images = train_images;
                run.valid_images = valid_images;
                run.skipped = skipped;
            }),
            Event::FineTuneBatch(report) => self.fine_tune.update(|run| run.batches.push(report)),
            Event::FineTuneEpoch(report) => self.fine_tune.update(|run| run.epochs.push(report)),
            Event::FineTuneFinished { report, model } => {
                self.fine_tune.update(|run| {
                    run.state = if report.stopped || report.halted.is_some() { RunState::Stopped } else { RunState::Done };
                    run.message = report.halted.clone();
                    run.train_images = report.train_images;
                    run.valid_images = report.valid_images;
                    run.report = Some(report);
                });
                if model.is_some() {
                    self.tuned.set(model);
                }
            }
            Event::FineTuneFailed { message, on_gpu } => self.fine_tune.update(|run| {
                run.state = RunState::Failed;
                run.message = Some(message);
                run.failed_on_gpu = on_gpu;
            }),
            Event::LoadFailed { message } => {
                self.pending_load.set_value(None);
                self.switching_to.set(None);
                self.load_error.set(Some(message));
            }
            Event::Shipped { models, chosen } => self.shipped.set((models, chosen)),
        }
    }
}

/// The shipped model the address asks for (`?model=seed-cnn`), if any.
fn model_in_address() -> Option<String> {
    let search = window().location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get("model").filter(|id| !id.is_empty())
}

/// The link provided by [`crate::app::App`].
pub fn use_engine() -> EngineLink {
    expect_context::<EngineLink>()
}
