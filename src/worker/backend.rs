//! Opening a Burn device in the browser: WebGPU when the browser has it, else the CPU.

use burn::tensor::Device;

use super::protocol::BackendKind;

/// An opened device and what to tell the visitor about it.
pub struct OpenedBackend {
    pub device: Device,
    pub kind: BackendKind,
    /// The GPU adapter's name, or "flex" for the CPU.
    pub adapter: String,
}

/// Opens `wanted`; WebGPU failures come back as a sentence the page can show.
pub async fn open(wanted: BackendKind) -> Result<OpenedBackend, String> {
    match wanted {
        BackendKind::Cpu => Ok(cpu()),
        BackendKind::WebGpu => webgpu().await,
    }
}

/// Burn's flex CPU backend (im2col + matrix products with wasm SIMD128): slower than a GPU,
/// but works in every browser with WebAssembly. It replaced ndarray here, which classified
/// EfficientNet-Lite0 in 91.2 ms against flex's 56.3 ms (`scripts/bench.sh`, BENCHMARKS.md)
/// and trains convolutions far slower (direct loops for the input gradient).
pub fn cpu() -> OpenedBackend {
    OpenedBackend { device: Device::flex(), kind: BackendKind::Cpu, adapter: "flex".into() }
}

async fn webgpu() -> Result<OpenedBackend, String> {
    if !navigator_has_gpu() {
        return Err("this browser does not offer WebGPU (navigator.gpu is missing)".into());
    }
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| format!("WebGPU is present but no GPU adapter could be opened ({e})"))?;
    GPU.with(|gpu| *gpu.borrow_mut() = Some(setup.device.clone()));
    let info = setup.adapter.get_info();
    // Browsers usually keep the adapter's name to themselves.
    let adapter = if info.name.is_empty() { "adapter not named by the browser".to_string() } else { info.name };
    Ok(OpenedBackend { device, kind: BackendKind::WebGpu, adapter })
}

thread_local! {
    /// The WebGPU device Burn runs on, for [`destroy_gpu`].
    static GPU: std::cell::RefCell<Option<burn::backend::wgpu::wgpu::Device>> = const { std::cell::RefCell::new(None) };
}

/// Destroys the WebGPU device, as a driver reset or a GPU process crash would lose it: the
/// end-to-end tests' way to check that the page carries on with the CPU. `false` when no GPU
/// device was opened.
pub fn destroy_gpu() -> bool {
    GPU.with(|gpu| gpu.borrow_mut().take().map(|device| device.destroy()).is_some())
}

/// `navigator.gpu` exists in this worker (or window: the benchmarks run the network in one).
fn navigator_has_gpu() -> bool {
    let present = |v: &wasm_bindgen::JsValue| !v.is_undefined() && !v.is_null();
    let Ok(navigator) = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()) else { return false };
    present(&navigator) && js_sys::Reflect::get(&navigator, &"gpu".into()).is_ok_and(|gpu| present(&gpu))
}
