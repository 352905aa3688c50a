//! Exporting a trained network to other runtimes, so that the benchmarks can run the same
//! network with the same weights in ONNX Runtime Web and TensorFlow.js.
//!
//! The network is first flattened into a [`Graph`]: the inference-time operations in order,
//! with their weights as plain `f32` arrays in Burn's layouts (NCHW activations, OIHW kernels,
//! `[in, out]` dense weights). [`onnx::write`] turns it into an ONNX model; [`layers`] writes
//! it as JSON plus one little-endian `f32` file, which `bench/browser/tfjs-model.mjs` builds
//! into TensorFlow.js operations. Dropout is left out (it is the identity at inference).

pub mod layers;
pub mod onnx;

use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Linear, PaddingConfig2d};
use burn::prelude::*;

use crate::data::INPUT_SIZE;
use crate::model::efficientnet::{ConvBn, EfficientNetLite, INPUT_OFFSET, INPUT_SCALE};
use crate::model::{Classifier, SeedCnn};

/// A named weight tensor.
#[derive(Debug, Clone)]
pub struct Weight {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// One inference-time operation on the running activation.
#[derive(Debug, Clone)]
pub enum Op {
    /// `x · scale + offset`, elementwise.
    Affine { scale: f32, offset: f32 },
    /// 2-D convolution; `pads` is `[top, left, bottom, right]`, already resolved for the input
    /// size (TensorFlow's asymmetric "same" padding included).
    Conv { weight: Weight, bias: Option<Weight>, stride: usize, groups: usize, pads: [usize; 4] },
    /// Batch normalisation with running statistics.
    BatchNorm { gamma: Weight, beta: Weight, mean: Weight, var: Weight, epsilon: f32 },
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `x` when positive, else `slope · x`.
    LeakyRelu { slope: f32 },
    /// Remembers the running activation for the next [`Op::AddSaved`] (a residual connection).
    Save,
    /// Adds the activation remembered by the last [`Op::Save`].
    AddSaved,
    /// `[n, c, h, w]` → `[n, c]`, the mean over h and w.
    GlobalAveragePool,
    /// `[n, c, h, w]` → `[n, c·h·w]` in channel-major (NCHW) order.
    Flatten,
    /// `x · weight + bias`, weight `[in, out]`.
    Dense { weight: Weight, bias: Weight },
}

/// A network as a straight line of operations, from `[batch, 3, side, side]` in [0, 1] to
/// `[batch, classes]` logits.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Architecture name (`seed-cnn`, `efficientnet-lite0`).
    pub name: String,
    /// Side of the square input.
    pub side: usize,
    pub classes: usize,
    pub ops: Vec<Op>,
}

/// Flattens `model` into a [`Graph`] for the project's `INPUT_SIZE` inputs, reading its
/// weights (native: the reads are synchronous).
pub fn graph(model: &Classifier) -> Result<Graph, String> {
    let mut builder = Builder { ops: Vec::new(), side: INPUT_SIZE };
    let name = match model {
        Classifier::EfficientNet(model) => {
            builder.efficientnet(model);
            "efficientnet-lite0"
        }
        Classifier::SeedCnn(model) => {
            builder.seed_cnn(model);
            "seed-cnn"
        }
        Classifier::Mlp(_) => return Err("the MLP is not exported (it is not shipped)".into()),
    };
    let classes = match builder.ops.last() {
        Some(Op::Dense { bias, .. }) => bias.shape[0],
        _ => unreachable!("every exported network ends with a dense layer"),
    };
    Ok(Graph { name: name.into(), side: INPUT_SIZE, classes, ops: builder.ops })
}

struct Builder {
    ops: Vec<Op>,
    /// Spatial side of the running activation.
    side: usize,
}

