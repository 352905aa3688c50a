//! The model worker's entry point (built by Trunk as `data-type="worker"`).

#[cfg(target_arch = "wasm32")]
fn main() {
    use gloo_worker::Registrable;
    console_error_panic_hook::set_once();
    let _ = console_log::init_with_level(log::Level::Info);
    bone_fracture::worker::engine::ModelWorker::registrar().register();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("This is the page's model worker; build it with `trunk build`.");
    std::process::exit(2);
}
