//! A [`Graph`] as `layers.json` plus `weights.bin` (all weights, little-endian `f32`, one
//! after another): a description any runtime can rebuild the network from. The TensorFlow.js
//! peer of the benchmarks (`bench/browser/tfjs-model.mjs`) does, the way TensorFlow.js'
//! converter would lay the network out (batch norm folded into the convolutions, NHWC).
//!
//! Each op is `{"op": "conv" | "batch_norm" | …, …}`; each weight is
//! `{"name", "shape", "offset"}` with `offset` counted in `f32`s into `weights.bin`.

use serde_json::{json, Value};

use super::{f32_le_bytes, Graph, Op, Weight};

/// `(layers.json, weights.bin)`.
pub fn write(graph: &Graph) -> (String, Vec<u8>) {
    let mut bin: Vec<u8> = Vec::new();
    let mut weight = |w: &Weight| {
        let offset = bin.len() / 4;
        bin.extend(f32_le_bytes(&w.values));
        json!({ "name": w.name, "shape": w.shape, "offset": offset })
    };
    let ops: Vec<Value> = graph
        .ops
        .iter()
        .map(|op| match op {
            Op::Affine { scale, offset } => json!({ "op": "affine", "scale": scale, "offset": offset }),
            Op::Conv { weight: w, bias, stride, groups, pads } => json!({
                "op": "conv", "weight": weight(w), "bias": bias.as_ref().map(&mut weight),
                "stride": stride, "groups": groups, "pads": pads,
            }),
            Op::BatchNorm { gamma, beta, mean, var, epsilon } => json!({
                "op": "batch_norm", "gamma": weight(gamma), "beta": weight(beta),
                "mean": weight(mean), "var": weight(var), "epsilon": epsilon,
            }),
            Op::Relu6 => json!({ "op": "relu6" }),
            Op::LeakyRelu { slope } => json!({ "op": "leaky_relu", "slope": slope }),
            Op::Save => json!({ "op": "save" }),
            Op::AddSaved => json!({ "op": "add_saved" }),
            Op::GlobalAveragePool => json!({ "op": "global_average_pool" }),
            Op::Flatten => json!({ "op": "flatten" }),
            Op::Dense { weight: w, bias } => json!({ "op": "dense", "weight": weight(w), "bias": weight(bias) }),
        })
        .collect();
    let doc = json!({
        "name": graph.name, "side": graph.side, "classes": graph.classes,
        "layout": "NCHW activations, OIHW kernels, [in, out] dense weights", "ops": ops,
    });
    (serde_json::to_string_pretty(&doc).expect("JSON"), bin)
}
