//! The model worker: owns the device and the model, answers [`Request`]s with [`Event`]s.
//!
//! Requests are handled one at a time, in order; the page never blocks on them. During a
//! fine-tuning run the worker still reads its messages between steps (to stop, or to say it
//! is busy).

use futures::{FutureExt, SinkExt, StreamExt};
use gloo_worker::reactor::{reactor, ReactorScope};
use web_time::Instant;

use super::backend::{self, OpenedBackend};
use super::protocol::ShippedModel;
use super::protocol::{BackendKind, Event, ModelFiles, Prediction, Request};
use super::weights::{fetch_index, fetch_shipped_model, FetchedModel, ModelIndex};
use crate::data::{decode_xray_framed, unlike_an_xray, Framing, Xray, INPUT_SIZE};
use crate::model::Classifier;
use crate::store::{classifier_from_card, ModelCard};
use crate::train::{apply_temperature, predict_with_heatmap, TrainError};

/// The worker's entry point, registered by `src/bin/worker.rs` and spawned by the page.
#[reactor]
pub async fn ModelWorker(mut scope: ReactorScope<Request, Event>) {
    let mut engine = Engine::default();
    while let Some(request) = scope.next().await {
        match request {
            Request::Start { backend, model } => engine.start(backend, model, &mut scope).await,
            Request::RetryModel => {
                let backend = engine.backend.as_ref().map_or(BackendKind::Cpu, |b| b.kind);
                engine.start(backend, None, &mut scope).await
            }
            Request::Classify { seq, name, bytes } => {
                let mut result = engine.classify(seq, &bytes).await;
                if let Err(Failure::GpuLost(why)) = &result {
                    // A driver reset or a destroyed device: move to the CPU and answer anyway.
                    result = match engine.recover_on_cpu(why.clone(), &mut scope).await {
                        Ok(()) => engine.classify(seq, &bytes).await,
                        Err(message) => Err(Failure::Message(message)),
                    };
                }
                let event = match result {
                    Ok(prediction) => Event::Classified(prediction),
                    Err(failure) => Event::ClassifyFailed { seq, message: format!("{name}: {failure}") },
                };
                send(&mut scope, event);
            }
            Request::FineTune { options, images } => engine.fine_tune(options, images, &mut scope).await,
            // Only meaningful during a run, where the run's own loop reads it.
            Request::StopFineTune => {}
            Request::LoadModel { card_json, weights } => {
                let files = ModelCard::from_json(&card_json)
                    .map_err(|e| e.to_string())
                    .map(|card| ActiveModel { card, files: ModelFiles { card_json, weights } });
                match files {
                    Ok(model) => engine.switch_model(model, &mut scope).await,
                    Err(message) => send(&mut scope, Event::LoadFailed { message }),
                }
            }
            Request::UseShipped { id } => engine.use_shipped(&id, &mut scope).await,
            Request::UsePretrained => match engine.pretrained.clone() {
                Some(model) => engine.switch_model(model, &mut scope).await,
                None => send(&mut scope, Event::LoadFailed { message: "the pretrained model is not downloaded yet".into() }),
            },
        }
    }
}

/// Sends without waiting: the worker's outgoing channel is always ready.
pub(super) fn send(scope: &mut ReactorScope<Request, Event>, event: Event) {
    let _ = scope.send(event).now_or_never();
}

/// A model's card and files: what is loaded onto the device, and reloaded when the backend changes.
#[derive(Clone)]
pub(super) struct ActiveModel {
    pub card: ModelCard,
    pub files: ModelFiles,
}

impl From<FetchedModel> for ActiveModel {
    fn from(fetched: FetchedModel) -> Self {
        ActiveModel { card: fetched.card, files: ModelFiles { card_json: fetched.card_json, weights: fetched.weights } }
    }
}

#[derive(Default)]
pub(super) struct Engine {
    pub backend: Option<OpenedBackend>,
    /// `models/index.json`, downloaded once.
    index: Option<ModelIndex>,
    /// The page's own model (the index's default, or the shipped model chosen since).
    pretrained: Option<ActiveModel>,
    pretrained_from_cache: bool,
    /// The model in use (the pretrained one, a fine-tuned one or a loaded one).
    pub active: Option<ActiveModel>,
    pub classifier: Option<LoadedModel>,
}

/// The model in use, on the device: as trained (fine-tuning starts from it) and with batch norm
/// folded into the convolutions (what classifies: the same function with fewer passes over
/// each activation, `Classifier::fold_batch_norm`).
pub(super) struct LoadedModel {
    pub trainable: Classifier,
    pub folded: Classifier,
}

