//! A [`Graph`] as an ONNX model (IR version 8, opset 17), written with a minimal protobuf
//! encoder: the handful of messages and fields of `onnx.proto` a feed-forward graph needs.
//!
//! Input `images: [batch, 3, side, side]` (float, [0, 1]), output `logits: [batch, classes]`.
//! Batch normalisation stays a `BatchNormalization` node; runtimes fold it into the
//! convolution themselves when they load the model.

use super::{f32_le_bytes, Graph, Op, Weight};

/// Field numbers of `onnx.proto` used here.
mod field {
    pub const MODEL_IR_VERSION: u32 = 1;
    pub const MODEL_PRODUCER_NAME: u32 = 2;
    pub const MODEL_GRAPH: u32 = 7;
    pub const MODEL_OPSET_IMPORT: u32 = 8;
    pub const OPSET_VERSION: u32 = 2;
    pub const GRAPH_NODE: u32 = 1;
    pub const GRAPH_NAME: u32 = 2;
    pub const GRAPH_INITIALIZER: u32 = 5;
    pub const GRAPH_INPUT: u32 = 11;
    pub const GRAPH_OUTPUT: u32 = 12;
    pub const NODE_INPUT: u32 = 1;
    pub const NODE_OUTPUT: u32 = 2;
    pub const NODE_NAME: u32 = 3;
    pub const NODE_OP_TYPE: u32 = 4;
    pub const NODE_ATTRIBUTE: u32 = 5;
    pub const ATTR_NAME: u32 = 1;
    pub const ATTR_F: u32 = 2;
    pub const ATTR_I: u32 = 3;
    pub const ATTR_INTS: u32 = 8;
    pub const ATTR_TYPE: u32 = 20;
    pub const TENSOR_DIMS: u32 = 1;
    pub const TENSOR_DATA_TYPE: u32 = 2;
    pub const TENSOR_NAME: u32 = 8;
    pub const TENSOR_RAW_DATA: u32 = 9;
    pub const VALUE_NAME: u32 = 1;
    pub const VALUE_TYPE: u32 = 2;
    pub const TYPE_TENSOR: u32 = 1;
    pub const TENSOR_TYPE_ELEM: u32 = 1;
    pub const TENSOR_TYPE_SHAPE: u32 = 2;
    pub const SHAPE_DIM: u32 = 1;
    pub const DIM_VALUE: u32 = 1;
    pub const DIM_PARAM: u32 = 2;
}

const IR_VERSION: u64 = 8;
const OPSET: u64 = 17;
const FLOAT: u64 = 1;
const ATTR_FLOAT: u64 = 1;
const ATTR_INT: u64 = 2;
const ATTR_INTS: u64 = 7;

/// A protobuf message being written.
#[derive(Default)]
struct Message(Vec<u8>);

