//! The networks: configuration and forward pass only, no I/O and no training.

pub mod efficientnet;
pub mod heatmap;
pub mod mlp;
pub mod seed_cnn;

use burn::module::Param;
use burn::nn::conv::Conv2d;
use burn::nn::BatchNorm;
use burn::prelude::*;
use burn::tensor::activation::softmax;
use serde::{Deserialize, Serialize};

pub use efficientnet::{EfficientNetLite, EfficientNetLiteConfig};
pub use mlp::{Mlp, MlpConfig};
pub use seed_cnn::{SeedCnn, SeedCnnConfig};

/// Keras' default weight initialiser for `Dense` and `Conv2D` (`glorot_uniform`).
pub const KERAS_INIT: burn::nn::Initializer = burn::nn::Initializer::XavierUniform { gain: 1.0 };
/// Keras' `LeakyReLU` default slope (Burn's default is 0.01).
pub const KERAS_LEAKY_SLOPE: f64 = 0.3;
/// Keras' `BatchNormalization` epsilon.
pub const KERAS_BN_EPSILON: f64 = 1e-3;
/// Keras' `BatchNormalization(momentum=0.99)` in Burn's convention (weight of the new batch).
pub const KERAS_BN_MOMENTUM: f64 = 0.01;

/// `conv` followed by `norm` (with its running statistics) as one convolution:
/// w' = w·s and b' = (b − μ)·s + β per output channel, with s = γ / √(σ² + ε). Without a
/// norm (already folded) the convolution is returned as it is.
pub fn fold_batch_norm(conv: Conv2d, norm: Option<BatchNorm>) -> Conv2d {
    let Some(norm) = norm else { return conv };
    let channels = conv.weight.dims()[0];
    let scale = norm.gamma.val() / norm.running_var.value().add_scalar(norm.epsilon).sqrt();
    let bias = match &conv.bias {
        Some(bias) => bias.val(),
        None => Tensor::zeros([channels], &conv.weight.device()),
    };
    let bias = (bias - norm.running_mean.value()) * scale.clone() + norm.beta.val();
    let weight = conv.weight.val() * scale.reshape([channels, 1, 1, 1]);
    Conv2d { weight: Param::from_tensor(weight), bias: Some(Param::from_tensor(bias)), ..conv }
}

/// Which network, with its configuration. Saved in `model.json`, so a weights file can be
/// rebuilt into the right module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Architecture {
    /// The reference notebook's four-layer CNN.
    SeedCnn(SeedCnnConfig),
    /// The reference notebook's MLP baseline.
    Mlp(MlpConfig),
    /// EfficientNet-Lite0, started from ImageNet weights (transfer learning).
    #[serde(rename = "efficientnet-lite0")]
    EfficientNetLite0(EfficientNetLiteConfig),
}

impl Architecture {
    /// The notebook's CNN with its defaults.
    pub fn seed_cnn() -> Self {
        Architecture::SeedCnn(SeedCnnConfig::new())
    }

    /// The notebook's MLP with its defaults.
    pub fn mlp() -> Self {
        Architecture::Mlp(MlpConfig::new())
    }

    /// EfficientNet-Lite0 with a fresh 10-class head.
    pub fn efficientnet_lite0() -> Self {
        Architecture::EfficientNetLite0(EfficientNetLiteConfig::new())
    }

    /// Short name used on the command line and in model ids.
    pub fn name(&self) -> &'static str {
        match self {
            Architecture::SeedCnn(_) => "seed-cnn",
            Architecture::Mlp(_) => "mlp",
            Architecture::EfficientNetLite0(_) => "efficientnet-lite0",
        }
    }

    /// A model name that starts with an architecture's [`Self::name`] (`seed-cnn (fine-tuned)`,
    /// as the cards' tables name runs) with that name in words: `Notebook CNN (fine-tuned)`.
    pub fn readable(model: &str) -> String {
        const WORDS: [(&str, &str); 3] =
            [("efficientnet-lite0", "EfficientNet-Lite0"), ("seed-cnn", "Notebook CNN"), ("mlp", "Notebook MLP")];
        WORDS
            .iter()
            .find_map(|(name, words)| model.strip_prefix(name).map(|rest| format!("{words}{rest}")))
            .unwrap_or_else(|| model.to_string())
    }

    /// Builds the network with fresh (random) weights on `device`.
    pub fn init(&self, device: &Device) -> Classifier {
        match self {
            Architecture::SeedCnn(config) => Classifier::SeedCnn(config.init(device)),
            Architecture::Mlp(config) => Classifier::Mlp(config.init(device)),
            Architecture::EfficientNetLite0(config) => Classifier::EfficientNet(config.init(device)),
        }
    }
}

