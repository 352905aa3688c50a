//! EfficientNet-Lite0 (Tan & Le 2019, in the "Lite" form for mobile devices: ReLU6 instead of
//! swish, no squeeze-and-excitation, stem and head not scaled).
//!
//! The layers and their names follow the EfficientNet-PyTorch state dict that the ImageNet
//! weights come in (`_conv_stem`, `_blocks.N._expand_conv`, `_depthwise_conv`,
//! `_project_conv`, `_conv_head`, `_fc`); [`crate::import`] maps those names onto this
//! module's. Convolutions pad as TensorFlow's `"same"` (asymmetrically on stride 2), as the
//! weights were trained.
//!
//! Input is the project's usual `[batch, 3, side, side]` in [0, 1]; the network scales it to
//! the range the ImageNet weights expect ((255·x − 127) / 128, about [−1, 1]). It pools
//! globally, so any side works: the fracture models use the project's 256, ImageNet 224.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::fold_batch_norm;
use crate::NUM_CLASSES;

/// Batch-norm epsilon and momentum of the TensorFlow original (momentum in Burn's convention).
const BN_EPSILON: f64 = 1e-3;
const BN_MOMENTUM: f64 = 0.01;

/// One stage of mobile inverted bottlenecks: how many blocks, kernel side, stride of the first
/// block, expansion ratio and output channels.
struct Stage {
    repeats: usize,
    kernel: usize,
    stride: usize,
    expand: usize,
    channels: usize,
}

/// EfficientNet-B0's stages, which Lite0 keeps (width and depth multipliers 1.0).
const STAGES: [Stage; 7] = [
    Stage { repeats: 1, kernel: 3, stride: 1, expand: 1, channels: 16 },
    Stage { repeats: 2, kernel: 3, stride: 2, expand: 6, channels: 24 },
    Stage { repeats: 2, kernel: 5, stride: 2, expand: 6, channels: 40 },
    Stage { repeats: 3, kernel: 3, stride: 2, expand: 6, channels: 80 },
    Stage { repeats: 3, kernel: 5, stride: 1, expand: 6, channels: 112 },
    Stage { repeats: 4, kernel: 5, stride: 2, expand: 6, channels: 192 },
    Stage { repeats: 1, kernel: 3, stride: 1, expand: 6, channels: 320 },
];
const STEM_CHANNELS: usize = 32;
/// Width of the pooled features the classifier reads.
pub const FEATURES: usize = 1280;
/// The network's own input scaling, x · SCALE + OFFSET = (255·x − 127) / 128: [0, 1] → about [−1, 1].
pub const INPUT_SCALE: f32 = 255.0 / 128.0;
pub const INPUT_OFFSET: f32 = -127.0 / 128.0;
/// Number of mobile inverted bottleneck blocks (16).
pub const BLOCKS: usize = 16;

/// Configuration of [`EfficientNetLite`].
#[derive(Config, Debug, PartialEq)]
pub struct EfficientNetLiteConfig {
    /// Outputs of the final dense layer: 10 fracture classes, or 1000 for the ImageNet head.
    #[config(default = "NUM_CLASSES")]
    pub classes: usize,
    /// Dropout before the final dense layer.
    #[config(default = 0.2)]
    pub dropout: f64,
}

/// Convolution (no bias) → batch norm → ReLU6 when `activation`. After
/// [`EfficientNetLite::fold_batch_norm`] the norm is inside the convolution (`None`).
#[derive(Module, Debug)]
pub struct ConvBn {
    pub(crate) conv: Conv2d,
    pub(crate) norm: Option<BatchNorm>,
    pub(crate) activation: bool,
}

