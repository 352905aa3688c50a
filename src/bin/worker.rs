//! The model worker's entry point (built by Trunk as `data-type="worker"`).

#[cfg(target_arch = "wasm32")]
fn main() {
    use gloo_worker::Registrable;
    console_error_panic_hook::set_once();
    let _ = console_log::init_with_level(log::Level::Info);
    bone_fracture::worker::engine::ModelWorker::registrar().register();
}

/// Test hook, called from the worker's global scope (`wasm_bindgen.lose_gpu_device()`): loses
/// the WebGPU device the model runs on. Returns whether there was one.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn lose_gpu_device() -> bool {
    bone_fracture::worker::backend::destroy_gpu()
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("This is the page's model worker; build it with `trunk build`.");
    std::process::exit(2);
}