/// Any of the project's image classifiers. Training, evaluation, storage and the page work on
/// this type, so they serve every architecture through one code path.
// A handful of these exist at a time (the model in use, a training copy), each holding handles
// to its tensors: the variants differ by about a kilobyte of handles (1408 against 344 bytes).
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Classifier {
    SeedCnn(SeedCnn),
    Mlp(Mlp),
    EfficientNet(EfficientNetLite),
}

impl Classifier {
    /// Unnormalised class scores.
    ///
    /// The notebooks' final softmax is applied by [`Classifier::probabilities`]; training
    /// folds it into the cross-entropy loss, which is the same function computed stably.
    ///
    /// # Shapes
    /// - images: `[batch, 3, 256, 256]`, values in [0, 1]
    /// - output: `[batch, 10]`
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Classifier::SeedCnn(model) => model.forward(images),
            Classifier::Mlp(model) => model.forward(images),
            Classifier::EfficientNet(model) => model.forward(images),
        }
    }

    /// The input layers and the first `blocks` blocks of the trunk; their output is what
    /// [`Classifier::forward_from`] takes. Only EfficientNet splits (`blocks == 0` is the
    /// identity for every network).
    pub fn prefix(&self, images: Tensor<4>, blocks: usize) -> Tensor<4> {
        match self {
            Classifier::EfficientNet(model) if blocks > 0 => model.trunk(images, 0..blocks),
            _ if blocks == 0 => images,
            _ => panic!("only EfficientNet runs from a cached prefix"),
        }
    }

    /// [`Classifier::forward`] from block `first` on, given [`Classifier::prefix`]'s output.
    pub fn forward_from(&self, x: Tensor<4>, first: usize) -> Tensor<2> {
        match self {
            Classifier::EfficientNet(model) if first > 0 => {
                model.classify(model.features(model.trunk(x, first..efficientnet::BLOCKS)))
            }
            _ if first == 0 => self.forward(x),
            _ => panic!("only EfficientNet runs from a cached prefix"),
        }
    }

    /// Class probabilities (softmax of [`Classifier::forward`]), `[batch, 10]`.
    pub fn probabilities(&self, images: Tensor<4>) -> Tensor<2> {
        softmax(self.forward(images), 1)
    }

    /// The same function, faster, for inference only: every batch norm folded into the
    /// convolution before it ([`fold_batch_norm`]). The result cannot be trained or saved
    /// as this network's weights; keep the original for that.
    pub fn fold_batch_norm(self) -> Self {
        match self {
            Classifier::SeedCnn(model) => Classifier::SeedCnn(model.fold_batch_norm()),
            Classifier::Mlp(model) => Classifier::Mlp(model),
            Classifier::EfficientNet(model) => Classifier::EfficientNet(model.fold_batch_norm()),
        }
    }

    /// Stochastic depth while training ([`EfficientNetLite::with_drop_path`]); the other
    /// networks have no residual blocks and are unchanged.
    pub fn with_drop_path(self, rate: f64) -> Self {
        match self {
            Classifier::EfficientNet(model) => Classifier::EfficientNet(model.with_drop_path(rate)),
            other => other,
        }
    }

    /// Freezes everything but the dense layers at the end (head-only fine-tuning): their
    /// weights get no gradients and batch norm keeps its running statistics.
    pub fn freeze_trunk(self) -> Self {
        match self {
            Classifier::SeedCnn(model) => Classifier::SeedCnn(model.freeze_trunk()),
            Classifier::Mlp(model) => Classifier::Mlp(model.freeze_trunk()),
            Classifier::EfficientNet(model) => Classifier::EfficientNet(model.freeze_trunk()),
        }
    }

    /// Freezes the input layers and the first `blocks` blocks of the trunk (EfficientNet's
    /// stem and MBConv blocks, the seed CNN's convolution blocks); the MLP has no blocks and
    /// is unchanged.
    pub fn freeze_first(self, blocks: usize) -> Self {
        match self {
            Classifier::SeedCnn(model) => Classifier::SeedCnn(model.freeze_first(blocks)),
            Classifier::Mlp(model) => Classifier::Mlp(model),
            Classifier::EfficientNet(model) => Classifier::EfficientNet(model.freeze_first(blocks)),
        }
    }
}
