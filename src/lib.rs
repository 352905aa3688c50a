//! Bone fracture classification on X-rays with Burn.
//!
//! One library serves the native command line (`fracture`), the tests and the browser page:
//! the same model code, the same preprocessing and the same training loop everywhere. Each
//! layer imports only from the ones below it: `train`/`store` → `model`/`data` → `classes`.

pub mod classes;
pub mod data;
pub mod model;
pub mod store;
pub mod train;
pub mod worker;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod fetch;

pub use classes::{FractureClass, NUM_CLASSES};