impl ConvBn {
    fn new(channels: [usize; 2], kernel: usize, stride: usize, groups: usize, activation: bool, device: &Device) -> Self {
        ConvBn {
            conv: Conv2dConfig::new(channels, [kernel, kernel])
                .with_stride([stride, stride])
                .with_groups(groups)
                .with_padding(PaddingConfig2d::Same)
                .with_bias(false)
                .init(device),
            norm: Some(BatchNormConfig::new(channels[1]).with_epsilon(BN_EPSILON).with_momentum(BN_MOMENTUM).init(device)),
            activation,
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.conv.forward(x);
        let x = match &self.norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        if self.activation {
            relu6(x)
        } else {
            x
        }
    }

    fn fold_batch_norm(self) -> Self {
        ConvBn { conv: fold_batch_norm(self.conv, self.norm), norm: None, ..self }
    }
}

/// ReLU6, min(max(x, 0), 6), as `relu` then `clamp_max`: the same values and gradients, and
/// on Burn 0.22's flex backend 4x faster than `activation::relu6`, whose `clamp` is a scalar
/// loop (0.36 against 1.5 ms on a 96x128x128 activation, one core; `relu` is vectorised).
fn relu6(x: Tensor<4>) -> Tensor<4> {
    relu(x).clamp_max(6.0)
}

/// Mobile inverted bottleneck: 1x1 expansion (absent when the ratio is 1), depthwise k×k,
/// 1x1 linear projection, and a residual connection when the shape is kept.
#[derive(Module, Debug)]
pub struct MbConv {
    pub(crate) expand: Option<ConvBn>,
    pub(crate) depthwise: ConvBn,
    pub(crate) project: ConvBn,
    pub(crate) residual: bool,
    /// Stochastic depth while training: the residual branch dropped for whole samples
    /// ([`EfficientNetLite::with_drop_path`]; `None`: never, as every loaded model).
    pub(crate) drop_path: Option<Dropout>,
}

impl MbConv {
    fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let x = match &self.expand {
            Some(expand) => expand.forward(input.clone()),
            None => input.clone(),
        };
        let x = self.project.forward(self.depthwise.forward(x));
        match (self.residual, &self.drop_path) {
            (true, Some(drop)) => drop_samples(drop, x) + input,
            (true, None) => x + input,
            (false, _) => x,
        }
    }
}

/// `x` with whole samples zeroed, each with the dropout's probability, and the rest scaled by
/// 1 / (1 − p), while the dropout trains (one mask value per sample, drawn by the dropout
/// itself, so freezing and inference turn it off as they turn off any dropout).
fn drop_samples(dropout: &Dropout, x: Tensor<4>) -> Tensor<4> {
    let [batch, ..] = x.dims();
    let mask = dropout.forward(Tensor::ones([batch, 1, 1, 1], &x.device()));
    x * mask
}

/// EfficientNet-Lite0: stem, 16 blocks, 1x1 head to 1280 channels, global average pooling,
/// dropout and a dense classifier.
#[derive(Module, Debug)]
pub struct EfficientNetLite {
    pub(crate) stem: ConvBn,
    pub(crate) blocks: Vec<MbConv>,
    pub(crate) head: ConvBn,
    dropout: Dropout,
    pub(crate) classifier: Linear,
}

impl EfficientNetLiteConfig {
    /// Builds the network with fresh weights (PyTorch's default initialisation).
    pub fn init(&self, device: &Device) -> EfficientNetLite {
        let mut blocks = Vec::with_capacity(BLOCKS);
        let mut channels = STEM_CHANNELS;
        for stage in &STAGES {
            for repeat in 0..stage.repeats {
                let stride = if repeat == 0 { stage.stride } else { 1 };
                let hidden = channels * stage.expand;
                blocks.push(MbConv {
                    expand: (stage.expand != 1).then(|| ConvBn::new([channels, hidden], 1, 1, 1, true, device)),
                    depthwise: ConvBn::new([hidden, hidden], stage.kernel, stride, hidden, true, device),
                    project: ConvBn::new([hidden, stage.channels], 1, 1, 1, false, device),
                    residual: stride == 1 && channels == stage.channels,
                    drop_path: None,
                });
                channels = stage.channels;
            }
        }
        EfficientNetLite {
            stem: ConvBn::new([3, STEM_CHANNELS], 3, 2, 1, true, device),
            blocks,
            head: ConvBn::new([channels, FEATURES], 1, 1, 1, true, device),
            dropout: DropoutConfig::new(self.dropout).init(),
            classifier: LinearConfig::new(FEATURES, self.classes).init(device),
        }
    }
}

/// Global average pooling: `[batch, c, h, w]` → `[batch, c]`.
fn pool(maps: Tensor<4>) -> Tensor<2> {
    maps.flatten::<3>(2, 3).mean_dim(2).squeeze_dim(2)
}

