//! A fine-tuning run inside the worker: decode the labelled files, run the shared
//! [`fine_tune`], stream progress to the page, and put the kept model in use.

use futures::{FutureExt, StreamExt};
use gloo_worker::reactor::ReactorScope;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_time::Instant;

use super::engine::{send, ActiveModel, Engine, LoadedModel};
use super::protocol::{BackendKind, Event, LabelledFile, ModelFiles, Request};
use crate::classes::FractureClass;
use crate::data::{decode_xray_framed, LabelledXray};
use crate::store::{classifier_from_bytes, weights_to_bytes_async, ModelCard};
use crate::train::{fine_tune, held_out_split, BatchReport, EpochReport, FineTuneOptions, TrainObserver, Trainable};

/// Streams a run's progress to the page and reads the page's messages between steps.
struct RunObserver<'a> {
    scope: &'a mut ReactorScope<Request, Event>,
    stop: bool,
}

impl TrainObserver for RunObserver<'_> {
    fn on_batch(&mut self, report: &BatchReport) {
        send(self.scope, Event::FineTuneBatch(report.clone()));
    }

    fn on_epoch(&mut self, report: &EpochReport) {
        send(self.scope, Event::FineTuneEpoch(report.clone()));
    }

    async fn pause(&mut self) {
        // A macrotask turn: lets the page's messages in even when a CPU step never waited.
        next_tick().await;
        while let Some(Some(request)) = self.scope.next().now_or_never() {
            match request {
                Request::StopFineTune => self.stop = true,
                Request::Classify { seq, name, .. } => send(
                    self.scope,
                    Event::ClassifyFailed {
                        seq,
                        message: format!("{name}: the model is being fine-tuned; classify once the run ends, or stop it"),
                    },
                ),
                // Anything else changes the model or the device under the run: refused.
                _ => send(self.scope, Event::LoadFailed { message: "a fine-tuning run is in progress; stop it first".into() }),
            }
        }
    }

    fn should_stop(&mut self) -> bool {
        self.stop
    }
}

/// Resolves on the worker's next event-loop turn (`setTimeout(0)`).
async fn next_tick() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Ok(scope) = js_sys::global().dyn_into::<web_sys::WorkerGlobalScope>() {
            let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = JsFuture::from(promise).await;
}

impl Engine {
    /// Fine-tunes the model in use on `files`; answered with `FineTune*` events.
    pub async fn fine_tune(
        &mut self,
        options: FineTuneOptions,
        files: Vec<LabelledFile>,
        scope: &mut ReactorScope<Request, Event>,
    ) {
        let (Some(backend), Some(base), Some(active)) = (&self.backend, &self.classifier, &self.active) else {
            let message = "the model is not loaded yet; wait for it, then start again".into();
            return send(scope, Event::FineTuneFailed { message, on_gpu: false });
        };
        let (device, on_gpu) = (backend.device.clone(), backend.kind == BackendKind::WebGpu);
        let (base, base_card) = (base.trainable.clone(), active.card.clone());
        let started = Instant::now();

        // Decode once; `origin` maps a decoded image back to its file in the request.
        let mut images = Vec::with_capacity(files.len());
        let mut origin = Vec::with_capacity(files.len());
        let mut skipped = Vec::new();
        for (i, file) in files.iter().enumerate() {
            if i % 10 == 0 {
                send(scope, Event::Status(format!("Decoding the images: {i} of {}…", files.len())));
                next_tick().await;
            }
            let Some(class) = FractureClass::from_index(file.class) else {
                skipped.push((file.name.clone(), format!("class index {} does not exist", file.class)));
                continue;
            };
            match decode_xray_framed(&file.bytes, base_card.input.framing) {
                Ok(xray) => {
                    images.push(LabelledXray { xray, class, group: file.group.clone(), file: file.name.clone() });
                    origin.push(i);
                }
                Err(e) => skipped.push((file.name.clone(), e.to_string())),
            }
        }
        send(scope, Event::Status(String::new()));
        drop(files);
        if images.len() < 2 {
            let message = format!("{} of the files could be read as images; fine-tuning needs at least two", images.len());
            send(scope, Event::FineTuneStarted { train_images: 0, valid_images: 0, skipped });
            return send(scope, Event::FineTuneFailed { message, on_gpu: false });
        }
        let parts = held_out_split(&images, &options);
        send(scope, Event::FineTuneStarted { train_images: parts.train.len(), valid_images: parts.valid.len(), skipped });

        let mut observer = RunObserver { scope, stop: false };
        let result = fine_tune(&base, &base_card.training, &images, &options, &device, &mut observer).await;
        let mut tuned = match result {
            Ok(tuned) => tuned,
            Err(e) => return send(scope, Event::FineTuneFailed { message: e.to_string(), on_gpu }),
        };
        for item in &mut tuned.report.held_out {
            item.index = origin[item.index];
        }
        if tuned.report.best_epoch == 0 {
            // Nothing finished an epoch: the model in use stays as it was.
            return send(scope, Event::FineTuneFinished { report: tuned.report, model: None });
        }

        // The model in use becomes the saved file itself (f16), so that a download or an
        // IndexedDB copy predicts exactly what the page shows.
        send(scope, Event::Status("Saving the fine-tuned weights…".into()));
        let architecture = base_card.architecture.clone();
        let saved = match weights_to_bytes_async(&tuned.model, &architecture).await {
            Ok(bytes) => bytes,
            Err(e) => return send(scope, Event::FineTuneFailed { message: e.to_string(), on_gpu }),
        };
        let classifier = match classifier_from_bytes(&architecture, &saved, &device) {
            Ok(classifier) => classifier,
            Err(e) => return send(scope, Event::FineTuneFailed { message: e.to_string(), on_gpu }),
        };
        let stamp = js_sys::Date::new_0();
        let id = format!("{}-ft-{}", architecture.name(), stamp.get_time() as u64);
        let what = match options.trainable {
            Trainable::Head => "head only",
            Trainable::Whole => "whole network",
            Trainable::AfterBlock(_) => "later blocks and head",
        };
        let name = format!(
            "{} fine-tuned on {} of your images ({what}, {})",
            base_card.name,
            tuned.report.train_images,
            String::from(stamp.to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED))
        );
        let mut card = ModelCard::fine_tuned(&base_card, &id, &name, &tuned);
        card.describe_weights(&saved);
        let files = ModelFiles { card_json: card.to_json(), weights: saved };
        self.classifier = Some(LoadedModel::new(classifier));
        self.active = Some(ActiveModel { card, files: files.clone() });
        send(scope, Event::Status(String::new()));
        send(scope, Event::FineTuneFinished { report: tuned.report, model: Some(files.clone()) });
        send(
            scope,
            Event::ModelReady { card_json: files.card_json, from_cache: true, load_ms: started.elapsed().as_secs_f64() * 1000.0 },
        );
    }
}
