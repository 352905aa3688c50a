#!/usr/bin/env bash
# Runs every benchmark on this machine and writes BENCHMARKS.md (installing what is missing:
# Chromium, the npm peers, the Python peers, the builds):
#   1. browser inference: Burn (flex, ndarray, WebGPU) vs ONNX Runtime Web and TensorFlow.js (wasm,
#      WebGPU each) on the same exported network, weights and input (bench/inference.mjs);
#   2. native training: Burn (flex, ndarray, wgpu) vs Keras and PyTorch on the CPU, the same
#      network and batch (benches/train_throughput.rs, bench/training/peers.py);
#   3. the page: bytes over the wire, cold load → first prediction (scripts/bench-page.mjs),
#      and fine-tuning steps (scripts/bench-finetune.mjs).
# A machine with a real GPU appends its WebGPU figures with scripts/bench-gpu.sh.
# Usage: scripts/bench.sh [DATA_DIR]   (RUNS=20 inference runs, STEPS=6 training steps,
# SECTIONS="inference training page" to run some of them)
set -euo pipefail
source "$(dirname "$0")/tools.sh"
data="$(realpath -m "${1:-../shared/data/bone-break}")"
[ -d "$data" ] || { echo "no data folder at $data: pass the bone-break folder as the first argument" >&2; exit 2; }
sections="${SECTIONS:-inference training page}"
want() { [[ " $sections " == *" $1 "* ]]; }
steps="${STEPS:-6}"
need_debs chromium mesa-vulkan-drivers libvulkan1
need_web_tools
need_bench_python
build_bench_site
[ -f dist/index.html ] || trunk_wasm build --release
cargo bench --locked --bench train_throughput --no-run 2>/dev/null

out="$(mktemp)"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
version() { node -p "require('./node_modules/$1/package.json').version"; }
{
  echo "# Benchmarks"
  echo
  echo "Written by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d). Every figure on one machine:"
  gpu="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)"
  if [ -n "$gpu" ]; then
    echo "$cpu, $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), GPU: $gpu"
    echo "(WebGPU rows here use Chromium's default adapter; scripts/bench-gpu.sh passes the Vulkan flags)."
  else
    echo "$cpu, $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), no GPU"
    echo "(native wgpu on Mesa's software Vulkan, lavapipe; WebGPU in Chromium on SwiftShader)."
  fi
  echo
  echo "Versions: $(rustc --version | cut -d' ' -f1-2), Burn 0.22.1, $(chromium --version 2>/dev/null | head -1),"
  echo "ONNX Runtime Web $(version onnxruntime-web), TensorFlow.js $(version @tensorflow/tfjs), Node.js $(node --version),"
  echo "$("$BENCH_VENV/bin/python" -c 'import tensorflow as tf, torch, keras; print(f"TensorFlow {tf.__version__} (Keras {keras.__version__}), PyTorch {torch.__version__}")' 2>/dev/null)."
  if want inference; then
  echo
  echo "## Browser inference"
  echo
  echo "The same network, weights and input in one headless Chromium: \`fracture export\` writes the"
  echo "shipped model as ONNX and as layers for TensorFlow.js (built as its converter lays a graph model out:"
  echo "batch norm folded, bias and activation fused). Each runtime's logits are first checked against Burn's"
  echo "native ones (max |Δ logit| below; the test command checks < 1e-3). Times are one \`run\` from a"
  echo "Float32Array to logits in JavaScript memory (upload and read-back included), single-threaded wasm"
  echo "(no cross-origin isolation, as on a static host). × fastest peer compares with the faster of ONNX"
  echo "Runtime Web and TensorFlow.js of the same kind (CPU or WebGPU)."
  echo "On SwiftShader a WebGPU batch of 8 takes 20–40 s, so those rows have ${WEBGPU_BATCH_RUNS:-5} runs; the seed CNN"
  echo "is measured on the CPU runtimes only."
  WEBGPU_BATCH_RUNS="${WEBGPU_BATCH_RUNS:-5}" node bench/inference.mjs "$BENCH_SITE" efficientnet-lite0
  ONLY=burn-flex,burn-ndarray,ort-wasm,tfjs-wasm node bench/inference.mjs "$BENCH_SITE" seed-cnn
  fi
  if want training; then
  echo
  echo "## Native training"
  echo
  echo "The reference notebook's CNN (256x256 inputs, batch 32, Adam 5e-4), one training step on 32 X-rays"
  echo "from \`$(basename "$data")\`, $steps timed steps after one warm-up step, one process per row (peak RSS is that"
  echo "process's own, framework included)."
  echo
  echo "| framework | batch | steps | images/s | ms/step | peak RSS (MiB) | × Keras |"
  echo "|---|---|---|---|---|---|---|"
  rows=()
  for backend in flex cpu wgpu; do
    rows+=("$(cargo bench --locked --bench train_throughput -q -- "$backend" --data "$data" --steps "$steps")")
  done
  for framework in keras torch; do
    rows+=("$("$BENCH_VENV/bin/python" bench/training/peers.py "$framework" "$data" "$steps" 2>/dev/null)")
  done
  keras="$(printf '%s\n' "${rows[@]}" | awk -F'\t' '/^Keras/ { print $4 }')"
  for row in "${rows[@]}"; do
    IFS=$'\t' read -r name batch n ips ms mem <<<"$row"
    case "$name" in
      flex) name="**Burn flex (CPU)**" ;; cpu) name="**Burn ndarray (CPU)**" ;; wgpu) name="**Burn wgpu (Mesa lavapipe)**" ;;
    esac
    echo "| $name | $batch | $n | $ips | $ms | $mem | $(awk -v a="$ips" -v k="$keras" 'BEGIN { printf "%.2f", a / k }') |"
  done
  fi
  if want page; then
  echo
  echo "## The page"
  echo
  echo "The release build (\`trunk build --release\`) in headless Chromium with the default model: a fresh"
  echo "profile for the cold load, then the same upload 20 times (decode, resize and the network, in the worker)."
  echo
  echo "| file | raw | gzip |"
  echo "|---|---|---|"
  node scripts/bench-page.mjs
  echo
  echo "Fine-tuning in the page on the CPU backend: the demo set, batch 16, each run stopped after its"
  echo "third step; images/s as the page reports it (the first step's warm-up included). WebGPU fine-tuning"
  echo "is measured by scripts/bench-gpu.sh on a machine with a GPU."
  echo
  BACKENDS=cpu node scripts/bench-finetune.mjs
  fi
} | tee "$out"
mv "$out" BENCHMARKS.md
echo "wrote BENCHMARKS.md"
