//! Preprocessed images → the models' input tensor.

use burn::tensor::{Device, Tensor, TensorData};

use crate::data::decode::{Xray, INPUT_SIZE};

/// Stacks images into a `[batch, 3, 256, 256]` tensor on `device`.
pub fn images_to_tensor<'a>(images: impl IntoIterator<Item = &'a Xray>, device: &Device) -> Tensor<4> {
    let mut values = Vec::new();
    let mut n = 0;
    for xray in images {
        values.extend_from_slice(&xray.pixels);
        n += 1;
    }
    Tensor::from_data(TensorData::new(values, [n, 3, INPUT_SIZE, INPUT_SIZE]), device)
}
