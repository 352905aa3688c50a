//! The reference notebook's MLP baseline: flatten; dense 300, 250, 200, 150, 100, each with
//! batch normalisation and LeakyReLU; dense 10. Keras' defaults as in [`super::seed_cnn`].

use burn::nn::{BatchNorm, BatchNormConfig, LeakyRelu, LeakyReluConfig, Linear, LinearConfig};
use burn::prelude::*;

use super::{KERAS_BN_EPSILON, KERAS_BN_MOMENTUM, KERAS_INIT, KERAS_LEAKY_SLOPE};
use crate::data::INPUT_SIZE;
use crate::NUM_CLASSES;

/// Configuration of [`Mlp`].
#[derive(Config, Debug, PartialEq)]
pub struct MlpConfig {
    /// Widths of the hidden dense layers.
    #[config(default = "vec![300, 250, 200, 150, 100]")]
    pub hidden: Vec<usize>,
}

/// Dense → batch norm → LeakyReLU.
#[derive(Module, Debug)]
pub struct DenseBlock {
    linear: Linear,
    norm: BatchNorm,
    activation: LeakyRelu,
}

/// The notebook's MLP baseline.
#[derive(Module, Debug)]
pub struct Mlp {
    blocks: Vec<DenseBlock>,
    output: Linear,
}

impl MlpConfig {
    /// Builds the network with fresh weights.
    pub fn init(&self, device: &Device) -> Mlp {
        let mut width = 3 * INPUT_SIZE * INPUT_SIZE;
        let blocks = self
            .hidden
            .iter()
            .map(|&units| {
                let block = DenseBlock {
                    linear: LinearConfig::new(width, units).with_initializer(KERAS_INIT).init(device),
                    norm: BatchNormConfig::new(units)
                        .with_epsilon(KERAS_BN_EPSILON)
                        .with_momentum(KERAS_BN_MOMENTUM)
                        .init(device),
                    activation: LeakyReluConfig::new().with_negative_slope(KERAS_LEAKY_SLOPE).init(),
                };
                width = units;
                block
            })
            .collect();
        Mlp { blocks, output: LinearConfig::new(width, NUM_CLASSES).with_initializer(KERAS_INIT).init(device) }
    }
}

impl Mlp {
    /// # Shapes
    /// `[batch, 3, 256, 256]` → `[batch, 10]` (logits)
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x: Tensor<2> = images.flatten(1, 3); // [b, 196608]
        let x = self.blocks.iter().fold(x, |x, block| block.activation.forward(block.norm.forward(block.linear.forward(x))));
        self.output.forward(x) // [b, 10]
    }

    /// Freezes the hidden blocks; only the output layer stays trainable.
    pub fn freeze_trunk(self) -> Self {
        Mlp { blocks: self.blocks.into_iter().map(Module::freeze).collect(), ..self }
    }
}
