//! The model's side of the page: a Web Worker that owns the Burn device and the model, so that
//! the page keeps painting while weights load and images are classified.
//!
//! [`protocol`] is the whole page↔worker contract; the rest runs only inside the worker.

pub mod protocol;

#[cfg(target_arch = "wasm32")]
pub mod backend;
#[cfg(target_arch = "wasm32")]
pub mod engine;
#[cfg(target_arch = "wasm32")]
mod finetune;
#[cfg(target_arch = "wasm32")]
pub mod weights;

pub use protocol::{reason_and_detail, BackendKind, Event, LabelledFile, ModelFiles, Prediction, Request, ShippedModel};
