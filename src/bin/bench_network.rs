//! The benchmarks' handle on this project's network in the browser (`scripts/bench.sh` builds
//! it with `wasm-bindgen --target web`): load a model folder's weights on WebGPU or the CPU
//! backend and run the network on a preprocessed batch, through the same `Classifier` and the
//! same device set-up as the page's worker, so that it can be timed next to ONNX Runtime Web
//! and TensorFlow.js on the same input.

#[cfg(target_arch = "wasm32")]
mod network {
    use std::rc::Rc;

    use bone_fracture::model::Classifier;
    use bone_fracture::store::{classifier_from_card, ModelCard};
    use bone_fracture::worker::backend;
    use bone_fracture::worker::BackendKind;
    use burn::prelude::*;
    use burn::tensor::TensorData;
    use wasm_bindgen::prelude::*;

    /// A loaded network on one backend.
    #[wasm_bindgen]
    pub struct Network {
        model: Rc<Classifier>,
        device: Device,
        backend: String,
        side: usize,
    }

    #[wasm_bindgen]
    impl Network {
        /// `backend` is `"webgpu"`, `"flex"` (the page's CPU backend) or `"ndarray"`;
        /// `card` is the model's `model.json`, `weights` its `model.bpk` (checked against the
        /// card's sha256). With `fold_batch_norm`, batch norm is folded into the convolutions,
        /// as the page's worker does for classification (`Classifier::fold_batch_norm`).
        pub async fn load(card: String, weights: Vec<u8>, backend: String, fold_batch_norm: bool) -> Result<Network, JsError> {
            let (device, adapter) = match backend.as_str() {
                "webgpu" | "flex" => {
                    let kind = if backend == "flex" { BackendKind::Cpu } else { BackendKind::WebGpu };
                    let opened = backend::open(kind).await.map_err(|e| JsError::new(&e))?;
                    (opened.device, opened.adapter)
                }
                // The page's CPU backend before flex, for comparison (deprecated in Burn 0.22).
                #[allow(deprecated)]
                "ndarray" => (Device::ndarray(), "ndarray".to_string()),
                other => return Err(JsError::new(&format!("unknown backend {other:?} (webgpu, flex or ndarray)"))),
            };
            let card = ModelCard::from_json(&card).map_err(|e| JsError::new(&e.to_string()))?;
            let model = classifier_from_card(&card, &weights, &device).map_err(|e| JsError::new(&e.to_string()))?;
            let model = if fold_batch_norm { model.fold_batch_norm() } else { model };
            Ok(Network { model: Rc::new(model), device, backend: adapter, side: card.input.width })
        }

        /// The GPU adapter's name, or the CPU backend's ("flex", "ndarray").
        pub fn backend(&self) -> String {
            self.backend.clone()
        }

        /// Logits, `[batch, classes]` row-major, for `images`: `[batch, 3, side, side]` in
        /// [0, 1], row-major. The input is uploaded and the output read back inside the call.
        pub fn run(&self, images: Vec<f32>, batch: usize) -> js_sys::Promise {
            let (model, device, side) = (self.model.clone(), self.device.clone(), self.side);
            wasm_bindgen_futures::future_to_promise(async move {
                if images.len() != batch * 3 * side * side {
                    return Err(JsError::new(&format!("expected {batch}x3x{side}x{side} values, got {}", images.len())).into());
                }
                let input = Tensor::<4>::from_data(TensorData::new(images, [batch, 3, side, side]), &device);
                let data = model.forward(input).into_data_async().await.map_err(|e| JsError::new(&format!("{e:?}")))?;
                let logits = data.try_to_vec::<f32>().map_err(|e| JsError::new(&format!("{e:?}")))?;
                Ok(js_sys::Float32Array::from(logits.as_slice()).into())
            })
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("This is the benchmarks' wasm module; scripts/bench.sh builds it for wasm32.");
    std::process::exit(2);
}
