//! The web page's entry point (built by Trunk for wasm32).

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    let _ = console_log::init_with_level(log::Level::Info);
    leptos::mount::mount_to_body(bone_fracture::app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("This is the web page's entry point; build it with `trunk build` or use the `fracture` command.");
    std::process::exit(2);
}