impl Message {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn key(&mut self, field: u32, wire: u8) {
        self.varint(((field as u64) << 3) | wire as u64);
    }
    fn int(&mut self, field: u32, v: u64) -> &mut Self {
        self.key(field, 0);
        self.varint(v);
        self
    }
    fn float(&mut self, field: u32, v: f32) -> &mut Self {
        self.key(field, 5);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn bytes(&mut self, field: u32, bytes: &[u8]) -> &mut Self {
        self.key(field, 2);
        self.varint(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
        self
    }
    fn string(&mut self, field: u32, s: &str) -> &mut Self {
        self.bytes(field, s.as_bytes())
    }
    fn message(&mut self, field: u32, m: Message) -> &mut Self {
        self.bytes(field, &m.0)
    }
}

enum Attr {
    Int(i64),
    Float(f32),
    Ints(Vec<i64>),
}

fn attribute(name: &str, value: Attr) -> Message {
    let mut m = Message::default();
    m.string(field::ATTR_NAME, name);
    match value {
        Attr::Int(i) => m.int(field::ATTR_I, i as u64).int(field::ATTR_TYPE, ATTR_INT),
        Attr::Float(f) => m.float(field::ATTR_F, f).int(field::ATTR_TYPE, ATTR_FLOAT),
        Attr::Ints(ints) => {
            for i in ints {
                m.int(field::ATTR_INTS, i as u64);
            }
            m.int(field::ATTR_TYPE, ATTR_INTS)
        }
    };
    m
}

fn tensor(name: &str, shape: &[usize], values: &[f32]) -> Message {
    let mut m = Message::default();
    for &d in shape {
        m.int(field::TENSOR_DIMS, d as u64);
    }
    m.int(field::TENSOR_DATA_TYPE, FLOAT).string(field::TENSOR_NAME, name);
    m.bytes(field::TENSOR_RAW_DATA, &f32_le_bytes(values));
    m
}

/// A float tensor's name and shape; `None` dimensions are the symbolic batch size.
fn value_info(name: &str, dims: &[Option<usize>]) -> Message {
    let mut shape = Message::default();
    for d in dims {
        let mut dim = Message::default();
        match d {
            Some(v) => dim.int(field::DIM_VALUE, *v as u64),
            None => dim.string(field::DIM_PARAM, "batch"),
        };
        shape.message(field::SHAPE_DIM, dim);
    }
    let mut tensor_type = Message::default();
    tensor_type.int(field::TENSOR_TYPE_ELEM, FLOAT).message(field::TENSOR_TYPE_SHAPE, shape);
    let mut ty = Message::default();
    ty.message(field::TYPE_TENSOR, tensor_type);
    let mut m = Message::default();
    m.string(field::VALUE_NAME, name).message(field::VALUE_TYPE, ty);
    m
}

/// Collects nodes and initializers while walking the graph.
struct GraphWriter {
    graph: Message,
    count: usize,
}

impl GraphWriter {
    fn initializer(&mut self, w: &Weight) -> String {
        self.graph.message(field::GRAPH_INITIALIZER, tensor(&w.name, &w.shape, &w.values));
        w.name.clone()
    }

    fn constant(&mut self, name: String, value: f32) -> String {
        self.graph.message(field::GRAPH_INITIALIZER, tensor(&name, &[], &[value]));
        name
    }

    /// Adds a node; returns its output's name.
    fn node(&mut self, op: &str, inputs: &[String], attrs: Vec<(&str, Attr)>) -> String {
        self.count += 1;
        let output = format!("{}_{}", op.to_lowercase(), self.count);
        let mut node = Message::default();
        for input in inputs {
            node.string(field::NODE_INPUT, input);
        }
        node.string(field::NODE_OUTPUT, &output).string(field::NODE_NAME, &output).string(field::NODE_OP_TYPE, op);
        for (name, value) in attrs {
            node.message(field::NODE_ATTRIBUTE, attribute(name, value));
        }
        self.graph.message(field::GRAPH_NODE, node);
        output
    }
}

/// The ONNX model's bytes.
pub fn write(graph: &Graph) -> Vec<u8> {
    let mut g = GraphWriter { graph: Message::default(), count: 0 };
    g.graph.string(field::GRAPH_NAME, &graph.name);
    let mut x = "images".to_string();
    let mut saved = Vec::new();
    for (i, op) in graph.ops.iter().enumerate() {
        x = match op {
            Op::Affine { scale, offset } => {
                let scale = g.constant(format!("affine_{i}.scale"), *scale);
                let offset = g.constant(format!("affine_{i}.offset"), *offset);
                let scaled = g.node("Mul", &[x, scale], vec![]);
                g.node("Add", &[scaled, offset], vec![])
            }
            Op::Conv { weight, bias, stride, groups, pads } => {
                let mut inputs = vec![x, g.initializer(weight)];
                inputs.extend(bias.as_ref().map(|b| g.initializer(b)));
                let kernel = weight.shape[2] as i64;
                let attrs = vec![
                    ("kernel_shape", Attr::Ints(vec![kernel, kernel])),
                    ("strides", Attr::Ints(vec![*stride as i64; 2])),
                    ("pads", Attr::Ints(pads.iter().map(|&p| p as i64).collect())),
                    ("group", Attr::Int(*groups as i64)),
                ];
                g.node("Conv", &inputs, attrs)
            }
            Op::BatchNorm { gamma, beta, mean, var, epsilon } => {
                let inputs = [x, g.initializer(gamma), g.initializer(beta), g.initializer(mean), g.initializer(var)];
                g.node("BatchNormalization", &inputs, vec![("epsilon", Attr::Float(*epsilon))])
            }
            Op::Relu6 => {
                let low = g.constant(format!("relu6_{i}.min"), 0.0);
                let high = g.constant(format!("relu6_{i}.max"), 6.0);
                g.node("Clip", &[x, low, high], vec![])
            }
            Op::LeakyRelu { slope } => g.node("LeakyRelu", &[x], vec![("alpha", Attr::Float(*slope))]),
            Op::Save => {
                saved.push(x.clone());
                x
            }
            Op::AddSaved => {
                let residual = saved.pop().expect("AddSaved follows a Save");
                g.node("Add", &[x, residual], vec![])
            }
            Op::GlobalAveragePool => {
                let pooled = g.node("GlobalAveragePool", &[x], vec![]);
                g.node("Flatten", &[pooled], vec![("axis", Attr::Int(1))])
            }
            Op::Flatten => g.node("Flatten", &[x], vec![("axis", Attr::Int(1))]),
            Op::Dense { weight, bias } => {
                let inputs = [x, g.initializer(weight), g.initializer(bias)];
                g.node("Gemm", &inputs, vec![])
            }
        };
    }
    // Name the last node's output `logits`: an Identity keeps the node names simple.
    let logits = "logits".to_string();
    let mut identity = Message::default();
    identity
        .string(field::NODE_INPUT, &x)
        .string(field::NODE_OUTPUT, &logits)
        .string(field::NODE_NAME, "logits")
        .string(field::NODE_OP_TYPE, "Identity");
    g.graph.message(field::GRAPH_NODE, identity);
    g.graph.message(field::GRAPH_INPUT, value_info("images", &[None, Some(3), Some(graph.side), Some(graph.side)]));
    g.graph.message(field::GRAPH_OUTPUT, value_info(&logits, &[None, Some(graph.classes)]));

    let mut opset = Message::default();
    opset.int(field::OPSET_VERSION, OPSET);
    let mut model = Message::default();
    model
        .int(field::MODEL_IR_VERSION, IR_VERSION)
        .string(field::MODEL_PRODUCER_NAME, "bone-fracture")
        .message(field::MODEL_OPSET_IMPORT, opset)
        .message(field::MODEL_GRAPH, g.graph);
    model.0
}