impl EfficientNetLite {
    /// # Shapes
    /// `[batch, 3, side, side]` in [0, 1] → `[batch, classes]` (logits)
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.classify(self.features(self.trunk(images, 0..BLOCKS)))
    }

    /// The stem and `blocks` of the convolutional trunk; `0..BLOCKS` is all of it. A range
    /// that does not start at 0 takes the output of the block before it instead of an image,
    /// so a frozen prefix can be computed once and the rest trained on its output.
    pub fn trunk(&self, x: Tensor<4>, blocks: std::ops::Range<usize>) -> Tensor<4> {
        let x = if blocks.start == 0 { self.stem.forward(x.mul_scalar(INPUT_SCALE).add_scalar(INPUT_OFFSET)) } else { x };
        self.blocks[blocks].iter().fold(x, |x, block| block.forward(x))
    }

    /// Head convolution and global average pooling of the trunk's output: `[batch, 1280]`.
    pub fn features(&self, trunk: Tensor<4>) -> Tensor<2> {
        pool(self.head.forward(trunk))
    }

    /// [`EfficientNetLite::forward`] that also returns the head's feature maps before pooling,
    /// `[batch, 1280, side / 32, side / 32]`, for [`EfficientNetLite::class_activation`].
    pub fn forward_with_maps(&self, images: Tensor<4>) -> (Tensor<2>, Tensor<4>) {
        let maps = self.head.forward(self.trunk(images, 0..BLOCKS));
        (self.classify(pool(maps.clone())), maps)
    }

    /// Class activation map of `class` (Zhou et al. 2016): the classifier's weights for that
    /// class applied to the feature maps, `[batch, h, w]`, unrectified. The class score is the
    /// average of this map plus the bias, so where it is high is where the evidence for the
    /// class lies. Behind global average pooling and one linear layer, this is Grad-CAM
    /// exactly (each map's gradient is its classifier weight over h·w), without a backward pass:
    /// it runs on any backend, in inference mode.
    pub fn class_activation(&self, maps: Tensor<4>, class: usize) -> Tensor<3> {
        let [batch, channels, h, w] = maps.dims();
        let weights = self.classifier.weight.val().slice([0..channels, class..class + 1]); // [1280, 1]
        (maps * weights.reshape([1, channels, 1, 1])).sum_dim(1).reshape([batch, h, w])
    }

    /// Dropout and the dense classifier on pooled features.
    pub fn classify(&self, features: Tensor<2>) -> Tensor<2> {
        self.classifier.forward(self.dropout.forward(features))
    }

    /// Stochastic depth (Huang et al. 2016) as EfficientNet was trained with it: block i's
    /// residual branch dropped for whole samples with probability `rate × i / 16` while
    /// training; blocks without a residual connection always run. Frozen blocks never drop
    /// (freezing turns their dropout off). Nothing is saved with the weights: a loaded model
    /// has none.
    pub fn with_drop_path(self, rate: f64) -> Self {
        let with_rate = |(i, block): (usize, MbConv)| MbConv {
            drop_path: (rate > 0.0 && block.residual).then(|| DropoutConfig::new(rate * i as f64 / BLOCKS as f64).init()),
            ..block
        };
        EfficientNetLite { blocks: self.blocks.into_iter().enumerate().map(with_rate).collect(), ..self }
    }

    /// Freezes all but the classifier (weights and batch-norm statistics).
    pub fn freeze_trunk(self) -> Self {
        EfficientNetLite {
            stem: self.stem.freeze(),
            blocks: self.blocks.into_iter().map(Module::freeze).collect(),
            head: self.head.freeze(),
            ..self
        }
    }

    /// Freezes the stem and the first `blocks` blocks; the rest, the head and the classifier
    /// stay trainable.
    pub fn freeze_first(self, blocks: usize) -> Self {
        EfficientNetLite {
            stem: self.stem.freeze(),
            blocks: self.blocks.into_iter().enumerate().map(|(i, b)| if i < blocks { b.freeze() } else { b }).collect(),
            ..self
        }
    }

    /// The same function with every batch norm folded into the convolution before it
    /// ([`fold_batch_norm`]): three fewer passes over each activation. For inference only:
    /// the result has no batch norm to train and its weights are laid out differently.
    pub fn fold_batch_norm(self) -> Self {
        let fold_block = |b: MbConv| MbConv {
            expand: b.expand.map(ConvBn::fold_batch_norm),
            depthwise: b.depthwise.fold_batch_norm(),
            project: b.project.fold_batch_norm(),
            ..b
        };
        EfficientNetLite {
            stem: self.stem.fold_batch_norm(),
            blocks: self.blocks.into_iter().map(fold_block).collect(),
            head: self.head.fold_batch_norm(),
            ..self
        }
    }

    /// A new classifier with `classes` outputs and fresh weights, the rest kept.
    pub fn with_new_classifier(self, classes: usize, device: &Device) -> Self {
        EfficientNetLite { classifier: LinearConfig::new(FEATURES, classes).init(device), ..self }
    }
}
