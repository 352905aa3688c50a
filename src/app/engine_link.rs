//! The page's handle on the model worker: spawns it, sends [`Request`]s and turns its
//! [`Event`]s into signals the components read.

use futures::channel::mpsc::{unbounded, UnboundedSender};
use futures::StreamExt;
use gloo_worker::Spawnable;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::store::ModelCard;
use crate::worker::engine::ModelWorker;
use crate::worker::{BackendKind, Event, Prediction, Request};

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

/// Shared through context; `Copy`, so every component can hold it.
#[derive(Clone, Copy)]
pub struct EngineLink {
    pub backend: RwSignal<Option<BackendState>>,
    pub status: RwSignal<String>,
    pub download: RwSignal<Option<(u64, u64)>>,
    pub model: RwSignal<ModelState>,
    pub upload: RwSignal<Option<Upload>>,
    pub outcome: RwSignal<Option<Outcome>>,
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
        link.request(Request::Start { backend });
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
        self.request(Request::Start { backend });
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
                    self.status.set(String::new());
                    self.model.set(ModelState::Ready { card: Box::new(card), from_cache, load_ms });
                }
                Err(e) => self.model.set(ModelState::Failed(e.to_string())),
            },
            Event::ModelFailed { message } => {
                self.status.set(String::new());
                self.model.set(ModelState::Failed(message));
            }
            Event::Classified(prediction) => {
                self.outcome.set(Some(Outcome { seq: prediction.seq, result: Ok(prediction) }))
            }
            Event::ClassifyFailed { seq, message } => self.outcome.set(Some(Outcome { seq, result: Err(message) })),
        }
    }
}

/// A `blob:` URL showing `bytes` (the browser decides whether it can display them).
fn object_url(bytes: &[u8]) -> Option<String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// The link provided by [`crate::app::App`].
pub fn use_engine() -> EngineLink {
    expect_context::<EngineLink>()
}
