//! The reference notebook's CNN: four 3x3 stride-2 convolutions (32, 64, 128, 256 filters),
//! each followed by batch normalisation, LeakyReLU and dropout 0.2; flatten; dense 100; dense 10.
//!
//! Details the notebook leaves to Keras' defaults, kept here: `padding="valid"` (256 → 127 →
//! 63 → 31 → 15), the 100-unit dense layer has no activation (Keras' `activation=None`),
//! LeakyReLU slope 0.3, Glorot-uniform weights, batch-norm epsilon 1e-3 and momentum 0.99.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, LeakyRelu, LeakyReluConfig, Linear, LinearConfig};
use burn::prelude::*;

use super::{KERAS_BN_EPSILON, KERAS_BN_MOMENTUM, KERAS_INIT, KERAS_LEAKY_SLOPE};
use crate::data::INPUT_SIZE;
use crate::NUM_CLASSES;

/// Configuration of [`SeedCnn`].
#[derive(Config, Debug, PartialEq)]
pub struct SeedCnnConfig {
    /// Filters of the four convolutions.
    #[config(default = "vec![32, 64, 128, 256]")]
    pub filters: Vec<usize>,
    /// Width of the hidden dense layer.
    #[config(default = 100)]
    pub hidden: usize,
    /// Dropout after each convolution block.
    #[config(default = 0.2)]
    pub dropout: f64,
}

/// Convolution → batch norm → LeakyReLU → dropout. After [`SeedCnn::fold_batch_norm`] the
/// norm is inside the convolution (`None`).
#[derive(Module, Debug)]
pub struct ConvBlock {
    pub(crate) conv: Conv2d,
    pub(crate) norm: Option<BatchNorm>,
    pub(crate) activation: LeakyRelu,
    dropout: Dropout,
}

impl ConvBlock {
    /// # Shapes
    /// `[batch, c_in, h, w]` → `[batch, c_out, (h - 3) / 2 + 1, (w - 3) / 2 + 1]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.conv.forward(x);
        let x = match &self.norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        self.dropout.forward(self.activation.forward(x))
    }
}

/// The notebook's four-layer CNN.
#[derive(Module, Debug)]
pub struct SeedCnn {
    pub(crate) blocks: Vec<ConvBlock>,
    pub(crate) hidden: Linear,
    pub(crate) output: Linear,
}

impl SeedCnnConfig {
    /// Spatial side after the convolutions: each valid 3x3 stride-2 convolution maps s → (s - 3) / 2 + 1.
    pub fn feature_side(&self) -> usize {
        self.filters.iter().fold(INPUT_SIZE, |side, _| (side - 3) / 2 + 1)
    }

    /// Builds the network with fresh weights.
    pub fn init(&self, device: &Device) -> SeedCnn {
        let mut channels = 3;
        let blocks = self
            .filters
            .iter()
            .map(|&filters| {
                let block = ConvBlock {
                    conv: Conv2dConfig::new([channels, filters], [3, 3])
                        .with_stride([2, 2])
                        .with_initializer(KERAS_INIT)
                        .init(device),
                    norm: Some(
                        BatchNormConfig::new(filters)
                            .with_epsilon(KERAS_BN_EPSILON)
                            .with_momentum(KERAS_BN_MOMENTUM)
                            .init(device),
                    ),
                    activation: LeakyReluConfig::new().with_negative_slope(KERAS_LEAKY_SLOPE).init(),
                    dropout: DropoutConfig::new(self.dropout).init(),
                };
                channels = filters;
                block
            })
            .collect();
        let flat = channels * self.feature_side() * self.feature_side();
        SeedCnn {
            blocks,
            hidden: LinearConfig::new(flat, self.hidden).with_initializer(KERAS_INIT).init(device),
            output: LinearConfig::new(self.hidden, NUM_CLASSES).with_initializer(KERAS_INIT).init(device),
        }
    }
}

impl SeedCnn {
    /// # Shapes
    /// `[batch, 3, 256, 256]` → `[batch, 10]` (logits)
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = self.blocks.iter().fold(images, |x, block| block.forward(x)); // [b, 256, 15, 15]
        let x: Tensor<2> = x.flatten(1, 3); // [b, 57600]
        self.output.forward(self.hidden.forward(x)) // [b, 10]
    }

    /// Freezes the convolution blocks (weights and batch-norm statistics); the two dense
    /// layers stay trainable.
    pub fn freeze_trunk(self) -> Self {
        SeedCnn { blocks: self.blocks.into_iter().map(Module::freeze).collect(), ..self }
    }

    /// The same function with each batch norm folded into its convolution (inference only;
    /// see [`super::fold_batch_norm`]).
    pub fn fold_batch_norm(self) -> Self {
        let fold = |b: ConvBlock| ConvBlock { conv: super::fold_batch_norm(b.conv, b.norm), norm: None, ..b };
        SeedCnn { blocks: self.blocks.into_iter().map(fold).collect(), ..self }
    }

    /// Freezes the first `blocks` convolution blocks.
    pub fn freeze_first(self, blocks: usize) -> Self {
        let blocks = self.blocks.into_iter().enumerate().map(|(i, b)| if i < blocks { b.freeze() } else { b }).collect();
        SeedCnn { blocks, ..self }
    }
}
