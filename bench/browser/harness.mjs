// The page side of the inference benchmark: loads one runtime with one exported model and
// times it on the model's preprocessed input. Node drives it through `window.harness`
// (bench/harness.mjs). Every runtime gets the same Float32Array and returns logits.
import { loadRuntime } from './runtimes.mjs';

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** The model's preprocessed input, repeated `batch` times. */
async function input(model, batch) {
  const one = new Float32Array((await fetchBytes(`/export/${model}/input.bin`)).buffer);
  const all = new Float32Array(one.length * batch);
  for (let i = 0; i < batch; i++) all.set(one, i * one.length);
  return all;
}

let loaded = null;

window.harness = {
  /** Loads `runtime` (e.g. "ort-wasm") with `model`; returns what it runs on and the load time. */
  async load(runtime, model) {
    const start = performance.now();
    loaded = { runtime, model, net: await loadRuntime(runtime, model, fetchBytes) };
    return { backend: loaded.net.backend, loadMs: performance.now() - start };
  },
  /** Logits for the input as a batch of `batch`, as a plain array. */
  async logits(batch = 1) {
    return Array.from(await loaded.net.run(await input(loaded.model, batch), batch));
  },
  /** `warmup` untimed runs, then `runs` timed ones (ms each, input upload and output read included). */
  async time(batch, runs, warmup = 2) {
    const x = await input(loaded.model, batch);
    for (let i = 0; i < warmup; i++) await loaded.net.run(x, batch);
    const times = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await loaded.net.run(x, batch);
      times.push(performance.now() - start);
    }
    return times;
  },
};
window.harnessReady = true;
