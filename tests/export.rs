//! `fracture export`'s graph and writers, natively. That the exported files compute the same
//! logits as Burn is checked in the browser by tests/e2e/peers.test.mjs (ONNX Runtime Web and
//! TensorFlow.js); here: the graph has the network's structure, padding and shapes, and the
//! writers account for every weight.

use bone_fracture::export::{graph, layers, onnx, Op};
use bone_fracture::model::Architecture;
use burn::tensor::Device;

fn kinds(ops: &[Op]) -> Vec<&'static str> {
    ops.iter()
        .map(|op| match op {
            Op::Affine { .. } => "affine",
            Op::Conv { .. } => "conv",
            Op::BatchNorm { .. } => "bn",
            Op::Relu6 => "relu6",
            Op::LeakyRelu { .. } => "leaky",
            Op::Save => "save",
            Op::AddSaved => "add",
            Op::GlobalAveragePool => "pool",
            Op::Flatten => "flatten",
            Op::Dense { .. } => "dense",
        })
        .collect()
}

#[test]
fn the_seed_cnn_exports_as_four_conv_blocks_and_two_dense_layers() {
    let device = Device::flex();
    let g = graph(&Architecture::seed_cnn().init(&device)).expect("exportable");
    let block = ["conv", "bn", "leaky"];
    let expected: Vec<&str> = block.repeat(4).into_iter().chain(["flatten", "dense", "dense"]).collect();
    assert_eq!(kinds(&g.ops), expected);
    let Op::Conv { weight, pads, stride, .. } = &g.ops[0] else { unreachable!() };
    assert_eq!((weight.shape.as_slice(), *pads, *stride), (&[32, 3, 3, 3][..], [0; 4], 2), "Keras' valid padding");
    let Some(Op::Dense { weight, .. }) = g.ops.iter().find(|op| matches!(op, Op::Dense { .. })) else { unreachable!() };
    assert_eq!(weight.shape, vec![256 * 15 * 15, 100]);
    assert_eq!(g.classes, 10);
}

#[test]
fn efficientnet_exports_with_tensorflow_same_padding_and_nine_residuals() {
    let device = Device::flex();
    let g = graph(&Architecture::efficientnet_lite0().init(&device)).expect("exportable");
    let k = kinds(&g.ops);
    assert_eq!(k.iter().filter(|&&o| o == "save").count(), 9);
    assert_eq!(k.iter().filter(|&&o| o == "add").count(), 9);
    assert_eq!(
        k.iter().filter(|&&o| o == "conv").count(),
        1 + 15 * 3 + 2 + 1,
        "stem, 15 blocks with expansion, the first without, head"
    );
    assert_eq!(k.first(), Some(&"affine"));
    assert_eq!(&k[k.len() - 2..], &["pool", "dense"]);
    // Stem: 3x3 stride 2 on 256 → 128, TensorFlow's "same" pads 0 before and 1 after.
    let Op::Conv { pads, stride, .. } = &g.ops[1] else { panic!("the stem follows the input scaling") };
    assert_eq!((*pads, *stride), ([0, 0, 1, 1], 2));
    // A 5x5 stride-1 depthwise convolution pads 2 on every side, and is grouped by channel.
    let depthwise_5x5 = g.ops.iter().find_map(|op| match op {
        Op::Conv { weight, groups, pads, stride: 1, .. } if weight.shape[2] == 5 => Some((*groups, weight.shape[0], *pads)),
        _ => None,
    });
    let (groups, channels, pads) = depthwise_5x5.expect("a 5x5 stride-1 depthwise layer");
    assert_eq!((groups, pads), (channels, [2; 4]));
}

#[test]
fn the_writers_account_for_every_weight() {
    let device = Device::flex();
    let g = graph(&Architecture::seed_cnn().init(&device)).unwrap();
    let weights: usize = g
        .ops
        .iter()
        .flat_map(|op| match op {
            Op::Conv { weight, bias, .. } => vec![Some(weight), bias.as_ref()],
            Op::BatchNorm { gamma, beta, mean, var, .. } => vec![Some(gamma), Some(beta), Some(mean), Some(var)],
            Op::Dense { weight, bias } => vec![Some(weight), Some(bias)],
            _ => vec![],
        })
        .flatten()
        .map(|w| w.values.len())
        .sum();

    let (json, bin) = layers::write(&g);
    assert_eq!(bin.len(), weights * 4, "weights.bin holds every weight once, as f32");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let last = doc["ops"].as_array().unwrap().last().unwrap()["bias"]["offset"].as_u64().unwrap() as usize;
    assert_eq!(last + 10, weights, "the last weight (the output bias, 10 values) ends the file");

    let model = onnx::write(&g);
    // ModelProto starts with ir_version (field 1, varint) = 8, and holds the raw weights.
    assert_eq!(&model[..2], &[0x08, 0x08]);
    assert!(model.len() > weights * 4 && model.len() < weights * 4 + 10_000, "{} bytes", model.len());
    let conv_nodes = model.windows(4).filter(|w| w == b"Conv").count();
    assert_eq!(conv_nodes, 4, "four Conv nodes (node names are lower-case)");
}
