//! The whole contract between the page and its model worker: one request enum, one event enum.
//!
//! Errors become strings only here, at the boundary, already worded for the visitor. Byte fields
//! are `serde_bytes`, so gloo-worker's bincode copies them in one go rather than element by
//! element (a 12 MB fine-tuned model used to hold the page's main thread for seconds).

use serde::{Deserialize, Serialize};

use crate::train::{BatchReport, EpochReport, FineTuneOptions, FineTuneReport};
use crate::NUM_CLASSES;

/// Where the network runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendKind {
    /// Burn's wgpu backend on the browser's WebGPU.
    WebGpu,
    /// Burn's flex backend on the CPU, in WebAssembly (SIMD128).
    Cpu,
}

impl BackendKind {
    /// The value of the page's `data-backend` attribute.
    pub fn attribute(self) -> &'static str {
        match self {
            BackendKind::WebGpu => "webgpu",
            BackendKind::Cpu => "cpu",
        }
    }

    /// How the page names it.
    pub fn label(self) -> &'static str {
        match self {
            BackendKind::WebGpu => "WebGPU",
            BackendKind::Cpu => "CPU (WebAssembly)",
        }
    }
}

/// What the page asks of the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Open `backend` (falling back to the CPU if it fails) and load the shipped model `model`
    /// (`None`: the default named by `models/index.json`), or reload the current model on the
    /// new backend.
    Start { backend: BackendKind, model: Option<String> },
    /// Download the model again after a failure.
    RetryModel,
    /// Classify an image file's bytes. `seq` is echoed back in the answer.
    Classify {
        seq: u64,
        name: String,
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// Fine-tune the model in use on labelled image files; answered by a stream of
    /// `FineTune*` events.
    FineTune { options: FineTuneOptions, images: Vec<LabelledFile> },
    /// End the fine-tuning run after its current step, keeping the best weights so far.
    StopFineTune,
    /// Use a model from its `model.json` and weights (one saved in the browser, or a file).
    /// If it cannot be loaded, the model in use stays.
    LoadModel {
        card_json: String,
        #[serde(with = "serde_bytes")]
        weights: Vec<u8>,
    },
    /// Go back to the page's own pretrained model (the shipped model chosen last).
    UsePretrained,
    /// Download (or take from the cache) the shipped model `id` of `models/index.json` and
    /// use it; if it cannot be loaded, the model in use stays.
    UseShipped { id: String },
}

/// An image file with the class it was filed under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledFile {
    /// Where it came from (`Spiral Fracture/img1.jpg`), for messages.
    pub name: String,
    /// Class index, in label order.
    pub class: usize,
    /// Near-duplicate group (from a manifest), or the name: images of one group stay on one
    /// side of the split.
    pub group: String,
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// A fine-tuned model, ready to use, save or download.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFiles {
    pub card_json: String,
    /// `model.bpk`.
    #[serde(with = "serde_bytes")]
    pub weights: Vec<u8>,
}

/// A fallback reason's sentence and its technical detail: the reasons end with the error that
/// caused them in parentheses ("the GPU was lost (…)"), which the page folds away.
pub fn reason_and_detail(why: &str) -> (&str, Option<&str>) {
    match why.split_once(" (") {
        Some((reason, detail)) if detail.ends_with(')') => (reason, Some(&detail[..detail.len() - 1])),
        _ => (why, None),
    }
}

/// What the worker tells the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// A step of getting ready ("Preparing the GPU…"), for the status line.
    Status(String),
    /// The backend in use; `fallback` says why it is not the one asked for.
    BackendReady { backend: BackendKind, adapter: String, fallback: Option<String> },
    /// Bytes of the weights downloaded so far.
    Download { loaded: u64, total: u64 },
    /// A model is loaded and warmed up. The card is `model.json` as text (bincode, the message
    /// format, cannot carry its tagged enums).
    ModelReady { card_json: String, from_cache: bool, load_ms: f64 },
    /// The model could not be loaded; the page offers a retry.
    ModelFailed { message: String },
    /// The answer to [`Request::Classify`].
    Classified(Prediction),
    /// [`Request::Classify`] failed (unreadable image, no model yet, device error).
    ClassifyFailed { seq: u64, message: String },
    /// The images of a fine-tuning run are decoded and split; `skipped` lists the files that
    /// could not be read, with the reason.
    FineTuneStarted { train_images: usize, valid_images: usize, skipped: Vec<(String, String)> },
    /// Progress after each training step.
    FineTuneBatch(BatchReport),
    /// Scores after each epoch.
    FineTuneEpoch(EpochReport),
    /// The run ended (finished, stopped, or halted by a NaN loss). `report.held_out` indexes
    /// the images of the request. `model` is the kept model, already in use; `None` when no
    /// epoch finished (the model in use did not change).
    FineTuneFinished { report: FineTuneReport, model: Option<ModelFiles> },
    /// The run could not start or broke off; the model in use did not change. `on_gpu`: it
    /// ran on WebGPU, so the CPU backend is worth a try.
    FineTuneFailed { message: String, on_gpu: bool },
    /// [`Request::LoadModel`] failed; the model in use stays.
    LoadFailed { message: String },
    /// The shipped models (`models/index.json`) and the one in use as the page's pretrained
    /// model; sent when the index arrives and whenever another shipped model is chosen.
    Shipped { models: Vec<ShippedModel>, chosen: String },
}

