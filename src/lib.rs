//! Bone fracture classification on X-rays with Burn.
//!
//! One library serves the native command line (`fracture`), the tests and the browser page:
//! the same model code, the same preprocessing and the same training loop everywhere. Each
//! layer imports only from the ones below it: `train`/`store` → `model`/`data` → `classes`.

pub mod classes;
pub mod data;
#[cfg(all(feature = "burn", not(target_arch = "wasm32")))]
pub mod export;
#[cfg(feature = "burn")]
pub mod model;
#[cfg(feature = "burn")]
pub mod store;
#[cfg(feature = "burn")]
pub mod train;
#[cfg(feature = "burn")]
pub mod worker;

#[cfg(all(target_arch = "wasm32", feature = "burn"))]
pub mod app;
#[cfg(all(target_arch = "wasm32", feature = "burn"))]
pub mod fetch;
#[cfg(target_arch = "wasm32")]
pub mod heap_meter;

pub use classes::{FractureClass, NUM_CLASSES};

/// Bytes of WebAssembly memory this module (the page's or the worker's) has grown to: the
/// allocator's high-water mark. Exported for the soak test beside [`heap_meter`]'s live bytes.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn wasm_memory_bytes() -> f64 {
    use wasm_bindgen::JsCast;
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as f64
}