/// `values` as little-endian bytes, the layout of ONNX's `raw_data`, `weights.bin` and `input.bin`.
pub fn f32_le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn weight<const D: usize>(name: String, tensor: Tensor<D>) -> Weight {
    let shape = tensor.dims().to_vec();
    let values = tensor.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32 weights");
    Weight { name, shape, values }
}

impl Builder {
    fn efficientnet(&mut self, model: &EfficientNetLite) {
        self.ops.push(Op::Affine { scale: INPUT_SCALE, offset: INPUT_OFFSET });
        self.conv_bn("stem", &model.stem);
        for (i, block) in model.blocks.iter().enumerate() {
            if block.residual {
                self.ops.push(Op::Save);
            }
            if let Some(expand) = &block.expand {
                self.conv_bn(&format!("blocks.{i}.expand"), expand);
            }
            self.conv_bn(&format!("blocks.{i}.depthwise"), &block.depthwise);
            self.conv_bn(&format!("blocks.{i}.project"), &block.project);
            if block.residual {
                self.ops.push(Op::AddSaved);
            }
        }
        self.conv_bn("head", &model.head);
        self.ops.push(Op::GlobalAveragePool);
        self.dense("classifier", &model.classifier);
    }

    fn seed_cnn(&mut self, model: &SeedCnn) {
        for (i, block) in model.blocks.iter().enumerate() {
            self.conv(&format!("blocks.{i}.conv"), &block.conv);
            if let Some(norm) = &block.norm {
                self.batch_norm(&format!("blocks.{i}.norm"), norm);
            }
            self.ops.push(Op::LeakyRelu { slope: block.activation.negative_slope as f32 });
        }
        self.ops.push(Op::Flatten);
        self.dense("hidden", &model.hidden);
        self.dense("output", &model.output);
    }

    fn conv_bn(&mut self, name: &str, layer: &ConvBn) {
        self.conv(&format!("{name}.conv"), &layer.conv);
        if let Some(norm) = &layer.norm {
            self.batch_norm(&format!("{name}.norm"), norm);
        }
        if layer.activation {
            self.ops.push(Op::Relu6);
        }
    }

    fn conv(&mut self, name: &str, conv: &Conv2d) {
        let [kernel, _] = conv.kernel_size;
        let [stride, _] = conv.stride;
        let (before, after, out) = match conv.padding {
            PaddingConfig2d::Same => {
                let out = self.side.div_ceil(stride);
                let total = ((out - 1) * stride + kernel).saturating_sub(self.side);
                (total / 2, total - total / 2, out)
            }
            PaddingConfig2d::Valid => (0, 0, (self.side - kernel) / stride + 1),
            PaddingConfig2d::Explicit(a, b, c, d) => {
                assert!(a == b && b == c && c == d, "only uniform explicit padding is exported");
                (a, a, (self.side + 2 * a - kernel) / stride + 1)
            }
        };
        self.side = out;
        self.ops.push(Op::Conv {
            weight: weight(format!("{name}.weight"), conv.weight.val()),
            bias: conv.bias.as_ref().map(|b| weight(format!("{name}.bias"), b.val())),
            stride,
            groups: conv.groups,
            pads: [before, before, after, after],
        });
    }

    fn batch_norm(&mut self, name: &str, norm: &BatchNorm) {
        self.ops.push(Op::BatchNorm {
            gamma: weight(format!("{name}.gamma"), norm.gamma.val()),
            beta: weight(format!("{name}.beta"), norm.beta.val()),
            mean: weight(format!("{name}.running_mean"), norm.running_mean.value()),
            var: weight(format!("{name}.running_var"), norm.running_var.value()),
            epsilon: norm.epsilon as f32,
        });
    }

    fn dense(&mut self, name: &str, linear: &Linear) {
        let bias = linear.bias.as_ref().expect("dense layers have a bias").val();
        self.ops.push(Op::Dense {
            weight: weight(format!("{name}.weight"), linear.weight.val()),
            bias: weight(format!("{name}.bias"), bias),
        });
    }
}