/// A model the page ships, as `models/index.json` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippedModel {
    pub id: String,
    pub name: String,
    /// Its folder under `models/`, ending in `/` (its `metrics.jsonl` is there).
    pub path: String,
}

/// One classified image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub seq: u64,
    /// Class probabilities in label order.
    pub probabilities: [f32; NUM_CLASSES],
    /// The 256x256 input the model saw, as RGBA bytes (what the page draws next to the upload).
    #[serde(with = "serde_bytes")]
    pub input_rgba: Vec<u8>,
    /// Width and height of the file, after EXIF orientation.
    pub original_size: (u32, u32),
    /// Where the evidence for the first choice lies (class activation map), 256x256 bytes
    /// over the model's input; `None` for a network without global pooling (the seed CNN).
    #[serde(with = "serde_bytes")]
    pub heatmap: Option<Vec<u8>>,
    /// Why the image may not be an X-ray (it is classified all the same).
    pub warning: Option<String>,
    /// Time from the bytes arriving in the worker to the probabilities, in milliseconds.
    pub elapsed_ms: f64,
    pub backend: BackendKind,
    /// Views of the image the probabilities are averaged over (the model card's `views`).
    pub views: usize,
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_fallback_reason_folds_its_technical_detail() {
        use super::reason_and_detail;
        assert_eq!(
            reason_and_detail("no GPU adapter could be opened (No adapter available: noop not requested (x))"),
            ("no GPU adapter could be opened", Some("No adapter available: noop not requested (x)"))
        );
        assert_eq!(reason_and_detail("the GPU was lost"), ("the GPU was lost", None));
        assert_eq!(reason_and_detail("odd (unclosed"), ("odd (unclosed", None));
    }

    use super::*;

    #[test]
    fn messages_survive_the_worker_codec() {
        // gloo-worker's default codec is bincode; every message must round-trip through it.
        let prediction = Event::Classified(Prediction {
            seq: 3,
            probabilities: [0.1; NUM_CLASSES],
            input_rgba: vec![1, 2, 3, 4],
            original_size: (640, 480),
            heatmap: Some(vec![0, 128, 255]),
            warning: Some("in colour".into()),
            elapsed_ms: 12.5,
            backend: BackendKind::WebGpu,
            views: 8,
        });
        let card = Event::ModelReady { card_json: "{\"id\":\"seed-cnn\"}".into(), from_cache: true, load_ms: 3.0 };
        for event in [prediction, card] {
            let bytes = bincode::serialize(&event).expect("encode");
            assert_eq!(bincode::deserialize::<Event>(&bytes).expect("decode"), event);
        }
        let report = crate::train::FineTuneReport {
            train_images: 8,
            valid_images: 2,
            grouped: true,
            before: Some(crate::train::Evaluation::from_probabilities(&[[0.1; NUM_CLASSES]; 2], &[0, 3])),
            after: None,
            held_out: vec![crate::train::HeldOutImage { index: 4, actual: 0, before: 0, after: 3 }],
            history: Vec::new(),
            best_epoch: 0,
            stopped: true,
            halted: Some("the loss became NaN".into()),
        };
        let finished =
            Event::FineTuneFinished { report, model: Some(ModelFiles { card_json: "{}".into(), weights: vec![1, 2, 3] }) };
        let bytes = bincode::serialize(&finished).expect("encode");
        assert_eq!(bincode::deserialize::<Event>(&bytes).expect("decode"), finished);

        let fine_tune = Request::FineTune {
            options: crate::train::FineTuneOptions::default(),
            images: vec![LabelledFile { name: "Spiral Fracture/a.jpg".into(), class: 9, group: "7".into(), bytes: vec![9] }],
        };
        for request in [Request::Classify { seq: 1, name: "<b>x</b>.png".into(), bytes: vec![0; 16] }, fine_tune] {
            let bytes = bincode::serialize(&request).expect("encode");
            assert_eq!(bincode::deserialize::<Request>(&bytes).expect("decode"), request);
        }
    }
}
