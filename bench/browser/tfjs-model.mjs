// The exported network (`fracture export`: layers.json + weights.bin) as TensorFlow.js
// operations, laid out as TensorFlow.js' own converter lays out a graph model: NHWC
// activations, batch normalisation folded into the convolution before it, and the bias and
// activation fused into the convolution or matrix product (tf.fused.*).

/** `weight` ({shape, offset}) as a Float32Array view of `weights`. */
function values(weights, weight) {
  const n = weight.shape.reduce((a, b) => a * b, 1);
  return weights.subarray(weight.offset, weight.offset + n);
}

/** A convolution with the batch norm after it folded in: kernel HWIO (or HWC1 when depthwise) and bias. */
function foldConv(tf, weights, conv, norm) {
  const [out, inPerGroup, kh, kw] = conv.weight.shape;
  const w = values(weights, conv.weight);
  const bias = conv.bias ? Float32Array.from(values(weights, conv.bias)) : new Float32Array(out);
  const scale = new Float32Array(out).fill(1);
  if (norm) {
    const [gamma, beta, mean, variance] = [norm.gamma, norm.beta, norm.mean, norm.var].map((p) => values(weights, p));
    for (let o = 0; o < out; o++) {
      scale[o] = gamma[o] / Math.sqrt(variance[o] + norm.epsilon);
      bias[o] = (bias[o] - mean[o]) * scale[o] + beta[o];
    }
  }
  const depthwise = conv.groups > 1;
  if (depthwise && (conv.groups !== out || inPerGroup !== 1)) throw new Error('only depthwise grouped convolutions are supported');
  // OIHW → HWIO (regular) or HWC1 (depthwise: O = C, I = 1).
  const kernel = new Float32Array(w.length);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inPerGroup; i++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) {
          const from = ((o * inPerGroup + i) * kh + y) * kw + x;
          const to = depthwise ? ((y * kw + x) * out + o) : (((y * kw + x) * inPerGroup + i) * out + o);
          kernel[to] = w[from] * scale[o];
        }
  const shape = depthwise ? [kh, kw, out, 1] : [kh, kw, inPerGroup, out];
  return { kernel: tf.tensor4d(kernel, shape), bias: tf.tensor1d(bias), depthwise, stride: conv.stride, pads: conv.pads, kernelSide: kh };
}

/** TensorFlow's padding name for `pads` ([top, left, bottom, right]) on a `side` input, or explicit padding. */
function padding(pads, side, kernel, stride) {
  if (pads.every((p) => p === 0)) return 'valid';
  const out = Math.ceil(side / stride);
  const total = Math.max((out - 1) * stride + kernel - side, 0);
  const same = [Math.floor(total / 2), Math.floor(total / 2), total - Math.floor(total / 2), total - Math.floor(total / 2)];
  if (pads.every((p, i) => p === same[i])) return 'same';
  return [[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]];
}

/**
 * Builds the network once (weights uploaded to the backend) and returns `forward(x)`:
 * `[batch, 3, side, side]` (NCHW, as every runtime in the benchmark gets it) → logits `[batch, classes]`.
 * Call it inside `tf.tidy`.
 */
export function tfjsModel(tf, layers, weights) {
  const steps = [];
  const ops = layers.ops;
  let side = layers.side;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    switch (op.op) {
      case 'affine': steps.push((x) => x.mul(op.scale).add(op.offset)); break;
      case 'conv': {
        const norm = ops[i + 1]?.op === 'batch_norm' ? ops[++i] : null;
        const next = ops[i + 1]?.op;
        const activation = next === 'relu6' ? 'relu6' : next === 'leaky_relu' ? 'leakyrelu' : 'linear';
        const leakyreluAlpha = next === 'leaky_relu' ? ops[i + 1].slope : undefined;
        if (activation !== 'linear') i++;
        const c = foldConv(tf, weights, op, norm);
        const pad = padding(c.pads, side, c.kernelSide, c.stride);
        side = pad === 'valid' ? Math.floor((side - c.kernelSide) / c.stride) + 1
          : pad === 'same' ? Math.ceil(side / c.stride)
            : Math.floor((side + c.pads[0] + c.pads[2] - c.kernelSide) / c.stride) + 1;
        const args = { filter: c.kernel, strides: c.stride, pad, dataFormat: 'NHWC', bias: c.bias, activation, leakyreluAlpha };
        steps.push(c.depthwise ? (x) => tf.fused.depthwiseConv2d({ x, ...args }) : (x) => tf.fused.conv2d({ x, ...args }));
        break;
      }
      case 'batch_norm': throw new Error('a batch norm that follows no convolution is not supported');
      case 'relu6': steps.push((x) => tf.relu6(x)); break;
      case 'leaky_relu': steps.push((x) => tf.leakyRelu(x, op.slope)); break;
      case 'save': steps.push((x, saved) => { saved.push(x); return x; }); break;
      case 'add_saved': steps.push((x, saved) => x.add(saved.pop())); break;
      case 'global_average_pool': steps.push((x) => tf.mean(x, [1, 2])); break;
      // Channel-major, as the exported dense weights expect.
      case 'flatten': steps.push((x) => x.transpose([0, 3, 1, 2]).reshape([x.shape[0], -1])); break;
      case 'dense': {
        const b = tf.tensor2d(values(weights, op.weight), op.weight.shape);
        const bias = tf.tensor1d(values(weights, op.bias));
        steps.push((x) => tf.fused.matMul({ a: x, b, bias }));
        break;
      }
      default: throw new Error(`unknown op ${op.op}`);
    }
  }
  return (images) => {
    const saved = [];
    return steps.reduce((x, step) => step(x, saved), images.transpose([0, 2, 3, 1]));
  };
}