impl LoadedModel {
    pub fn new(trainable: Classifier) -> Self {
        LoadedModel { folded: trainable.clone().fold_batch_norm(), trainable }
    }
}

impl Engine {
    /// Opens the backend (falling back to the CPU), downloads the pretrained model if needed,
    /// loads the model in use onto the device and warms it up with one inference.
    async fn start(&mut self, wanted: BackendKind, model: Option<String>, scope: &mut ReactorScope<Request, Event>) {
        let started = Instant::now();
        self.classifier = None;
        if wanted == BackendKind::WebGpu {
            send(scope, Event::Status("Preparing the GPU…".into()));
        }
        let mut fallback = None;
        let opened = match backend::open(wanted).await {
            Ok(opened) => opened,
            Err(reason) => {
                fallback = Some(reason);
                backend::cpu()
            }
        };
        self.announce(&opened, fallback.clone(), scope);
        self.backend = Some(opened);

        if self.pretrained.is_none() {
            send(scope, Event::Status("Downloading the model…".into()));
            let result = match self.shipped_index().await {
                Ok(index) => {
                    let id = model.unwrap_or_else(|| index.default.clone());
                    self.announce_shipped(&id, scope);
                    fetch_shipped_model(&index, &id, |loaded, total| send(scope, Event::Download { loaded, total })).await
                }
                Err(message) => Err(message),
            };
            match result {
                Ok(fetched) => {
                    self.pretrained_from_cache = fetched.from_cache;
                    self.pretrained = Some(fetched.into());
                }
                Err(message) => return send(scope, Event::ModelFailed { message }),
            }
        }
        if self.active.is_none() {
            self.active = self.pretrained.clone();
        }
        send(scope, Event::Status("Loading the weights and running a first inference…".into()));
        let model = self.active.clone().expect("set above");
        if let Err(message) = self.load_and_warm_up(&model).await {
            let on_gpu = self.backend.as_ref().is_some_and(|b| b.kind == BackendKind::WebGpu);
            if !on_gpu {
                return send(scope, Event::ModelFailed { message });
            }
            // The GPU opened but cannot run the model: carry on with the CPU and say why.
            let why = format!("the GPU could not run the model ({message})");
            if let Err(message) = self.move_to_cpu(why, &model, scope).await {
                return send(scope, Event::ModelFailed { message });
            }
        }
        let from_cache = self.pretrained_from_cache;
        self.ready(scope, from_cache, started);
    }

    /// The index of shipped models, downloaded on first use.
    async fn shipped_index(&mut self) -> Result<ModelIndex, String> {
        if self.index.is_none() {
            self.index = Some(fetch_index().await?);
        }
        Ok(self.index.clone().expect("set above"))
    }

    fn announce_shipped(&self, chosen: &str, scope: &mut ReactorScope<Request, Event>) {
        if let Some(index) = &self.index {
            let models = index
                .models
                .iter()
                .map(|m| ShippedModel { id: m.id.clone(), name: m.name.clone(), path: m.path.clone() })
                .collect();
            send(scope, Event::Shipped { models, chosen: chosen.to_string() });
        }
    }

    /// Downloads the shipped model `id` and puts it in use as the page's pretrained model; if
    /// it cannot be downloaded or loaded, the model in use stays.
    async fn use_shipped(&mut self, id: &str, scope: &mut ReactorScope<Request, Event>) {
        let started = Instant::now();
        let fetched = match self.shipped_index().await {
            Ok(index) => fetch_shipped_model(&index, id, |loaded, total| send(scope, Event::Download { loaded, total })).await,
            Err(message) => Err(message),
        };
        let model = match fetched {
            Ok(fetched) => ActiveModel::from(fetched),
            Err(message) => return send(scope, Event::LoadFailed { message: format!("{message}; the model in use stays") }),
        };
        match self.load_and_warm_up(&model).await {
            Ok(()) => {
                self.pretrained = Some(model.clone());
                self.active = Some(model);
                self.announce_shipped(id, scope);
                self.ready(scope, true, started);
            }
            Err(message) => send(scope, Event::LoadFailed { message: format!("{message}; the model in use stays") }),
        }
    }

    /// Puts another model in use; if it cannot be loaded, the current one stays.
    pub async fn switch_model(&mut self, model: ActiveModel, scope: &mut ReactorScope<Request, Event>) {
        let started = Instant::now();
        match self.load_and_warm_up(&model).await {
            Ok(()) => {
                self.active = Some(model);
                self.ready(scope, true, started);
            }
            Err(message) => send(scope, Event::LoadFailed { message: format!("{message}; the model in use stays") }),
        }
    }

