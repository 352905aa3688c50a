// The six ways the benchmark runs one network in the browser, behind one interface:
// `{ backend, run(images: Float32Array [batch, 3, side, side], batch) → Promise<Float32Array logits> }`.
// Every `run` takes the input from JavaScript memory and returns the logits there, so upload
// and read-back are inside every measurement.
import { tfjsModel } from './tfjs-model.mjs';

async function json(fetchBytes, url) {
  return JSON.parse(new TextDecoder().decode(await fetchBytes(url)));
}

/** This project: Burn through `bench-network` (src/bin/bench_network.rs), on WebGPU, flex (the page's CPU backend) or ndarray. */
async function burn(backend, model, fetchBytes, variant) {
  const ours = await import('/ours/bench-network.js');
  await ours.default();
  const card = new TextDecoder().decode(await fetchBytes(`/models/${model}/model.json`));
  const weights = await fetchBytes(`/models/${model}/model.bpk`);
  // The variant "bn" keeps batch norm as separate operations (before the worker folded it).
  const net = await ours.Network.load(card, weights, backend, variant !== 'bn');
  const name = backend === 'webgpu' ? `wgpu (${net.backend()})` : backend;
  const what = variant === 'bn' ? ', batch norm not folded' : '';
  return { backend: `Burn ${name}${what}`, run: (x, batch) => net.run(x, batch) };
}

/** ONNX Runtime Web on the exported model.onnx, with the wasm or the WebGPU execution provider. */
async function ort(provider, model, fetchBytes) {
  const ort = await import('/vendor/ort/ort.all.min.mjs');
  ort.env.wasm.wasmPaths = '/vendor/ort/';
  // A static host without cross-origin isolation headers (GitHub Pages) gets one thread.
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(await fetchBytes(`/export/${model}/model.onnx`), {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
  });
  return {
    backend: `ONNX Runtime Web ${ort.env.versions?.web ?? ''} (${provider})`,
    async run(x, batch) {
      const side = Math.sqrt(x.length / batch / 3);
      const out = await session.run({ images: new ort.Tensor('float32', x, [batch, 3, side, side]) });
      return out.logits.data;
    },
  };
}

/** TensorFlow.js with the wasm or WebGPU backend, on the exported layers (tfjs-model.mjs). */
async function tfjs(backend, model, fetchBytes) {
  const tf = window.tf;
  if (backend === 'wasm') tf.wasm.setWasmPaths('/vendor/tfjs-wasm/');
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js could not start its ${backend} backend`);
  await tf.ready();
  const layers = await json(fetchBytes, `/export/${model}/layers.json`);
  const weights = new Float32Array((await fetchBytes(`/export/${model}/weights.bin`)).buffer);
  const net = tfjsModel(tf, layers, weights);
  return {
    backend: `TensorFlow.js ${tf.version.tfjs} (${backend})`,
    async run(x, batch) {
      const out = tf.tidy(() => net(tf.tensor4d(x, [batch, 3, layers.side, layers.side])));
      const data = await out.data();
      out.dispose();
      return data;
    },
  };
}

/** `runtime` is one of RUNTIMES, or Burn's with a variant: `burn-flex+bn`. */
export async function loadRuntime(runtime, model, fetchBytes) {
  const [name, variant] = runtime.split('+');
  switch (name) {
    case 'burn-webgpu': return burn('webgpu', model, fetchBytes, variant);
    case 'burn-ndarray': return burn('ndarray', model, fetchBytes, variant);
    case 'burn-flex': return burn('flex', model, fetchBytes, variant);
    case 'ort-wasm': return ort('wasm', model, fetchBytes);
    case 'ort-webgpu': return ort('webgpu', model, fetchBytes);
    case 'tfjs-wasm': return tfjs('wasm', model, fetchBytes);
    case 'tfjs-webgpu': return tfjs('webgpu', model, fetchBytes);
    default: throw new Error(`unknown runtime ${runtime}`);
  }
}
