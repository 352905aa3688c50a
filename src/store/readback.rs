//! A model on any device → the same weights on the CPU, reading every tensor asynchronously.
//!
//! Saving reads each weight back to the host. On WebGPU in a browser a synchronous read
//! panics, so `Module::into_record` or a store cannot be used there directly: this walks the
//! module, awaits each read, and rebuilds the weights on the CPU backend, where the ordinary,
//! synchronous [`weights_to_bytes`](super::weights_to_bytes) works.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData};

use super::StoreError;
use crate::model::{Architecture, Classifier};

/// Every float tensor of a module, in traversal order, flattened (so that one list holds all
/// ranks), with its shape and parameter id.
#[derive(Default)]
struct Gather {
    tensors: Vec<(Tensor<1>, Vec<usize>, ParamId)>,
}

impl ModuleVisitor for Gather {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let dims = tensor.dims().to_vec();
        let n = dims.iter().product::<usize>();
        self.tensors.push((tensor.reshape([n]), dims, param.id));
    }
}

/// Puts host values back, in the same traversal order, onto the mapper's device.
struct Scatter {
    values: std::vec::IntoIter<(TensorData, ParamId)>,
    device: Device,
}

impl ModuleMapper for Scatter {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        // `host_copy` read exactly one value per float tensor of the same architecture.
        let (data, id) = self.values.next().expect("one value per float tensor");
        // The original ids are kept: they are part of the saved file.
        drop(param);
        Param::initialized(id, Tensor::from_data(data, &self.device))
    }
}

/// Copies `model` (built as `architecture`, on any device) onto `host`, a CPU device, in
/// evaluation mode. Awaits every read, so it works on WebGPU in a browser.
pub async fn host_copy(model: &Classifier, architecture: &Architecture, host: &Device) -> Result<Classifier, StoreError> {
    let mut gather = Gather::default();
    model.visit(&mut gather);
    let mut values = Vec::with_capacity(gather.tensors.len());
    for (tensor, dims, id) in gather.tensors {
        let data = tensor
            .into_data_async()
            .await
            .map_err(|e| StoreError::Weights(format!("reading a weight back from the device failed: {e:?}")))?;
        let floats = data.convert::<f32>().try_into_vec::<f32>().map_err(|e| StoreError::Weights(format!("{e:?}")))?;
        values.push((TensorData::new(floats, dims), id));
    }
    let mut scatter = Scatter { values: values.into_iter(), device: host.clone() };
    // The fresh model's parameters are lazy: replacing them never draws random weights.
    Ok(architecture.init(host).map(&mut scatter).valid())
}

/// [`weights_to_bytes`](super::weights_to_bytes) for a model on any device, WebGPU included.
pub async fn weights_to_bytes_async(model: &Classifier, architecture: &Architecture) -> Result<Vec<u8>, StoreError> {
    #[allow(deprecated)] // ndarray: the page's CPU backend (Burn 0.22 prefers flex natively)
    let host = Device::ndarray();
    super::weights_to_bytes(&host_copy(model, architecture, &host).await?)
}