    fn ready(&self, scope: &mut ReactorScope<Request, Event>, from_cache: bool, started: Instant) {
        let card_json = self.active.as_ref().map(|m| m.files.card_json.clone()).unwrap_or_default();
        let load_ms = started.elapsed().as_secs_f64() * 1000.0;
        send(scope, Event::ModelReady { card_json, from_cache, load_ms });
    }

    fn announce(&self, opened: &OpenedBackend, fallback: Option<String>, scope: &mut ReactorScope<Request, Event>) {
        send(scope, Event::BackendReady { backend: opened.kind, adapter: opened.adapter.clone(), fallback });
    }

    /// Builds `model` on the current device and runs one inference; only then replaces the
    /// classifier in use.
    async fn load_and_warm_up(&mut self, model: &ActiveModel) -> Result<(), String> {
        let Some(backend) = &self.backend else {
            return Err("no backend is open".into());
        };
        let classifier = classifier_from_card(&model.card, &model.files.weights, &backend.device).map_err(|e| e.to_string())?;
        let loaded = LoadedModel::new(classifier);
        let blank = Xray { pixels: vec![0.0; 3 * INPUT_SIZE * INPUT_SIZE], original_size: (1, 1) };
        // The path `classify` takes, at its batch size (the card's views).
        predict_with_heatmap(&loaded.folded, &blank, model.card.views, &backend.device).await.map_err(|e| e.to_string())?;
        self.classifier = Some(loaded);
        Ok(())
    }

    /// Opens the CPU backend, tells the page `why`, and loads `model` there.
    async fn move_to_cpu(
        &mut self,
        why: String,
        model: &ActiveModel,
        scope: &mut ReactorScope<Request, Event>,
    ) -> Result<(), String> {
        let cpu = backend::cpu();
        self.announce(&cpu, Some(why), scope);
        self.backend = Some(cpu);
        self.classifier = None;
        self.load_and_warm_up(model).await
    }

    /// The GPU is gone (`why` says so): the model in use moves to the CPU and is ready again.
    async fn recover_on_cpu(&mut self, why: String, scope: &mut ReactorScope<Request, Event>) -> Result<(), String> {
        let started = Instant::now();
        let model = self.active.clone().ok_or("no model is loaded")?;
        self.move_to_cpu(why, &model, scope).await?;
        self.ready(scope, true, started);
        Ok(())
    }

    async fn classify(&self, seq: u64, bytes: &[u8]) -> Result<Prediction, Failure> {
        let started = Instant::now();
        // As the model was trained: the card says whether padding bars are trimmed first.
        let framing = self.active.as_ref().map_or(Framing::Whole, |m| m.card.input.framing);
        let xray = decode_xray_framed(bytes, framing).map_err(|e| Failure::Message(e.to_string()))?;
        let (Some(backend), Some(classifier)) = (&self.backend, &self.classifier) else {
            return Err(Failure::Message("the model is not loaded yet; wait for it or retry the download".into()));
        };
        // The card says over how many views of the image its answer is averaged.
        let views = self.active.as_ref().map_or(1, |m| m.card.views);
        let (probabilities, heatmap) =
            predict_with_heatmap(&classifier.folded, &xray, views, &backend.device).await.map_err(|e| match e {
                lost @ TrainError::DeviceLost(_) if backend.kind == BackendKind::WebGpu => Failure::GpuLost(lost.to_string()),
                other => Failure::Message(other.to_string()),
            })?;
        // The card's temperature, when it has one, makes the confidence honest (model.json's
        // calibration); it never changes the ranking.
        let temperature = self.active.as_ref().and_then(|m| m.card.calibration.as_ref()).map_or(1.0, |c| c.temperature);
        Ok(Prediction {
            seq,
            probabilities: apply_temperature(&probabilities, temperature),
            heatmap,
            warning: unlike_an_xray(&xray),
            input_rgba: rgba(&xray),
            original_size: xray.original_size,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            backend: backend.kind,
            views,
        })
    }
}

/// Why an image was not classified, worded for the visitor.
enum Failure {
    Message(String),
    /// The WebGPU device was lost; the engine moves to the CPU and tries again.
    GpuLost(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Message(message) | Failure::GpuLost(message) => f.write_str(message),
        }
    }
}

/// The model's input as RGBA bytes, for drawing.
fn rgba(xray: &Xray) -> Vec<u8> {
    let plane = INPUT_SIZE * INPUT_SIZE;
    let mut out = Vec::with_capacity(plane * 4);
    for i in 0..plane {
        for c in 0..3 {
            out.push((xray.pixels[c * plane + i] * 255.0).round().clamp(0.0, 255.0) as u8);
        }
        out.push(255);
    }
    out
}
